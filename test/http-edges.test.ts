// HTTP edges: security headers on every response (errors and downloads included), a strict CSP on /docs, and CORS as a setting.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '#server/config.ts'
import { createApiHarness, fixture } from './support/api-harness.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>

function expectSecurityHeaders(headers: Headers, what: string) {
  expect({
    what,
    nosniff: headers.get('x-content-type-options'),
    referrer: headers.get('referrer-policy'),
    frames: headers.get('x-frame-options'),
    ancestors: /frame-ancestors 'none'/.test(headers.get('content-security-policy') ?? ''),
  }).toEqual({ what, nosniff: 'nosniff', referrer: 'no-referrer', frames: 'DENY', ancestors: true })
}

describe('security headers', () => {
  let harness: Harness
  beforeAll(async () => {
    harness = await createApiHarness()
  }, 60_000)
  afterAll(() => harness?.close())

  test('on JSON, problems, downloads, the document and the docs page', async () => {
    const created = await harness.call('POST', '/v1/mailboxes', { body: { localPart: 'headers' } })
    expectSecurityHeaders(created.headers, 'created mailbox')
    const { stored } = await harness.deliver(fixture('invoice-attachments.eml'), [created.json.address])
    const id = stored[0]?.messageId as string
    const responses: [string, Awaited<ReturnType<Harness['call']>>][] = [
      ['health', await harness.call('GET', '/health')],
      ['404 problem', await harness.call('GET', '/v1/nothing-here')],
      ['401 problem', await harness.call('GET', `/v1/messages/${id}`, { token: 'wrong' })],
      ['405 problem', await harness.call('PUT', '/v1/domains')],
      ['raw download', await harness.call('GET', `/v1/messages/${id}/raw`)],
      ['openapi.json', await harness.call('GET', '/openapi.json')],
      ['docs page', await harness.call('GET', '/docs')],
      ['docs asset', await harness.call('GET', '/docs/swagger-init.js')],
    ]
    for (const [what, response] of responses) expectSecurityHeaders(response.headers, what)
  })

  test('the docs page runs no inline script and its CSP allows scripts only from itself', async () => {
    const page = await harness.call('GET', '/docs')
    const csp = page.headers.get('content-security-policy') ?? ''
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? ''
    expect(scriptSrc.trim()).toBe("'self'")
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/docs\//)
      expect(body?.trim()).toBe('')
    }
    const init = await harness.call('GET', '/docs/swagger-init.js')
    expect(init.status).toBe(200)
    expect(init.text).toContain('SwaggerUIBundle')
  })
})

describe('CORS', () => {
  const preflight = (harness: Harness, origin: string) =>
    harness.call('OPTIONS', '/v1/mailboxes', {
      token: null,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    })

  test('off by default: a preflight is answered without permission, responses carry none', async () => {
    const harness = await createApiHarness()
    try {
      const answer = await preflight(harness, 'https://app.example.com')
      expect(answer.status).toBe(204)
      expect(answer.headers.get('access-control-allow-origin')).toBeNull()
      const read = await harness.call('GET', '/v1/domains', {
        headers: { origin: 'https://app.example.com' },
      })
      expect(read.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await harness.close()
    }
  }, 60_000)

  test('a listed origin is allowed (preflight and response), another is not', async () => {
    const harness = await createApiHarness({ EPHEMAIL_CORS_ORIGINS: 'https://app.example.com' })
    try {
      const answer = await preflight(harness, 'https://app.example.com')
      expect(answer.status).toBe(204)
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
      expect(answer.headers.get('access-control-allow-methods')).toContain('POST')
      expect(answer.headers.get('access-control-allow-headers')).toContain('authorization')
      const read = await harness.call('GET', '/v1/domains', {
        headers: { origin: 'https://app.example.com' },
      })
      expect(read.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
      expect(read.headers.get('vary')).toContain('origin')
      const other = await preflight(harness, 'https://evil.example')
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
      const error = await harness.call('GET', '/v1/mailboxes/x@ephemail.test', {
        token: null,
        headers: { origin: 'https://app.example.com' },
      })
      expect(error.status).toBe(401)
      expect(error.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
      expect(error.headers.get('access-control-expose-headers')).toContain('www-authenticate')
    } finally {
      await harness.close()
    }
  }, 60_000)

  test("'*' allows every origin; a malformed setting stops the start naming the variable", async () => {
    expect(loadConfig({ EPHEMAIL_CORS_ORIGINS: '*' }, []).corsOrigins).toBe('*')
    expect(() => loadConfig({ EPHEMAIL_CORS_ORIGINS: 'app.example.com' }, [])).toThrow(ConfigError)
    expect(() => loadConfig({ EPHEMAIL_CORS_ORIGINS: 'https://app.example.com/path' }, [])).toThrow(
      'EPHEMAIL_CORS_ORIGINS',
    )
  })
})

describe('request bodies over the limit, on a listening server', () => {
  let eph: Awaited<ReturnType<typeof import('./support/ephemail.ts').startTestEphemail>>
  beforeAll(async () => {
    const { startTestEphemail } = await import('./support/ephemail.ts')
    eph = await startTestEphemail()
  }, 60_000)
  afterAll(() => eph?.stop())

  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${eph.httpPort}/v1/mailboxes`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      // @ts-expect-error Bun's fetch takes `duplex` for streamed bodies, as the standard asks
      duplex: 'half',
    })

  test('a declared length far past the limit (1 MB) is a problem+json 413, not an empty reply', async () => {
    const response = await post(JSON.stringify({ pad: 'x'.repeat(1_000_000) }))
    expect(response.status).toBe(413)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    expect(((await response.json()) as { detail: string }).detail).toContain('65536')
  })

  // Just past the 64 KiB limit and far past it, each with a declared length and chunked (no length).
  for (const size of [70_000, 2_000_000])
    for (const chunked of [false, true])
      test(`a ${size}-byte body ${chunked ? 'sent chunked' : 'with Content-Length'} is a problem+json 413`, async () => {
        const bytes = new TextEncoder().encode(JSON.stringify({ pad: 'z'.repeat(size) }))
        const body = chunked
          ? new ReadableStream<Uint8Array>({
              start(controller) {
                for (let at = 0; at < bytes.length; at += 16_384)
                  controller.enqueue(bytes.slice(at, at + 16_384))
                controller.close()
              },
            })
          : bytes
        const response = await post(body)
        expect(response.status).toBe(413)
        expect(response.headers.get('content-type')).toContain('application/problem+json')
        const problem = (await response.json()) as { status: number; type: string }
        expect(problem.status).toBe(413)
        expect(problem.type).toEndWith('/payload-too-large')
      })

  test('a chunked body with no declared length is cut at the limit with a problem+json 413', async () => {
    const chunk = new TextEncoder().encode(`"${'y'.repeat(16_000)}",`)
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await post(stream)
    expect(response.status).toBe(413)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
  })
})
