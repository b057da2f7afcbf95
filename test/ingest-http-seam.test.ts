// The ingest seam for HTTP sources: a source contributes its own routes, body parser and size limit,
// passes the shared ingest contract through the same funnel, and the API's JSON rule still holds elsewhere.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import type { IngestContext, IngestSource } from '#contracts/ingest.ts'
import { ProblemError } from '#lib/problem.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { loadConfig } from '#server/config.ts'
import { createCore, type EphemailCore } from '#server/core.ts'
import { inThreadMailWork } from '#server/pipeline/mail-offload.ts'
import { runIngestContract } from './contracts/ingest.ts'

const MAX_INBOUND_BYTES = 2 * 1024 * 1024

/** The smallest HTTP source: POST /v1/test-inbound?to=&from= with a raw message/rfc822 body, 202 once stored. */
function createRawHttpSource({ funnel }: IngestContext): IngestSource {
  const routes = new Elysia({ name: 'ingest.test-inbound' }).post(
    '/v1/test-inbound',
    async ({ request, query, set }) => {
      const raw = new Uint8Array(await request.arrayBuffer())
      // The API refuses a declared length past the limit before reading; a chunked body declares none.
      if (raw.length > MAX_INBOUND_BYTES)
        throw new ProblemError(413, 'payload-too-large', `The message exceeds ${MAX_INBOUND_BYTES} bytes`)
      const to = String(query.to ?? '')
      const verdict = await funnel.checkRecipient(to)
      if (!verdict.accepted) {
        set.status = 422
        return { refused: verdict.reason }
      }
      const result = await funnel.ingestMessage({
        raw,
        envelope: {
          mailFrom: String(query.from ?? ''),
          rcptTo: [to],
          remoteAddress: '192.0.2.1',
          helo: 'inbound.test',
          source: 'http:test',
        },
        source: 'http:test',
      })
      set.status = result.stored.length > 0 ? 202 : 422
      return result
    },
    { parse: 'none' },
  )
  return {
    name: 'test-inbound',
    http: { routes, pathPrefix: '/v1/test-inbound', maxBodyBytes: MAX_INBOUND_BYTES },
    start: async () => {},
    stop: async () => {},
  }
}

async function post(core: EphemailCore, path: string, body: string, contentType: string) {
  const app = core.buildApp()
  return app.handle(
    new Request(`http://localhost${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType },
    }),
  )
}

await runIngestContract('test-inbound', {
  source: 'http:test',
  dedupesResend: false,
  make: createRawHttpSource,
  async send(core, _source, { from, to, raw }) {
    const query = new URLSearchParams({ to, from })
    const response = await post(core, `/v1/test-inbound?${query}`, raw, 'message/rfc822')
    return { accepted: response.status === 202, answer: `${response.status} ${await response.text()}` }
  },
})

describe('an HTTP ingest source beside the JSON API (a listening server, as clients see it)', () => {
  let core: EphemailCore
  let server: { stop(): unknown; server: { port?: number } | null } | null = null
  const send = (path: string, body: string, contentType: string) =>
    fetch(`http://127.0.0.1:${server?.server?.port}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType },
    })

  beforeAll(async () => {
    core = await createCore(loadConfig({ EPHEMAIL_ADMIN_KEY: 'ingest-seam-admin-key-0123456' }, []), {
      plugins: {
        storage: createPgliteStorage(),
        ingest: [{ name: 'test-inbound', make: createRawHttpSource }],
      },
      mail: inThreadMailWork,
      version: 'test',
    })
    await core.storage.insertMailbox({
      id: crypto.randomUUID(),
      localPart: 'big',
      domain: 'ephemail.test',
      address: 'big@ephemail.test',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
      tokenHash: 'unused',
    })
    server = core
      .buildApp()
      .listen({ hostname: '127.0.0.1', port: 0, maxRequestBodySize: MAX_INBOUND_BYTES * 2 })
  }, 60_000)

  afterAll(async () => {
    await server?.stop()
    await core?.close()
  })

  test('its routes take a 1 MB raw message (past the API 64 KB JSON limit) with their own parser', async () => {
    const body = `From: a@example.org\r\nSubject: big\r\n\r\n${'x'.repeat(1_000_000)}\r\n`
    const response = await send('/v1/test-inbound?to=big@ephemail.test', body, 'message/rfc822')
    expect(response.status).toBe(202)
  })

  test('past its own limit it answers 413 problem+json naming that limit', async () => {
    const body = 'x'.repeat(MAX_INBOUND_BYTES + 10)
    const response = await send('/v1/test-inbound?to=big@ephemail.test', body, 'message/rfc822')
    expect(response.status).toBe(413)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    expect(((await response.json()) as { detail: string }).detail).toContain(String(MAX_INBOUND_BYTES))
  })

  test('the JSON API keeps its own rules: 64 KB limit and JSON only', async () => {
    const tooBig = await post(
      core,
      '/v1/mailboxes',
      JSON.stringify({ pad: 'x'.repeat(70_000) }),
      'application/json',
    )
    expect(tooBig.status).toBe(413)
    const notJson = await send('/v1/mailboxes', 'localPart=abc', 'application/x-www-form-urlencoded')
    expect(notJson.status).toBe(415)
  })
})
