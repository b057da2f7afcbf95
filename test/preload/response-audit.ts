// Test preload: every response of an Ephemail app the suite sees is checked against openapi.yaml; a difference fails the test that saw it.

import { afterAll, afterEach, mock } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CompatApi } from '#core/compat.ts'
import * as appModule from '#server/http/app.ts'
import { loadResponseContract, type ResponseContract } from '../support/response-audit/contract.ts'
import {
  type AuditedServer,
  compatRule,
  createResponseAudit,
  describeViolations,
  installAudit,
  type ScopeRule,
} from '../support/response-audit/recorder.ts'

/** How long a test's end waits for checks still reading a body; later ones fail the run at its end. */
const SETTLE_MS = 2000

if (process.env.EPHEMAIL_AUDIT_RESPONSES !== '0') {
  const documentPath =
    process.env.EPHEMAIL_AUDIT_DOCUMENT ?? join(import.meta.dir, '..', '..', 'openapi.yaml')
  // Loaded on the first response, so test files that start no app do not pay for dereferencing.
  let contract: Promise<ResponseContract> | null = null
  const audit = createResponseAudit(() => {
    contract ??= loadResponseContract(readFileSync(documentPath, 'utf8'))
    return contract
  })
  installAudit(audit)

  // Every app comes from buildApp (createCore's buildApp, the runtime, the harness): wrapping it here sees
  // each app with the compatibility layers and ingest sources it was built with, whoever built it.
  const realBuildApp = appModule.buildApp
  mock.module('#server/http/app.ts', () => ({
    ...appModule,
    buildApp(deps: appModule.AppDeps) {
      const layers: CompatApi[] = []
      const app = realBuildApp({
        ...deps,
        compat: deps.compat?.map((layer) => ({
          ...layer,
          create: (context: Parameters<typeof layer.create>[0]) => {
            const api = layer.create(context)
            layers.push(api)
            return api
          },
        })),
      })
      const rules: ScopeRule[] = []
      if (layers.length > 0) rules.push(compatRule(layers))
      // An HTTP ingest source that documents its routes (plugins/ingest/http: the Inbound tag) is audited like the
      // rest; only one that brings no OpenAPI section (a test's own source, such as the seam test's) is left out.
      for (const source of deps.ingestRoutes ?? [])
        if (!source.openapi)
          rules.push({
            name: `undocumented HTTP ingest sources of tests (${source.pathPrefix})`,
            owns: (path) => path.startsWith(source.pathPrefix),
          })
      const inProcess: AuditedServer = { channel: 'in-process', rules }
      const overHttp: AuditedServer = { channel: 'http', rules }
      const handle = app.handle
      app.handle = async (request: Request) => {
        const response = await handle(request)
        audit.record(inProcess, request.method, request.url, response)
        return response
      }
      const listen = app.listen.bind(app)
      const stop = app.stop.bind(app)
      let port: number | null = null
      app.listen = ((...args: Parameters<typeof app.listen>) => {
        const listening = listen(...args)
        port = app.server?.port ?? null
        if (port !== null) audit.listen(port, overHttp)
        return listening
      }) as typeof app.listen
      app.stop = (async (...args: Parameters<typeof app.stop>) => {
        const stopped = await stop(...args)
        if (port !== null) audit.unlisten(port, overHttp)
        return stopped
      }) as typeof app.stop
      return app
    },
  }))

  // Real HTTP: what a test's fetch gets back from a server registered above (or by spawnNpmStart).
  const realFetch = globalThis.fetch
  const auditedFetch = async (input: string | URL | Request, init?: RequestInit) => {
    const response = await realFetch(input, init)
    const request = input instanceof Request ? input : null
    const url = new URL(request?.url ?? String(input))
    const server = audit.serverAt(url)
    if (server)
      audit.record(server, (init?.method ?? request?.method ?? 'GET').toUpperCase(), url.href, response)
    return response
  }
  globalThis.fetch = Object.assign(auditedFetch, realFetch)

  afterEach(async () => {
    await audit.settle(SETTLE_MS)
    const found = audit.takeViolations()
    if (found.length > 0)
      throw new Error(`responses that differ from openapi.yaml:\n${describeViolations(found)}`)
  })

  afterAll(async () => {
    // Checks that outlived their test's wait (a slow body): one failure for the run, with their routes.
    await audit.settle(SETTLE_MS * 5)
    console.error(audit.summary())
    const found = audit.takeViolations()
    if (found.length > 0)
      throw new Error(`responses that differ from openapi.yaml (seen late):\n${describeViolations(found)}`)
  })
}
