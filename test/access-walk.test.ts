// Access control, walked from the OpenAPI document: every operation with no credential, a garbage one, a dead
// mailbox's token, a revoked API key, another mailbox's token, another API key and a query token must be refused
// (401 or 404; 403 on admin routes for valid non-admin credentials); the owner's token, the owning API key and the
// admin key must succeed on the same request, so every refusal is proven to be about access. The HTTP inbound
// operations (tag Inbound) are walked with the same credentials, all refused (401: an API credential is not an
// inbound one; 404 where the document says an adapter is not configured), their positive control being the inbound
// secret or the provider's own signature.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
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
/** The HTTP inbound source with every provider adapter configured, so each documented inbound route exists. */
const INBOUND_SECRET = 'walk-inbound-secret-0123456789'
const MAILGUN_KEY = 'walk-mailgun-signing-key-0123456789'
const POSTMARK = { user: 'postmark', password: 'walk-postmark-password-0123' }
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const INBOUND_ENV = {
  EPHEMAIL_INGEST: 'smtp,http',
  EPHEMAIL_INBOUND_SECRET: INBOUND_SECRET,
  EPHEMAIL_INBOUND_MAILGUN_SIGNING_KEY: MAILGUN_KEY,
  EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY: sendgridKeys.publicKey
    .export({ format: 'der', type: 'spki' })
    .toString('base64'),
  EPHEMAIL_INBOUND_POSTMARK_USER: POSTMARK.user,
  EPHEMAIL_INBOUND_POSTMARK_PASSWORD: POSTMARK.password,
}
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
/** Mail delivered over HTTP: authenticated by the inbound secret or a provider's signature, never by an API credential. */
const isInbound = (operation: Operation) => (operation.operation.tags ?? []).includes('Inbound')

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
  h = await createApiHarness({
    EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32',
    // Every in-process request comes from one address; the walk's ~700 must not meet the anonymous plan's limit.
    EPHEMAIL_RATE_PLANS: JSON.stringify({ anonymous: { requests: 100_000 } }),
    ...INBOUND_ENV,
  })
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
    // The inbound operations take no API credential at all: walked on their own below.
    for (const operation of operations.filter(
      (operation) => !isWebSocket(operation) && !isInbound(operation),
    )) {
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

// ---------------------------------------------------------------------------------------------------------------
// The HTTP inbound operations (tag Inbound).

/** Where an inbound request carries its credential: nothing, an API credential, or the provider's own (right or wrong). */
type InboundCredential =
  | { kind: 'none' }
  | { kind: 'bearer'; value: string }
  | { kind: 'query'; value: string }
  | { kind: 'provider'; valid: boolean }

/** The adapters the inbound harness has configured; with none, /sendgrid takes the shared secret. */
interface InboundSetup {
  sendgridSigned: boolean
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000))

/** A realistic message for `to`, unique per call. */
function inboundMail(to: string, subject: string): string {
  return [
    'From: "Example Accounts" <accounts@example.org>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${crypto.randomUUID()}@mail.example.org>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your verification code is 482913.',
    '',
  ].join('\r\n')
}

/**
 * The request an inbound operation documents (raw message, Mailgun or SendGrid form, Postmark JSON) for `to`,
 * carrying `credential` where that operation reads one. An operation this does not know throws, so a new inbound
 * route fails the walk until it is given a request here.
 */
