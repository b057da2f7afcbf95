// Test harness: the HTTP app on in-memory PGlite with a fixed admin key and a funnel to deliver fixtures, no ports opened.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Storage } from '#contracts/storage.ts'
import type { MxResolver } from '#core/domain-check.ts'
import type { EphemailEvent } from '#lib/events.ts'
import { createInlineQueue } from '#plugins/queue/inline/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { loadConfig } from '#server/config.ts'
import { createCore } from '#server/core.ts'
import { createMailOffload, type MailWork } from '#server/pipeline/mail-offload.ts'
import type { DnsResolver } from '#server/pipeline/sender-auth.ts'
import packageJson from '../../package.json' with { type: 'json' }

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'

export const offlineResolver: DnsResolver = async (name) => {
  throw Object.assign(new Error(`no DNS in tests: ${name}`), { code: 'ENOTFOUND' })
}
export const FIXTURES = join(import.meta.dir, '..', 'fixtures')

export function fixture(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(join(FIXTURES, name)))
}

/** MX lookups of the domain check fail as on an offline host, unless a test passes its own resolver. */
export const offlineMxResolver: MxResolver = {
  resolveMx: async (name) => {
    throw Object.assign(new Error(`no DNS in tests: ${name}`), { code: 'ENOTFOUND' })
  },
}

export async function createApiHarness(
  env: Record<string, string> = {},
  {
    mail = createMailOffload(),
    mxResolver = offlineMxResolver,
    storage: storageDriver = createPgliteStorage(),
  }: { mail?: MailWork; mxResolver?: MxResolver; storage?: Storage } = {},
) {
  const config = loadConfig(
    { EPHEMAIL_DOMAINS: 'ephemail.test,vip.test:custom', EPHEMAIL_ADMIN_KEY: ADMIN_KEY, ...env },
    [],
  )
  // The same composition as `npm start` (createCore), on in-memory PGlite, with quick retries and no DNS.
  const inlineQueues = new Map<string, ReturnType<typeof createInlineQueue>>()
  const core = await createCore(config, {
    plugins: {
      storage: storageDriver,
      makeQueue: (spec) => {
        const made = createInlineQueue({ ...spec, attempts: 2, backoffMs: 10 })
        inlineQueues.set(spec.name, made as never)
        return made
      },
    },
    // No DNS here: every lookup fails at once, as on an offline host.
    resolver: offlineResolver,
    mxResolver,
    mail,
    version: packageJson.version,
  })
  const { storage, funnel, queue } = core
  const events: EphemailEvent[] = []
  core.pubsub.subscribe((event) => events.push(event))
  const app = core.buildApp()
  core.processor.start(queue, 4)

  async function call(
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers }
    const token = options.token === undefined ? ADMIN_KEY : options.token
    if (token) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
      headers['content-type'] ??= 'application/json'
    }
    const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
    const text = await response.text()
    let json: unknown = null
    try {
      json = text ? JSON.parse(text) : null
    } catch {}
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
    return { status: response.status, headers: response.headers, text, json: json as any }
  }

  async function deliver(raw: Uint8Array, rcptTo: string[]) {
    return funnel.ingestMessage({
      raw,
      envelope: {
        mailFrom: 'sender@example.org',
        rcptTo,
        remoteAddress: '192.0.2.10',
        helo: 'mail.example.org',
        source: 'smtp',
      },
      source: 'smtp',
    })
  }

  return {
    app,
    core,
    storage,
    funnel,
    events,
    call,
    deliver,
    /** Waits until every process-message job has finished. */
    processed: () => (inlineQueues.get('process-message') as ReturnType<typeof createInlineQueue>).drained(),
    close: () => core.close(),
  }
}
