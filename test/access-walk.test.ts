// Access control, walked from the OpenAPI document: every operation with no credential, a garbage one, a dead
// mailbox's token, a revoked API key, another mailbox's token, another API key and a query token must be refused
// (401 or 404; 403 on admin routes for valid non-admin credentials); the owner's token, the owning API key and the
// admin key must succeed on the same request, so every refusal is proven to be about access.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN_KEY, createApiHarness, fixture } from './support/api-harness.ts'
import * as live from './support/ephemail.ts'
import { openWebSocket } from './support/live-clients.ts'
import {
  fillPath,
  isWebSocket,
  listOperations,
  type MailboxWorld,
  type Operation,
  sampleBody,
  send,
  type WalkResponse,
} from './support/openapi-walk.ts'
import type { Harness } from './support/problem.ts'

const WEBHOOK_URL = 'http://127.0.0.1:9/hook'
const GARBAGE = 'mbt_garbage0123456789abcdefghijklmnopqrstuvwxyz'

/**
 * Routes anyone may call, each added knowingly: a route missing here that answers without a credential fails
 * the walk. `readsCredential`: the route looks at a credential when one is sent, so a wrong one is still a 401.
 */
const PUBLIC: Record<string, { why: string; readsCredential: boolean }> = {
  'GET /health': { why: 'liveness probe', readsCredential: false },
  'GET /ready': { why: 'readiness probe', readsCredential: false },
  'GET /v1/domains': { why: 'which domains this caller may use', readsCredential: true },
  'POST /v1/mailboxes': { why: 'anonymous creation (EPHEMAIL_ANONYMOUS=true)', readsCredential: true },
  'GET /v1/ws': { why: 'the upgrade; each subscribe then carries its own token', readsCredential: true },
  'GET /openapi.json': { why: 'the document', readsCredential: false },
  'GET /openapi.yaml': { why: 'the document', readsCredential: false },
  'GET /docs': { why: 'Swagger UI', readsCredential: false },
  'GET /docs/swagger-init.js': { why: 'Swagger UI', readsCredential: false },
  'GET /docs/{asset}': { why: 'Swagger UI', readsCredential: false },
  'GET /': {
    why: 'the web inbox page (it calls the API with its own mailbox token)',
    readsCredential: false,
  },
  'GET /web/{file}': { why: "the web inbox's script and style sheet", readsCredential: false },
}

/**
 * The credentials every operation is tried with: refused ones (none, garbage, a deleted mailbox's token, a
 * revoked key, a token in the query), another principal's (B's mailbox token, B's key), and the positive
 * controls (A's mailbox token, the key that created A, the admin key).
 */
const CASES = [
  'none',
  'garbage',
  'deleted',
  'revoked',
  'query',
  'other',
  'otherKey',
  'own',
  'ownerKey',
  'admin',
] as const
type Case = (typeof CASES)[number]

const key = (operation: Operation) => `${operation.method} ${operation.path}`
const isProblem = (response: WalkResponse) =>
  response.headers.get('content-type') === 'application/problem+json' &&
  response.json?.status === response.status &&
  typeof response.json?.type === 'string'
/** Honours the access_token query parameter (the event stream and the WebSocket only). */
const takesQueryToken = (operation: Operation) =>
  (operation.operation.parameters ?? []).some(
    (parameter: { in: string; name: string }) =>
      parameter.in === 'query' && parameter.name === 'access_token',
  )
/** Identifiers of a world that must never appear in an answer to someone else. */
const identifiers = (world: MailboxWorld) => [
  world.address,
  world.messageId,
  world.webhookId,
  world.token,
  world.domain,
]
/** Operator routes: a valid credential that is not the admin's is told 403 (the route's existence is no secret). */
const adminOnly = (operation: Operation) => (operation.operation.tags ?? []).includes('Admin')

let h: Harness
let operations: Operation[]
let a: MailboxWorld
let b: MailboxWorld
let deletedToken: string
let revokedKey: string
const table: string[][] = []
/** Answers by kind, for the summary printed after the table. */
const tally: Record<string, number> = {}
const count = (what: string) => {
  tally[what] = (tally[what] ?? 0) + 1
}

