// tempmailg against every example of its document (domains, emails, messages, attachments, {status,…} envelopes, X-RateLimit-*), on the real core.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApiHarness, fixture } from '../../../test/support/api-harness.ts'
import { insertTestApiKey } from '../../../test/support/api-keys.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>

const ATTACHMENT_TEXT =
  'Thank you for signing up. This file travels with the welcome message as a text attachment.\n'

/** The document's example message as real MIME: HTML and text alternatives plus file.txt of 91 bytes. */
function welcomeMail(to: string): Uint8Array {
  const lines = [
    'From: "Example Sender" <hello@example.org>',
    `To: ${to}`,
    'Subject: Welcome to Temp Mail',
    'Date: Sun, 07 Jun 2026 19:37:26 +0000',
    'Message-ID: <welcome-1@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mixed-1"',
    '',
    '--mixed-1',
    'Content-Type: multipart/alternative; boundary="alt-1"',
    '',
    '--alt-1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello from the inbox.',
    '--alt-1',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Hello from the inbox.</p>',
    '--alt-1--',
    '--mixed-1',
    'Content-Type: text/plain; charset=utf-8; name="file.txt"',
    'Content-Disposition: attachment; filename="file.txt"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(ATTACHMENT_TEXT).toString('base64'),
    '--mixed-1--',
    '',
  ]
  return new TextEncoder().encode(lines.join('\r\n'))
}

