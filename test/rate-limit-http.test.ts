// Request metering over HTTP: the headers on every answer, 429 past the plan, countFailed, per-address budgets behind trusted proxies, anonymous mailbox allowance.

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN_KEY, createApiHarness } from './support/api-harness.ts'
import { insertTestApiKey } from './support/api-keys.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>

const HEADERS = [
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-used',
  'x-ratelimit-reset',
  'ratelimit-policy',
  'ratelimit',
]

function expectMetered(headers: Headers, plan: string, limit: number, window: number, used: number) {
  for (const name of HEADERS) expect(headers.get(name)).not.toBeNull()
  const remaining = Math.max(0, limit - used)
  expect(headers.get('x-ratelimit-limit')).toBe(String(limit))
  expect(headers.get('x-ratelimit-used')).toBe(String(used))
  expect(headers.get('x-ratelimit-remaining')).toBe(String(remaining))
  expect(headers.get('ratelimit-policy')).toBe(`"${plan}";q=${limit};w=${window}`)
  const ietf = /^"([\w-]+)";r=(\d+);t=(\d+)$/.exec(headers.get('ratelimit') ?? '')
  expect(ietf?.[1]).toBe(plan)
  expect(Number(ietf?.[2])).toBe(remaining)
  const secondsLeft = Number(ietf?.[3])
  expect(secondsLeft).toBeGreaterThan(0)
  expect(secondsLeft).toBeLessThanOrEqual(window)
  // The reset instant (epoch seconds) and the seconds left describe the same window end.
  const reset = Number(headers.get('x-ratelimit-reset'))
  expect(Math.abs(reset - (Date.now() / 1000 + secondsLeft))).toBeLessThan(3)
}

describe('request metering', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness({
      EPHEMAIL_RATE_PLANS: JSON.stringify({
        anonymous: { requests: 8, windowSeconds: 60 },
        tiny: { requests: 3, windowSeconds: 30 },
      }),
    })
  })
  afterAll(() => h.close())

  test('every answer carries the headers, errors and documentation included, and each counts', async () => {
    // In-process requests have no peer address: every anonymous one here shares one budget.
    const answers = [
      await h.call('GET', '/health', { token: null }),
      await h.call('GET', '/v1/domains', { token: null }),
      await h.call('GET', '/no/such/route', { token: null }),
      await h.call('GET', '/v1/mailboxes/nobody@ephemail.test', { token: null }),
      await h.call('GET', '/v1/mailboxes/nobody@ephemail.test', { token: 'mbt_not-a-live-token' }),
      await h.call('POST', '/v1/mailboxes', { token: null, body: { ttlSeconds: 'soon' } }),
      await h.call('GET', '/openapi.json', { token: null }),
      await h.call('GET', '/docs', { token: null }),
    ]
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404, 401, 401, 400, 200, 200])
    answers.forEach((answer, i) => {
      expectMetered(answer.headers, 'anonymous', 8, 60, i + 1)
    })
    // Past the plan: 429 problem+json naming plan and limit, with Retry-After, and the same headers.
    const refused = await h.call('GET', '/v1/domains', { token: null })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(refused.json.type).toEndWith('/rate-limited')
    expect(refused.json.detail).toContain('"anonymous" allows 8 requests per 60 seconds')
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expectMetered(refused.headers, 'anonymous', 8, 60, 9)
    // The security headers stay on a 429.
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff')
  })

  test('the admin and each API key have budgets of their own, on their plans', async () => {
    const admin = await h.call('GET', '/v1/domains')
    expect(admin.status).toBe(200)
    expect(admin.headers.get('ratelimit-policy')).toBe('"admin";q=100000;w=60')
    const { key } = await insertTestApiKey(h.storage, { plan: 'tiny' })
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const answer = await h.call('GET', '/v1/domains', { token: key })
      statuses.push(answer.status)
      if (i < 3) expectMetered(answer.headers, 'tiny', 3, 30, i + 1)
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    // A key on a plan the configuration does not have is metered on `default`.
    const { key: orphan } = await insertTestApiKey(h.storage, { plan: 'gone' })
    const answer = await h.call('GET', '/v1/domains', { token: orphan })
    expect(answer.headers.get('ratelimit-policy')).toBe('"default";q=1200;w=60')
  })

  test('CORS preflights are not metered, and cross-origin scripts may read the headers', async () => {
    const cors = await createApiHarness({
      EPHEMAIL_CORS_ORIGINS: 'https://app.example',
      EPHEMAIL_RATE_PLANS: '{"anonymous":{"requests":2,"windowSeconds":60}}',
    })
    try {
      const preflight = () =>
        cors.call('OPTIONS', '/v1/domains', {
          token: null,
          headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
        })
      for (let i = 0; i < 5; i++) {
        const answer = await preflight()
        expect(answer.status).toBe(204)
        expect(answer.headers.get('ratelimit')).toBeNull()
      }
      const real = await cors.call('GET', '/v1/domains', {
        token: null,
        headers: { origin: 'https://app.example' },
      })
      expect(real.status).toBe(200)
      expect(real.headers.get('x-ratelimit-used')).toBe('1')
      const exposed = real.headers.get('access-control-expose-headers') ?? ''
      for (const name of HEADERS) expect(exposed).toContain(name)
    } finally {
      await cors.close()
    }
  })
})