async function createWorld(): Promise<MailboxWorld> {
  const issued = (await h.call('POST', '/v1/admin/keys', { body: { name: 'walk' } })).json
  expect(issued.key).toStartWith('eph_')
  const box = (await h.call('POST', '/v1/mailboxes', { token: issued.key, body: {} })).json
  const delivered = await h.deliver(fixture('invoice-attachments.eml'), [box.address])
  const messageId = delivered.stored[0]?.messageId as string
  await h.processed()
  const message = (await h.call('GET', `/v1/messages/${messageId}`)).json
  const webhook = await h.call('POST', '/v1/webhooks', { token: box.token, body: { url: WEBHOOK_URL } })
  expect(webhook.status).toBe(201)
  expect(message.attachments.length).toBeGreaterThan(0)
  const domain = `walk-${crypto.randomUUID().slice(0, 8)}.example`
  expect((await h.call('POST', '/v1/admin/domains', { body: { name: domain, type: 'public' } })).status).toBe(
    201,
  )
  return {
    domain,
    address: box.address,
    token: box.token,
    messageId,
    attachmentId: message.attachments[0].id,
    webhookId: webhook.json.id,
    keyId: issued.id,
    key: issued.key,
  }
}

/** Deletes a world's mailbox, under its old address and any new one the walk gave it (a rename). */
async function removeWorld(world: MailboxWorld, response: WalkResponse) {
  for (const address of new Set([world.address, response.json?.address].filter(Boolean)))
    await h.call('DELETE', `/v1/mailboxes/${encodeURIComponent(address)}`)
  await h.call('DELETE', `/v1/admin/domains/${world.domain}`)
}