async function inboundRequest(
  operation: Operation,
  to: string,
  subject: string,
  credential: InboundCredential,
  setup: InboundSetup,
): Promise<{ request: Request; source: string }> {
  const url = new URL(`http://localhost${operation.path}`)
  if (credential.kind === 'query') url.searchParams.set('access_token', credential.value)
  const headers = new Headers()
  if (credential.kind === 'bearer') headers.set('authorization', `Bearer ${credential.value}`)
  const provider = credential.kind === 'provider' ? credential : null
  const raw = inboundMail(to, subject)
  switch (operation.operation.operationId) {
    case 'receiveInbound':
    case 'receiveCloudflare': {
      url.searchParams.append('to', to)
      url.searchParams.set('from', 'accounts@example.org')
      headers.set('content-type', 'message/rfc822')
      if (provider)
        headers.set(
          'authorization',
          `Bearer ${provider.valid ? INBOUND_SECRET : 'a-wrong-inbound-secret-0123'}`,
        )
      const source = operation.operation.operationId === 'receiveInbound' ? 'http:raw' : 'http:cloudflare'
      return { request: new Request(url, { method: 'POST', headers, body: raw }), source }
    }
    case 'receiveMailgun': {
      const form = new FormData()
      form.set('recipient', to)
      form.set('sender', 'bounce@example.org')
      form.set('body-mime', raw)
      if (provider) {
        const timestamp = nowSeconds()
        const token = crypto.randomUUID().replace(/-/g, '')
        const key = provider.valid ? MAILGUN_KEY : 'another-mailgun-signing-key'
        form.set('timestamp', timestamp)
        form.set('token', token)
        form.set(
          'signature',
          createHmac('sha256', key)
            .update(timestamp + token)
            .digest('hex'),
        )
      }
      return formRequest(url, headers, form, 'http:mailgun', null)
    }
    case 'receiveSendgrid': {
      const form = new FormData()
      form.set('email', raw)
      form.set('envelope', JSON.stringify({ to: [to], from: 'bounce@example.org' }))
      form.set('sender_ip', '198.51.100.7')
      if (provider && !setup.sendgridSigned)
        headers.set(
          'authorization',
          `Bearer ${provider.valid ? INBOUND_SECRET : 'a-wrong-inbound-secret-0123'}`,
        )
      const signer =
        provider && setup.sendgridSigned
          ? provider.valid
            ? sendgridKeys.privateKey
            : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
          : null
      return formRequest(url, headers, form, 'http:sendgrid', signer)
    }
    case 'receivePostmark': {
      if (provider)
        headers.set(
          'authorization',
          `Basic ${btoa(`${POSTMARK.user}:${provider.valid ? POSTMARK.password : 'a-wrong-password'}`)}`,
        )
      headers.set('content-type', 'application/json')
      const messageId = crypto.randomUUID()
      const body = JSON.stringify({
        From: 'accounts@example.org',
        FromFull: { Email: 'accounts@example.org', Name: 'Example Accounts', MailboxHash: '' },
        To: to,
        ToFull: [{ Email: to, Name: '', MailboxHash: '' }],
        OriginalRecipient: to,
        Subject: subject,
        MessageID: messageId,
        Date: 'Tue, 1 Dec 2026 10:00:00 +0000',
        TextBody: 'Your verification code is 482913.',
        HtmlBody: '<p>Your verification code is <b>482913</b>.</p>',
        Headers: [{ Name: 'Message-ID', Value: `<${messageId}@mail.example.org>` }],
        Attachments: [],
      })
      return { request: new Request(url, { method: 'POST', headers, body }), source: 'http:postmark' }
    }
    default:
      throw new Error(`${key(operation)}: no inbound request known for ${operation.operation.operationId}`)
  }
}

/** A multipart form as the provider posts it; SendGrid's signed variant signs the timestamp and the exact body. */
async function formRequest(
  url: URL,
  headers: Headers,
  form: FormData,
  source: string,
  signer: KeyObject | null,
): Promise<{ request: Request; source: string }> {
  const encoded = new Request(url, { method: 'POST', body: form })
  // Bun names the boundary only until the body is read: the header first.
  headers.set('content-type', encoded.headers.get('content-type') as string)
  const body = new Uint8Array(await encoded.arrayBuffer())
  if (signer) {
    const timestamp = nowSeconds()
    const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), body]), signer)
    headers.set('x-twilio-email-event-webhook-signature', signature.toString('base64'))
    headers.set('x-twilio-email-event-webhook-timestamp', timestamp)
  }
  return { request: new Request(url, { method: 'POST', headers, body }), source }
}

async function sendRequest(app: { handle(request: Request): Promise<Response> }, request: Request) {
  const response = await app.handle(request)
  const text = await response.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  return { status: response.status, headers: response.headers, text, json: json as any } as WalkResponse
}

/** Every case of the walk, as an inbound credential: each API credential in the header it is read from. */
function inboundCases(world: MailboxWorld): [string, InboundCredential][] {
  return [
    ['none', { kind: 'none' }],
    ['garbage', { kind: 'bearer', value: GARBAGE }],
    ['deleted', { kind: 'bearer', value: deletedToken }],
    ['revoked', { kind: 'bearer', value: revokedKey }],
    ['query', { kind: 'query', value: world.token }],
    ['other', { kind: 'bearer', value: b.token }],
    ['otherKey', { kind: 'bearer', value: b.key }],
    ['own', { kind: 'bearer', value: world.token }],
    ['ownerKey', { kind: 'bearer', value: world.key }],
    ['admin', { kind: 'bearer', value: ADMIN_KEY }],
    ['wrongProvider', { kind: 'provider', valid: false }],
  ]
}