function plainMail(to: string): Uint8Array {
  return new TextEncoder().encode(
    [
      'From: alerts@example.org',
      `To: ${to}`,
      'Subject: Plain',
      'Message-ID: <plain-1@example.org>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Your code is 493021.',
      '',
    ].join('\r\n'),
  )
}

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('compat tempmailg', () => {
  let api: Harness
  let key: string
  let goldKey: string
  let otherKey: string
  const as =
    (credential: string | null) =>
    (method: string, path: string, headers: Record<string, string> = {}) =>
      api.call(method, path, {
        token: null,
        headers: {
          accept: 'application/json',
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
          ...headers,
        },
      })
  const call = (method: string, path: string) => as(key)(method, path)

  beforeAll(async () => {
    api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmailg',
      EPHEMAIL_DOMAINS: 'example.com,vip.example:custom,gold.example:premium',
      EPHEMAIL_TTL_DEFAULT_SECONDS: '600',
      // The document's plan: free domains only. gold sees every type.
      EPHEMAIL_RATE_PLANS:
        '{"default":{"requests":1000,"windowSeconds":60,"domainTypes":["public"]},"gold":{"domainTypes":["public","custom","premium"]}}',
    })
    ;({ key } = await insertTestApiKey(api.storage))
    ;({ key: goldKey } = await insertTestApiKey(api.storage, { plan: 'gold' }))
    ;({ key: otherKey } = await insertTestApiKey(api.storage))
  })
  afterAll(() => api.close())

  test('GET /api/domains?type=free: the example, allowed_types from the plan', async () => {
    const { status, json } = await call('GET', '/api/domains?type=free')
    expect(status).toBe(200)
    expect(json).toEqual({
      status: true,
      data: {
        requested_type: 'free',
        allowed_types: ['free'],
        domains: [{ domain: 'example.com', type: 'Free', custom: false }],
      },
    })
  })

  test('domains: premium and custom map onto Ephemail types; no type lists every allowed one (requested_type null)', async () => {
    const gold = as(goldKey)
    const all = await gold('GET', '/api/domains')
    expect(all.json.data).toEqual({
      requested_type: null,
      allowed_types: ['free', 'custom', 'premium'],
      domains: [
        { domain: 'example.com', type: 'Free', custom: false },
        { domain: 'vip.example', type: 'Custom', custom: true },
        { domain: 'gold.example', type: 'Premium', custom: false },
      ],
    })
    const premium = await gold('GET', '/api/domains?type=premium')
    expect(premium.json.data.domains).toEqual([{ domain: 'gold.example', type: 'Premium', custom: false }])
    // A type outside the plan is not an error: the list is empty, allowed_types says why.
    const notAllowed = await call('GET', '/api/domains?type=premium')
    expect(notAllowed.json.data).toMatchObject({ requested_type: 'premium', domains: [] })
    const invalid = await call('GET', '/api/domains?type=gold')
    expect(invalid.status).toBe(400)
    expect(invalid.json).toEqual({ status: false, message: expect.any(String) })
  })

  test('POST /api/emails: the example shape; id an integer, dates without milliseconds, email_token a mailbox credential', async () => {
    const { status, json } = await call('POST', '/api/emails')
    expect(status).toBe(200)
    expect(Object.keys(json)).toEqual(['status', 'data'])
    expect(json.status).toBe(true)
    const data = json.data
    expect(Object.keys(data)).toEqual([
      'id',
      'email',
      'domain',
      'expire_at',
      'expires_in_seconds',
      'created_at',
      'email_token',
    ])
    expect(Number.isSafeInteger(data.id) && data.id > 0).toBe(true)
    expect(data.email).toMatch(/^[a-z0-9._-]+@example\.com$/)
    expect(data.domain).toBe('example.com')
    expect(data.expire_at).toMatch(ISO_SECONDS)
    expect(data.created_at).toMatch(ISO_SECONDS)
    expect(data.expires_in_seconds).toBe(600)
    expect(Date.parse(data.expire_at) - Date.parse(data.created_at)).toBe(600_000)
    expect(typeof data.email_token).toBe('string')
    // The token reads that mailbox and nothing else.
    const own = await as(data.email_token)('GET', `/api/messages?email=${data.email}`)
    expect(own.json).toEqual({ status: true, mailbox: data.email, messages: [] })
    const made = await call('POST', '/api/emails')
    const foreign = await as(data.email_token)('GET', `/api/messages?email=${made.json.data.email}`)
    expect(foreign.status).toBe(404)
  })

  test('POST /api/emails/{current}/{username}/{domain}: the rename example keeps the id; email_token only for its own token', async () => {
    const created = await call('POST', '/api/emails')
    const current = created.json.data.email
    const { status, json } = await call('POST', `/api/emails/${current}/demo123/example.com`)
    expect(status).toBe(200)
    expect(json.status).toBe(true)
    expect(json.data).toMatchObject({
      id: created.json.data.id,
      email: 'demo123@example.com',
      domain: 'example.com',
      created_at: created.json.data.created_at,
      expire_at: created.json.data.expire_at,
    })
    expect(json.data.expires_in_seconds).toBeWithin(590, 601)
    // Reading: only the token's digest is stored, so a key's rename cannot show it again: null.
    expect(json.data.email_token).toBeNull()
    // The same mailbox token keeps working after the rename, and its own rename echoes it.
    const token = created.json.data.email_token
    const byToken = await as(token)('POST', '/api/emails/demo123@example.com/demo124/example.com')
    expect(byToken.status).toBe(200)
    expect(byToken.json.data).toMatchObject({ email: 'demo124@example.com', email_token: token })
    // A domain outside the plan, a taken address, a mailbox of another key: the core's refusals.
    const premium = await as(goldKey)('POST', '/api/emails')
    const toPremium = await call('POST', '/api/emails/demo124@example.com/demo124/gold.example')
    expect(toPremium.status).toBe(422)
    expect(toPremium.json.status).toBe(false)
    const other = await as(otherKey)('POST', `/api/emails/${premium.json.data.email}/mine/example.com`)
    expect(other.status).toBe(404)
    expect(other.json).toEqual({ status: false, message: expect.stringContaining('No mailbox') })
    const taken = await call('POST', '/api/emails')
    const clash = await call('POST', `/api/emails/${taken.json.data.email}/demo124/example.com`)
    expect(clash.status).toBe(409)
    expect(clash.json.status).toBe(false)
  })

  test('DELETE /api/emails/{email}: the example; another key gets 404', async () => {
    await call('POST', '/api/emails/demo124@example.com/demo123/example.com')
    const notYours = await as(otherKey)('DELETE', '/api/emails/demo123@example.com')
    expect(notYours.status).toBe(404)
    expect(notYours.json.status).toBe(false)
    const { status, json } = await call('DELETE', '/api/emails/demo123@example.com')
    expect(status).toBe(200)
    expect(json).toEqual({ status: true, message: 'Email has been successfully deleted.' })
    const again = await call('DELETE', '/api/emails/demo123@example.com')
    expect(again.status).toBe(404)
  })

  test('GET /api/messages?email=, GET and DELETE /api/messages/{id}, the attachment: the examples', async () => {
    const random = (await call('POST', '/api/emails')).json.data.email
    const created = await call('POST', `/api/emails/${random}/randombox/example.com`)
    expect(created.json.data.email).toBe('randombox@example.com')
    await api.deliver(welcomeMail('randombox@example.com'), ['randombox@example.com'])
    await api.processed()

    const list = await call('GET', '/api/messages?email=randombox@example.com')
    expect(list.status).toBe(200)
    const id = list.json.messages[0].id
    expect(id).toMatch(UUID)
    const expected = {
      is_seen: false,
      subject: 'Welcome to Temp Mail',
      from: 'Example Sender',
      from_email: 'hello@example.org',
      to: 'randombox@example.com',
      receivedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      id,
      html: true,
      // The stored, sanitised body verbatim (the line break before the MIME boundary belongs to the part here).
      content: expect.stringMatching(/^<p>Hello from the inbox\.<\/p>\s*$/),
      attachments: [
        {
          name: 'file.txt',
          extension: 'txt',
          size: 91,
          url: `http://localhost/api/messages/${id}/attachments/file.txt`,
        },
      ],
    }
    expect(list.json).toEqual({ status: true, mailbox: 'randombox@example.com', messages: [expected] })
    expect(Object.keys(list.json.messages[0])).toEqual(Object.keys(expected))
    // receivedAt is the stored time in UTC, without the T and the milliseconds.
    const stored = await api.call('GET', `/v1/messages/${id}`)
    expect(list.json.messages[0].receivedAt).toBe(stored.json.receivedAt.slice(0, 19).replace('T', ' '))

    const read = await call('GET', `/api/messages/${id}`)
    expect(read.status).toBe(200)
    expect(read.json).toEqual({ status: true, data: { ...expected, is_seen: true } })
    // Reading marked it seen, for the listing too.
    const relisted = await call('GET', '/api/messages?email=randombox@example.com')
    expect(relisted.json.messages[0].is_seen).toBe(true)

    const file = await call('GET', `/api/messages/${id}/attachments/file.txt`)
    expect(file.status).toBe(200)
    expect(file.text).toBe(ATTACHMENT_TEXT)
    expect(file.headers.get('content-type')).toStartWith('text/plain')
    expect(file.headers.get('content-disposition')).toStartWith('attachment; filename="file.txt"')
    const missing = await call('GET', `/api/messages/${id}/attachments/other.txt`)
    expect(missing.status).toBe(404)
    expect(missing.json).toEqual({ status: false, message: expect.stringContaining('other.txt') })

    // Another key sees none of it: 404 in the envelope, as natively.
    const spy = as(otherKey)
    for (const [method, path] of [
      ['GET', '/api/messages?email=randombox@example.com'],
      ['GET', `/api/messages/${id}`],
      ['GET', `/api/messages/${id}/attachments/file.txt`],
      ['DELETE', `/api/messages/${id}`],
    ] as const) {
      const answer = await spy(method, path)
      expect(answer.status).toBe(404)
      expect(answer.json.status).toBe(false)
    }

    const deleted = await call('DELETE', `/api/messages/${id}`)
    expect(deleted.status).toBe(200)
    expect(deleted.json).toEqual({ status: true, message: 'Message was deleted successfully.' })
    expect((await call('GET', `/api/messages/${id}`)).status).toBe(404)
    expect((await call('GET', '/api/messages/not-a-message')).status).toBe(404)
  })

  test('a text-only message: html false, content the text; from falls back to the address', async () => {
    const made = await call('POST', '/api/emails')
    const address = made.json.data.email
    await api.deliver(plainMail(address), [address])
    await api.processed()
    const { json } = await call('GET', `/api/messages?email=${address}`)
    expect(json.messages[0]).toMatchObject({
      from: 'alerts@example.org',
      from_email: 'alerts@example.org',
      html: false,
      content: 'Your code is 493021.\n',
      attachments: [],
    })
  })

  test('attachment names outside ASCII round-trip through the percent-encoded URL', async () => {
    const made = await call('POST', '/api/emails')
    const address = made.json.data.email
    await api.deliver(fixture('invoice-attachments.eml'), [address])
    await api.processed()
    const { json } = await call('GET', `/api/messages?email=${address}`)
    const [csv, pdf] = json.messages[0].attachments
    expect(csv).toMatchObject({ name: 'invoice-0147.csv', extension: 'csv' })
    expect(pdf).toMatchObject({ name: 'Rechnung-äöü.pdf', extension: 'pdf' })
    expect(pdf.url).toEndWith('/attachments/Rechnung-%C3%A4%C3%B6%C3%BC.pdf')
    const file = await call('GET', new URL(pdf.url).pathname)
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe('application/pdf')
    expect(file.headers.get('content-disposition')).toContain(
      "filename*=UTF-8''Rechnung-%C3%A4%C3%B6%C3%BC.pdf",
    )
    expect(file.text).toStartWith('%PDF-1.4')
  })

  test('errors: {status:false, message} with the HTTP status; no key is 401', async () => {
    const missing = await as(null)('GET', '/api/domains?type=free')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('content-type')).toBe('application/json')
    expect(missing.json).toEqual({ status: false, message: expect.any(String) })
    const wrong = await as('eph_not-a-key')('POST', '/api/emails')
    expect(wrong.status).toBe(401)
    expect(wrong.json.status).toBe(false)
    const noEmail = await call('GET', '/api/messages')
    expect(noEmail.status).toBe(400)
    expect(noEmail.json).toEqual({ status: false, message: expect.stringContaining('email') })
  })

  test('the OpenAPI document lists the layer under its tag with its error schema and headers', async () => {
    const { json: document } = await api.call('GET', '/openapi.json', { token: null })
    const operation = document.paths['/api/emails'].post
    expect(operation.tags).toEqual(['TempMailG compatibility'])
    expect(operation.security).toEqual([{ tempmailgBearer: [] }])
    expect(operation.responses['401'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/TempmailgError',
    )
    expect(operation.responses['200'].headers['X-RateLimit-Reset']).toBeDefined()
    expect(document.paths['/api/messages/{id}/attachments/{filename}'].get).toBeDefined()
  })
})