describe('countFailed false: answers with an error status give their hit back', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness({
      EPHEMAIL_RATE_PLANS: JSON.stringify({
        anonymous: { requests: 3, windowSeconds: 60, countFailed: false },
      }),
    })
  })
  afterAll(() => h.close())

  test('failures do not use up the budget; successes do', async () => {
    for (let i = 0; i < 6; i++) {
      const failed = await h.call('GET', `/v1/messages/${crypto.randomUUID()}`, { token: null })
      expect(failed.status).toBe(401)
      // The headers count the failure itself; it is given back as it is answered.
      expect(failed.headers.get('x-ratelimit-used')).toBe('1')
    }
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await h.call('GET', '/v1/domains', { token: null })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
  })
})

describe('per client address, over a real socket', () => {
  const harnesses: Harness[] = []
  afterEach(async () => {
    for (const harness of harnesses.splice(0)) {
      harness.app.stop(true)
      await harness.close()
    }
  })

  async function listening(env: Record<string, string>) {
    const harness = await createApiHarness(env)
    harnesses.push(harness)
    harness.app.listen({ hostname: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${harness.app.server?.port}`
    return {
      harness,
      get: (path: string, forwardedFor?: string) =>
        fetch(`${base}${path}`, { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }),
      post: (path: string, body: unknown, forwardedFor?: string, token?: string) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          body: JSON.stringify(body),
          headers: {
            'content-type': 'application/json',
            ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        }),
    }
  }

  const plans = JSON.stringify({ anonymous: { requests: 3, windowSeconds: 60, mailboxesPerHour: 2 } })

  test('behind a trusted proxy each forwarded client has its own budget', async () => {
    const { get } = await listening({ EPHEMAIL_RATE_PLANS: plans, EPHEMAIL_TRUSTED_PROXIES: '127.0.0.1' })
    const first: number[] = []
    for (let i = 0; i < 4; i++) first.push((await get('/v1/domains', '198.51.100.7')).status)
    expect(first).toEqual([200, 200, 200, 429])
    // Another client behind the same proxy; and a client that forged an address to the left of it.
    expect((await get('/v1/domains', '198.51.100.8')).status).toBe(200)
    const forged = await get('/v1/domains', '203.0.113.1, 198.51.100.7')
    expect(forged.status).toBe(429)
    // An IPv6 client is counted by its /64.
    const v6: number[] = []
    for (const host of ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2::c', '2001:db8:1:2::d'])
      v6.push((await get('/v1/domains', host)).status)
    expect(v6).toEqual([200, 200, 200, 429])
  })

  test('without trusted proxies X-Forwarded-For is ignored: the peer is the client', async () => {
    const { get } = await listening({ EPHEMAIL_RATE_PLANS: plans })
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await get('/v1/domains', `198.51.100.${i + 1}`)).status)
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  test('anonymous mailbox creation: the plan’s mailboxesPerHour per address, failures given back', async () => {
    const { post, get } = await listening({
      EPHEMAIL_RATE_PLANS: JSON.stringify({
        anonymous: { requests: 100, windowSeconds: 60, mailboxesPerHour: 2 },
      }),
      EPHEMAIL_TRUSTED_PROXIES: '127.0.0.1',
    })
    // A creation that fails (unknown domain) does not use the allowance.
    expect((await post('/v1/mailboxes', { domain: 'nowhere.test' }, '192.0.2.1')).status).toBe(422)
    expect((await post('/v1/mailboxes', {}, '192.0.2.1')).status).toBe(201)
    expect((await post('/v1/mailboxes', {}, '192.0.2.1')).status).toBe(201)
    const refused = await post('/v1/mailboxes', {}, '192.0.2.1')
    expect(refused.status).toBe(429)
    const problem = (await refused.json()) as { type: string; detail: string }
    expect(problem.type).toEndWith('/mailbox-quota-exceeded')
    expect(problem.detail).toContain('2 mailboxes per hour')
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(refused.headers.get('x-ratelimit-limit')).toBe('100')
    // Another address may; the admin is not counted by address; reads go on.
    expect((await post('/v1/mailboxes', {}, '192.0.2.2')).status).toBe(201)
    expect((await post('/v1/mailboxes', {}, '192.0.2.1', ADMIN_KEY)).status).toBe(201)
    expect((await get('/v1/domains', '192.0.2.1')).status).toBe(200)
  })
})

describe('HTTP ingest routes are metered on the inbound plan', () => {
  const SECRET = 'inbound-secret-for-metering-0123456789'
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness({
      EPHEMAIL_INGEST: 'smtp,http',
      EPHEMAIL_INBOUND_SECRET: SECRET,
      EPHEMAIL_RATE_PLANS: JSON.stringify({
        anonymous: { requests: 2, windowSeconds: 60 },
        inbound: { requests: 4, windowSeconds: 60 },
      }),
    })
  })
  afterAll(() => h.close())

  const inbound = (authorization: string) =>
    h.app.handle(
      new Request('http://localhost/v1/inbound?to=nobody@ephemail.test', {
        method: 'POST',
        headers: { 'content-type': 'message/rfc822', authorization },
        body: 'From: a@sender.example\r\nSubject: hi\r\n\r\nbody\r\n',
      }),
    )

  test("a provider's posts have a budget of their own, apart from the address's anonymous one", async () => {
    // The anonymous budget (2) is spent first; the inbound route still answers, on its own plan.
    for (let i = 0; i < 2; i++) expect((await h.call('GET', '/v1/domains', { token: null })).status).toBe(200)
    expect((await h.call('GET', '/v1/domains', { token: null })).status).toBe(429)
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await inbound(`Bearer ${SECRET}`))
    // No live mailbox behind the address: 422, metered like any answer.
    expect(answers.map((answer) => answer.status)).toEqual([422, 422, 422, 422])
    answers.forEach((answer, i) => {
      expectMetered(answer.headers, 'inbound', 4, 60, i + 1)
    })
    const refused = await inbound(`Bearer ${SECRET}`)
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { detail: string }).detail).toContain(
      '"inbound" allows 4 requests per 60 seconds',
    )
    // A wrong secret is metered on the same plan (it cannot spend the anonymous budget of the API).
    expect((await inbound('Bearer wrong')).status).toBe(429)
  })
})

describe('the principal of a request is resolved once', () => {
  test('metering and the route share one lookup per request; another request looks up again', async () => {
    const { createAuthenticator } = await import('#core/authenticate.ts')
    const bearer = await import('#plugins/auth/bearer/index.ts')
    let lookups = 0
    const auth = createAuthenticator({
      styles: [bearer.create({})],
      resolvers: [
        {
          name: 'counting',
          async resolve() {
            lookups++
            return { kind: 'admin' }
          },
        },
      ],
    })
    const request = new Request('http://localhost/v1/domains', { headers: { authorization: 'Bearer abc' } })
    expect(await auth.authenticate(request)).toEqual({ kind: 'admin' })
    expect(await auth.requirePrincipal(request)).toEqual({ kind: 'admin' })
    expect(lookups).toBe(1)
    await auth.authenticate(new Request(request.url, { headers: { authorization: 'Bearer abc' } }))
    expect(lookups).toBe(2)
  })
})