describe('the inbound operations refuse every API credential and take only their own', () => {
  /** The mailbox the inbound requests deliver to (its own, so A's checks above stay exact). */
  let c: MailboxWorld
  beforeAll(async () => {
    c = await createWorld()
  })
  const messagesOf = async (world: MailboxWorld) =>
    (await h.call('GET', `/v1/mailboxes/${encodeURIComponent(world.address)}/messages`)).json.items as {
      id: string
      subject: string
      source: string
    }[]

  test('the served document has the inbound operations, and the walk knows a request for each', () => {
    const inbound = operations.filter(isInbound)
    expect(inbound.map(key).sort()).toEqual(
      [
        'POST /v1/inbound',
        'POST /v1/inbound/cloudflare',
        'POST /v1/inbound/mailgun',
        'POST /v1/inbound/postmark',
        'POST /v1/inbound/sendgrid',
      ].sort(),
    )
  })

  test('walk: 401 for every API credential and a wrong provider credential; 202 with the right one, stored with its source', async () => {
    const mismatches: string[] = []
    // The inbound rows' columns: the walk's cases, then a wrong provider credential and the right one.
    table.push(['(inbound columns)', ...inboundCases(c).map(([name]) => name.padEnd(7)), 'inbound'])
    for (const operation of operations.filter(isInbound)) {
      count('inbound operations walked')
      const row = [key(operation)]
      const before = (await messagesOf(c)).length
      for (const [name, credential] of inboundCases(c)) {
        const subject = `walk ${name} ${crypto.randomUUID()}`
        const { request } = await inboundRequest(operation, c.address, subject, credential, {
          sendgridSigned: true,
        })
        const response = await sendRequest(h.app, request)
        row.push(String(response.status).padEnd(7))
        count(response.status < 300 ? 'allowed' : `refused ${response.status}`)
        if (response.status !== 401 || !isProblem(response))
          mismatches.push(
            `${key(operation)} [${name}] ${response.status}: expected a 401 problem ${response.text.slice(0, 200)}`,
          )
      }
      // Nothing refused was stored; then the positive control, on the same request with the right credential.
      if ((await messagesOf(c)).length !== before)
        mismatches.push(`${key(operation)}: a refused request stored mail`)
      const subject = `walk inbound ${crypto.randomUUID()}`
      const { request, source } = await inboundRequest(
        operation,
        c.address,
        subject,
        { kind: 'provider', valid: true },
        { sendgridSigned: true },
      )
      const response = await sendRequest(h.app, request)
      row.push(`inbound=${response.status}`)
      count(response.status < 300 ? 'allowed' : `refused ${response.status}`)
      if (response.status !== 202)
        mismatches.push(
          `${key(operation)} [inbound] ${response.status}: positive control: expected 202 ${response.text}`,
        )
      const stored = (await messagesOf(c)).find((message) => message.subject === subject)
      if (stored?.source !== source)
        mismatches.push(
          `${key(operation)} [inbound]: expected the message with source ${source}, got ${stored?.source}`,
        )
      table.push(row)
    }
    expect(mismatches).toEqual([])
  }, 60_000)
})

describe('inbound adapters that are not configured answer 404 to everyone, where the document says so', () => {
  let bare: Harness
  let world: MailboxWorld
  beforeAll(async () => {
    // The HTTP source with only its shared secret: no Mailgun key, no SendGrid key, no Postmark credentials.
    bare = await createApiHarness({ EPHEMAIL_INGEST: 'smtp,http', EPHEMAIL_INBOUND_SECRET: INBOUND_SECRET })
    const box = (await bare.call('POST', '/v1/mailboxes', { body: {} })).json
    world = { ...a, address: box.address, token: box.token }
  })
  afterAll(() => bare?.close())

  test('404 for every credential (the right one too) on an unconfigured adapter; the others take the secret', async () => {
    const document = (await bare.call('GET', '/openapi.json', { token: null })).json
    const inbound = listOperations(document).filter(isInbound)
    expect(inbound.length).toBe(operations.filter(isInbound).length)
    const mismatches: string[] = []
    for (const operation of inbound) {
      const notConfigured = Object.hasOwn(operation.operation.responses ?? {}, '404')
      const row = [`${key(operation)} (not configured)`]
      for (const [name, credential] of [
        ...inboundCases(world),
        ['inbound', { kind: 'provider', valid: true }] as [string, InboundCredential],
      ]) {
        const { request } = await inboundRequest(operation, world.address, `bare ${name}`, credential, {
          sendgridSigned: false,
        })
        const response = await sendRequest(bare.app, request)
        row.push(String(response.status).padEnd(7))
        count(response.status < 300 ? 'allowed' : `refused ${response.status}`)
        const expected = notConfigured ? 404 : name === 'inbound' ? 202 : 401
        if (response.status !== expected || (expected !== 202 && !isProblem(response)))
          mismatches.push(
            `${key(operation)} [${name}] ${response.status}: expected ${expected} ${response.text.slice(0, 200)}`,
          )
      }
      table.push(row)
    }
    // Mailgun and Postmark need their own credentials; raw, Cloudflare and SendGrid (unsigned) take the secret.
    expect(
      inbound
        .filter((operation) => Object.hasOwn(operation.operation.responses ?? {}, '404'))
        .map(key)
        .sort(),
    ).toEqual(['POST /v1/inbound/mailgun', 'POST /v1/inbound/postmark'])
    expect(mismatches).toEqual([])
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