describe('compat tempmailg: rate limits and prefix', () => {
  test('X-RateLimit-* as documented (reset an ISO date); with countFailed: false only 2xx answers count', async () => {
    const api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmailg',
      EPHEMAIL_DOMAINS: 'example.com',
      EPHEMAIL_RATE_PLANS: '{"default":{"requests":3,"windowSeconds":60,"countFailed":false}}',
    })
    try {
      const { key } = await insertTestApiKey(api.storage)
      const call = (path: string) => api.call('GET', path, { token: key })
      const first = await call('/api/domains?type=free')
      expect(first.status).toBe(200)
      expect(first.headers.get('x-ratelimit-limit')).toBe('3')
      expect(first.headers.get('x-ratelimit-used')).toBe('1')
      expect(first.headers.get('x-ratelimit-remaining')).toBe('2')
      const reset = first.headers.get('x-ratelimit-reset') as string
      expect(reset).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/)
      expect(Date.parse(reset)).toBeGreaterThan(Date.now())
      expect(Date.parse(reset)).toBeLessThanOrEqual(Date.now() + 61_000)
      expect(first.headers.get('ratelimit')).toBeNull()
      // Failures are given back: a 404 and a 400 leave the count where the last success put it.
      expect((await call('/api/messages/nothing-here')).status).toBe(404)
      expect((await call('/api/domains?type=gold')).status).toBe(400)
      const second = await call('/api/domains?type=free')
      expect(second.headers.get('x-ratelimit-used')).toBe('2')
      await call('/api/domains?type=free')
      const limited = await call('/api/domains?type=free')
      expect(limited.status).toBe(429)
      expect(limited.json).toEqual({ status: false, message: expect.stringContaining('3 requests') })
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    } finally {
      await api.close()
    }
  }, 30_000)

  test('mounted under a prefix, attachment URLs carry it', async () => {
    const api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmailg:/tempmailg',
      EPHEMAIL_DOMAINS: 'example.com',
    })
    try {
      const { key } = await insertTestApiKey(api.storage)
      const made = await api.call('POST', '/tempmailg/api/emails', { token: key })
      const address = made.json.data.email
      await api.deliver(welcomeMail(address), [address])
      await api.processed()
      const list = await api.call('GET', `/tempmailg/api/messages?email=${address}`, { token: key })
      const message = list.json.messages[0]
      expect(message.attachments[0].url).toBe(
        `http://localhost/tempmailg/api/messages/${message.id}/attachments/file.txt`,
      )
      const file = await api.call('GET', new URL(message.attachments[0].url).pathname, { token: key })
      expect(file.text).toBe(ATTACHMENT_TEXT)
    } finally {
      await api.close()
    }
  }, 30_000)
})