beforeAll(async () => {
  h = await createApiHarness({ EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32' })
  const document = await h.call('GET', '/openapi.json', { token: null })
  expect(document.status).toBe(200)
  operations = listOperations(document.json)
  a = await createWorld()
  b = await createWorld()
  const gone = (await h.call('POST', '/v1/mailboxes', { token: null, body: {} })).json
  expect((await h.call('DELETE', `/v1/mailboxes/${gone.address}`, { token: gone.token })).status).toBe(204)
  deletedToken = gone.token
  const revoked = (await h.call('POST', '/v1/admin/keys', { body: { name: 'revoked' } })).json
  expect((await h.call('DELETE', `/v1/admin/keys/${revoked.id}`)).status).toBe(204)
  revokedKey = revoked.key
}, 60_000)

afterAll(async () => {
  await h?.close()
  const width = Math.max(...table.map((row) => row[0]?.length ?? 0))
  const lines = table.map(([route, ...statuses]) => `${route?.padEnd(width)}  ${statuses.join(' ')}`)
  console.log(
    `${'route'.padEnd(width)}  ${CASES.map((name) => name.padEnd(7)).join(' ')}\n${lines.join('\n')}`,
  )
  console.log(
    `access walk: ${Object.entries(tally)
      .map(([what, n]) => `${n} ${what}`)
      .join(', ')}`,
  )
})

/** Sends one case of an operation against `world` (A's resources, or a fresh copy for changes). */
function attempt(operation: Operation, credential: Case, world: MailboxWorld): Promise<WalkResponse> {
  const bearer = {
    none: undefined,
    garbage: GARBAGE,
    deleted: deletedToken,
    revoked: revokedKey,
    query: undefined,
    other: b.token,
    otherKey: b.key,
    own: world.token,
    ownerKey: world.key,
    admin: ADMIN_KEY,
  }[credential]
  const query = credential === 'query' ? `?access_token=${encodeURIComponent(world.token)}` : ''
  const body = sampleBody(operation, world, { webhookUrl: WEBHOOK_URL })
  return send(h.app, operation.method, `${fillPath(operation, world)}${query}`, { bearer, body })
}

/** What the case must answer; the reason is printed with any mismatch. */
function verdict(
  operation: Operation,
  credential: Case,
  response: WalkResponse,
  world: MailboxWorld,
): string | null {
  const ok = response.status >= 200 && response.status < 300
  const publicRoute = PUBLIC[key(operation)]
  const refusedCredential = credential === 'garbage' || credential === 'deleted' || credential === 'revoked'
  if (publicRoute && !(publicRoute.readsCredential && refusedCredential)) {
    // A public route with query parameters of its own refuses one it does not take, by name.
    if (credential === 'query' && response.status === 400 && isProblem(response))
      return response.json.detail.includes('access_token') ? null : 'a 400 that does not name access_token'
    return ok ? null : `public (${publicRoute.why}): expected 2xx`
  }
  if (credential === 'none') {
    if (response.status !== 401 || !isProblem(response)) return 'expected a 401 problem'
    return response.headers.get('www-authenticate')?.startsWith('Bearer ') ? null : 'no WWW-Authenticate'
  }
  if (refusedCredential)
    return response.status === 401 && isProblem(response) ? null : 'expected a 401 problem'
  if (credential === 'query') {
    // Only the stream routes read ?access_token=; anywhere else it must not stand for a credential.
    if (takesQueryToken(operation)) return ok ? null : 'expected 2xx: this route takes ?access_token='
    return response.status === 401 && isProblem(response)
      ? null
      : 'expected a 401 problem (query token ignored)'
  }
  if (adminOnly(operation)) {
    if (credential === 'admin') return ok ? null : 'positive control: expected 2xx for the admin'
    return response.status === 403 && isProblem(response) ? null : 'expected a 403 problem (admin only)'
  }
  const aimsAtWorld = operation.params.length > 0 || sampleBody(operation, world, { webhookUrl: WEBHOOK_URL })
  if (credential === 'other' || credential === 'otherKey') {
    // Always 404, never 401: B's credential is valid (admin-only operations answered 403 above; a webhook for
    // all mail is the admin's, but a mailbox token that omits `address` simply gets one for its own mailbox).
    if (aimsAtWorld) return response.status === 404 && isProblem(response) ? null : 'expected a 404 problem'
    // A list with nothing of A in its path or body: B sees its own items, never A's.
    if (!ok) return 'expected 2xx (a list narrowed to the caller)'
    return identifiers(a).some((id) => response.text.includes(id)) ? "B's list shows A's resources" : null
  }
  if (!ok) return 'positive control: expected 2xx'
  // A list must show the owner's items, which proves the narrowed-list check above can fail.
  if (!aimsAtWorld && !identifiers(world).some((id) => response.text.includes(id)))
    return "positive control: the list does not show the world's resources"
  return null
}

describe('every documented operation refuses whoever may not use it', () => {
  test('the document lists operations with known path parameters', () => {
    expect(operations.length).toBeGreaterThan(15)
    for (const operation of operations) expect(() => fillPath(operation, a)).not.toThrow()
  })

  test('every route the app serves is documented or a listed public route', () => {
    const documented = new Set(operations.map(key))
    const served = (h.app as unknown as { routes: { method: string; path: string }[] }).routes.map(
      (route) =>
        `${route.method === 'WS' ? 'GET' : route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
    )
    expect(served.filter((route) => !documented.has(route) && !PUBLIC[route])).toEqual([])
    expect(Object.keys(PUBLIC).filter((route) => !served.includes(route))).toEqual([])
  })

  test('walk: 401 without a valid credential, 404 for another mailbox, 2xx for the owner and the admin', async () => {
    const mismatches: string[] = []
    for (const operation of operations.filter((operation) => !isWebSocket(operation))) {
      count('operations walked over HTTP')
      const row = [key(operation)]
      const changes = operation.method !== 'GET' && operation.method !== 'HEAD'
      for (const credential of CASES) {
        // Refusals go to A itself (checked unchanged below); a change that is allowed gets a fresh mailbox.
        const positive = credential === 'own' || credential === 'ownerKey' || credential === 'admin'
        const world = changes && positive ? await createWorld() : a
        const response = await attempt(operation, credential, world)
        row.push(String(response.status).padEnd(7))
        count(response.status < 300 ? 'allowed' : `refused ${response.status}`)
        const wrong = verdict(operation, credential, response, world)
        if (wrong)
          mismatches.push(
            `${key(operation)} [${credential}] ${response.status}: ${wrong} ${response.text.slice(0, 200)}`,
          )
        if (world !== a) await removeWorld(world, response)
      }
      table.push(row)
    }
    expect(mismatches).toEqual([])
  }, 120_000)

  test('the refused calls changed nothing of A', async () => {
    const mailbox = await h.call('GET', `/v1/mailboxes/${a.address}`, { token: a.token })
    expect(mailbox.status).toBe(200)
    const message = await h.call('GET', `/v1/messages/${a.messageId}`, { token: a.token })
    expect(message.json.seen).toBe(false)
    const webhooks = await h.call('GET', '/v1/webhooks', { token: a.token })
    expect(webhooks.json.items.map((webhook: { id: string }) => webhook.id)).toEqual([a.webhookId])
    const messages = await h.call('GET', `/v1/mailboxes/${a.address}/messages`, { token: a.token })
    expect(messages.json.items.map((item: { id: string }) => item.id)).toEqual([a.messageId])
  })

  test('the event stream refuses ?access_token= garbage and B before any stream starts', async () => {
    const stream = operations.find((operation) => takesQueryToken(operation) && !isWebSocket(operation))
    if (!stream) throw new Error('no event stream in the document')
    const path = fillPath(stream, a)
    const cases: [string, string, number][] = [
      ['garbage', GARBAGE, 401],
      ['deleted', deletedToken, 401],
      ['revoked', revokedKey, 401],
      ['other', b.token, 404],
      ['otherKey', b.key, 404],
      ['own', a.token, 200],
      ['ownerKey', a.key, 200],
      ['admin', ADMIN_KEY, 200],
    ]
    const row = [`${key(stream)}?access_token=`]
    for (const [name, token, status] of cases) {
      const response = await send(h.app, 'GET', `${path}?access_token=${encodeURIComponent(token)}`)
      row.push(`${name}=${response.status}`)
      count(response.status < 300 ? 'allowed' : `refused ${response.status}`)
      expect(`${name} ${response.status}`).toBe(`${name} ${status}`)
      if (status === 200) expect(response.headers.get('content-type')).toStartWith('text/event-stream')
      else expect(isProblem(response)).toBe(true)
    }
    // A header credential wins over the query: B's header with A's query token is still B.
    const mixed = await send(h.app, 'GET', `${path}?access_token=${encodeURIComponent(a.token)}`, {
      bearer: b.token,
    })
    row.push(`B+A=${mixed.status}`)
    expect(mixed.status).toBe(404)
    table.push(row)
  })
})

describe('the WebSocket, on a real server', () => {
  let server: live.TestEphemail
  let base: string
  beforeAll(async () => {
    server = await live.startTestEphemail()
    base = `127.0.0.1:${server.httpPort}`
  })
  afterAll(() => server?.stop())

  const upgrade = (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://${base}${path}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    })

  test('a wrong credential is refused at the upgrade; a subscribe needs a token that may see the mailbox', async () => {
    const sockets = operations.filter(isWebSocket)
    expect(sockets.map(key)).toEqual(['GET /v1/ws'])
    const path = (sockets[0] as Operation).path
    expect(PUBLIC[`GET ${path}`]).toBeDefined()
    const boxA = await server.createMailbox('walk-a')
    const boxB = await server.createMailbox('walk-b')
    const gone = await server.createMailbox('walk-gone')
    expect((await server.api(`/v1/mailboxes/${gone.address}`, { method: 'DELETE' })).status).toBe(204)
    const row = [`${key(sockets[0] as Operation)} (real socket)`]

    for (const [name, query, headers] of [
      ['garbage', `?access_token=${GARBAGE}`, {}],
      ['deleted', `?access_token=${gone.token}`, {}],
      ['garbage-bearer', '', { authorization: `Bearer ${GARBAGE}` }],
    ] as const) {
      const refused = await upgrade(`${path}${query}`, headers)
      row.push(`${name}=${refused.status}`)
      count(`refused ${refused.status}`)
      expect(`${name} ${refused.status}`).toBe(`${name} 401`)
      expect(refused.headers.get('content-type')).toStartWith('application/problem+json')
    }

    // Without an upgrade the route is not there for anyone (no answer depends on the credential).
    for (const [name, token] of [
      ['garbage', GARBAGE],
      ['admin', live.ADMIN_KEY],
    ] as const) {
      const plain = await fetch(`http://${base}${path}?access_token=${token}`)
      row.push(`plain-${name}=${plain.status}`)
      expect(plain.status).toBeGreaterThanOrEqual(400)
    }

    // Anonymous upgrade (a public exception): every subscribe must then carry a token allowed to see the mailbox.
    const anonymous = await openWebSocket(`ws://${base}${path}`)
    const subscribe = async (token?: string) => {
      anonymous.send({ type: 'subscribe', address: boxA.address, ...(token ? { token } : {}) })
      return anonymous.next()
    }
    for (const [name, token, status] of [
      ['none', undefined, 401],
      ['garbage', GARBAGE, 401],
      ['deleted', gone.token, 401],
      ['other', boxB.token, 404],
    ] as const) {
      const answer = await subscribe(token)
      row.push(`sub-${name}=${answer.status}`)
      count(`refused ${answer.status} (WebSocket subscribe)`)
      expect(answer).toMatchObject({ type: 'error', status, address: boxA.address })
    }
    expect(await subscribe(boxA.token)).toMatchObject({ type: 'subscribed', address: boxA.address })
    anonymous.close()

    // The upgrade's credential decides for subscribes without a token: B's cannot follow A; A's and the admin's can.
    for (const [name, token, expected] of [
      ['other', boxB.token, { type: 'error', status: 404 }],
      ['own', boxA.token, { type: 'subscribed' }],
      ['admin', live.ADMIN_KEY, { type: 'subscribed' }],
    ] as const) {
      const socket = await openWebSocket(`ws://${base}${path}?access_token=${encodeURIComponent(token)}`)
      socket.send({ type: 'subscribe', address: boxA.address })
      const answer = await socket.next()
      row.push(`upg-${name}=${answer.status ?? answer.type}`)
      expect(answer).toMatchObject({ ...expected, address: boxA.address })
      socket.close()
    }

    // API keys: a mailbox made with key A is followed with key A, never with key B or a revoked key.
    const issue = async (name: string) => {
      const response = await server.api('/v1/admin/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      })
      expect(response.status).toBe(201)
      return (await response.json()) as { id: string; key: string }
    }
    const [keyA, keyB, keyGone] = [await issue('ws-a'), await issue('ws-b'), await issue('ws-gone')]
    const keyed = await server.api('/v1/mailboxes', {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA.key}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const keyBox = (await keyed.json()) as { address: string }
    expect((await server.api(`/v1/admin/keys/${keyGone.id}`, { method: 'DELETE' })).status).toBe(204)
    const revokedUpgrade = await upgrade(`${path}?access_token=${keyGone.key}`)
    row.push(`revoked-key=${revokedUpgrade.status}`)
    expect(revokedUpgrade.status).toBe(401)
    for (const [name, token, expected] of [
      ['otherKey', keyB.key, { type: 'error', status: 404 }],
      ['ownerKey', keyA.key, { type: 'subscribed' }],
    ] as const) {
      const socket = await openWebSocket(`ws://${base}${path}?access_token=${encodeURIComponent(token)}`)
      socket.send({ type: 'subscribe', address: keyBox.address })
      const answer = await socket.next()
      row.push(`upg-${name}=${answer.status ?? answer.type}`)
      count(answer.type === 'subscribed' ? 'allowed' : `refused ${answer.status} (WebSocket subscribe)`)
      expect(answer).toMatchObject({ ...expected, address: keyBox.address })
      socket.close()
    }
    table.push(row)
  })
})
