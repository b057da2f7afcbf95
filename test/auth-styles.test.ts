// EPHEMAIL_AUTH: the credential styles it turns on are honoured on every route (and the others are not), and 401s say which.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN_KEY, createApiHarness, fixture } from './support/api-harness.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>

/** The routes a mailbox token may use, including those whose query is validated (extra parameters). */
function mailboxRoutes(address: string) {
  return [
    `/v1/mailboxes/${address}`,
    `/v1/mailboxes/${address}/messages?limit=5`,
    `/v1/mailboxes/${address}/otp`,
  ]
}

const withQueryKey = (path: string, key: string) =>
  `${path}${path.includes('?') ? '&' : '?'}key=${encodeURIComponent(key)}`

describe('EPHEMAIL_AUTH=bearer,header,query', () => {
  let h: Harness
  let address: string
  let token: string
  beforeAll(async () => {
    h = await createApiHarness({ EPHEMAIL_AUTH: 'bearer,header,query' })
    const created = await h.call('POST', '/v1/mailboxes', {
      token: null,
      headers: { 'x-api-key': ADMIN_KEY },
      body: { localPart: 'styles-all' },
    })
    expect(created.status).toBe(201)
    address = created.json.address
    token = created.json.token
    await h.deliver(fixture('extraction/002-shopwell-7-digit.eml'), [address])
    await h.processed()
  }, 60_000)
  afterAll(() => h?.close())

  test('a mailbox token reads its mailbox in each style, the message list and the code included', async () => {
    for (const path of mailboxRoutes(address)) {
      const bearer = await h.call('GET', path, { token })
      const header = await h.call('GET', path, { token: null, headers: { 'x-api-key': token } })
      const query = await h.call('GET', withQueryKey(path, token), { token: null })
      expect({ path, statuses: [bearer.status, header.status, query.status] }).toEqual({
        path,
        statuses: [200, 200, 200],
      })
      expect(header.json).toEqual(bearer.json)
      expect(query.json).toEqual(bearer.json)
    }
  })

  test("?key= passes each route's query validation, the event stream and admin routes included", async () => {
    const stream = await h.app.handle(
      new Request(`http://localhost${withQueryKey(`/v1/mailboxes/${address}/events?lastEventId=0`, token)}`),
    )
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toStartWith('text/event-stream')
    await stream.body?.cancel()
    const deliveries = await h.call(
      'GET',
      withQueryKey('/v1/webhooks/01900000-0000-7000-8000-000000000000/deliveries?limit=5', ADMIN_KEY),
      { token: null },
    )
    expect(deliveries.status).toBe(404)
    // Only the credential parameter is exempt: a stray one is still refused by name.
    const stray = await h.call('GET', withQueryKey(`/v1/mailboxes/${address}/messages?limt=5`, token), {
      token: null,
    })
    expect(stray.status).toBe(400)
    expect(stray.json.detail).toBe('query.limt: Unexpected property')
  })

  test('a wrong key is a 401 in every style, and an empty one is a 401 rather than anonymous', async () => {
    const path = `/v1/mailboxes/${address}`
    for (const response of [
      await h.call('GET', path, { token: null, headers: { 'x-api-key': 'mbt_wrong' } }),
      await h.call('GET', withQueryKey(path, 'mbt_wrong'), { token: null }),
    ])
      expect(response.json.detail).toContain('not the admin key, a live API key')
    const empty = await h.call('GET', path, { token: null, headers: { 'x-api-key': '' } })
    expect(empty.status).toBe(401)
    expect(empty.json.detail).toContain('x-api-key header must hold exactly one')
    const emptyQuery = await h.call('POST', '/v1/mailboxes?key=', { token: null })
    expect(emptyQuery.status).toBe(401)
    expect(emptyQuery.json.detail).toContain('"key" query parameter is empty')
  })

  test('the first style in EPHEMAIL_AUTH decides: a header credential is not overridden by ?key=', async () => {
    const path = withQueryKey(`/v1/mailboxes/${address}`, 'mbt_wrong')
    expect((await h.call('GET', path, { token })).status).toBe(200)
  })

  test('no credential: the 401 names every enabled style and carries a challenge for each', async () => {
    const response = await h.call('GET', `/v1/mailboxes/${address}`, { token: null })
    expect(response.status).toBe(401)
    expect(response.json.detail).toBe(
      'Send "Authorization: Bearer <token>" or "x-api-key: <token>" or "?key=<token>" with the admin key or the mailbox token',
    )
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="ephemail", ApiKey realm="ephemail", header="x-api-key", ApiKey realm="ephemail", query="key"',
    )
  })
})

describe('EPHEMAIL_AUTH=header', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness({ EPHEMAIL_AUTH: 'header', EPHEMAIL_CORS_ORIGINS: 'https://app.example' })
  }, 60_000)
  afterAll(() => h?.close())

  test('only x-api-key is read: a Bearer header or ?key= is no credential at all', async () => {
    const created = await h.call('POST', '/v1/mailboxes', {
      token: null,
      headers: { 'x-api-key': ADMIN_KEY },
      body: { localPart: 'styles-header' },
    })
    expect(created.status).toBe(201)
    const path = `/v1/mailboxes/${created.json.address}`
    expect(
      (await h.call('GET', path, { token: null, headers: { 'x-api-key': created.json.token } })).status,
    ).toBe(200)
    for (const response of [
      await h.call('GET', path, { token: created.json.token }),
      await h.call('GET', withQueryKey(path, created.json.token), { token: null }),
    ]) {
      expect(response.status).toBe(401)
      expect(response.json.detail).toBe('Send "x-api-key: <token>" with the admin key or the mailbox token')
      expect(response.headers.get('www-authenticate')).toBe('ApiKey realm="ephemail", header="x-api-key"')
    }
  })

  test('the event stream still takes access_token, and says which styles work elsewhere', async () => {
    const misplaced = await h.call('GET', `/v1/webhooks?access_token=${ADMIN_KEY}`, { token: null })
    expect(misplaced.status).toBe(401)
    expect(misplaced.json.detail).toBe(
      '"?access_token=<token>" is accepted only on the event stream and the WebSocket; here send "x-api-key: <token>" with the admin key or the mailbox token',
    )
  })

  test('a cross-origin browser may send x-api-key (preflight)', async () => {
    const response = await h.app.handle(
      new Request('http://localhost/v1/mailboxes', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-api-key',
        },
      }),
    )
    expect(response.headers.get('access-control-allow-headers')).toContain('x-api-key')
  })
})
