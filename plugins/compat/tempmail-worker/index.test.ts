// tempmail-worker against the examples and field tables of its document ({success,data,ts}, x-api-key, /api/otp), on the real core.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import { createApiHarness } from '../../../test/support/api-harness.ts'
import { insertTestApiKey } from '../../../test/support/api-keys.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** The document's `ts`: ISO 8601 with milliseconds, in UTC. */
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const BASE = '/tempmail-worker'

/** An OpenAI / ChatGPT login-code mail as it arrives: multipart/alternative, quoted-printable HTML. */
function chatgptMail(
  to: string,
  { from = 'OpenAI <noreply@tm.openai.com>', subject = 'Your ChatGPT code is 847291', code = '847291' } = {},
) {
  return new TextEncoder().encode(
    [
      'Return-Path: <bounces+2891@em.openai.com>',
      'Received: from o1.em.openai.com (o1.em.openai.com [198.51.100.7]) by mx.example with ESMTPS; Mon, 27 Apr 2026 14:00:05 +0000',
      `From: ${from}`,
      `To: ${to}`,
      `Subject: ${subject}`,
      'Date: Mon, 27 Apr 2026 14:00:05 +0000',
      `Message-ID: <${randomBytes(8).toString('hex')}@openai.com>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1_openai"',
      '',
      '--b1_openai',
      'Content-Type: text/plain; charset="utf-8"',
      'Content-Transfer-Encoding: 7bit',
      '',
      `Your ChatGPT code is ${code}`,
      '',
      'Enter this temporary verification code to continue:',
      '',
      code,
      '',
      'If you were not trying to log in to ChatGPT, please reset your password.',
      '',
      'Best,',
      'The ChatGPT team',
      '--b1_openai',
      'Content-Type: text/html; charset="utf-8"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<!DOCTYPE html><html><body style=3D"font-family:S=C3=B6hne,Helvetica,sans-serif">',
      '<p>Enter this temporary verification code to continue:</p>',
      `<h1 style=3D"font-size:32px;letter-spacing:4px">${code}</h1>`,
      '<p>If you were not trying to log in to ChatGPT, please reset your password.</p>',
      '</body></html>',
      '--b1_openai--',
      '',
    ].join('\r\n'),
  )
}

/** A plain mail with the given body parts (either may be absent). */
function plainMail(to: string, subject: string, { text, html }: { text?: string; html?: string }) {
  const head = ['From: Sender <sender@example.org>', `To: ${to}`, `Subject: ${subject}`, 'MIME-Version: 1.0']
  const lines =
    text !== undefined && html !== undefined
      ? [
          ...head,
          'Content-Type: multipart/alternative; boundary="alt"',
          '',
          '--alt',
          'Content-Type: text/plain; charset=utf-8',
          '',
          text,
          '--alt',
          'Content-Type: text/html; charset=utf-8',
          '',
          html,
          '--alt--',
        ]
      : [
          ...head,
          `Content-Type: text/${html === undefined ? 'plain' : 'html'}; charset=utf-8`,
          '',
          text ?? html ?? '',
        ]
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n`)
}

describe('compat tempmail-worker', () => {
  let api: Harness
  let key: string
  let otherKey: string
  const call = (method: string, path: string, apiKey: string | null = key) =>
    api.call(method, `${BASE}${path}`, {
      token: null,
      headers: apiKey === null ? {} : { 'x-api-key': apiKey },
    })
  const generate = async (apiKey = key) =>
    (await call('POST', '/api/generate', apiKey)).json.data.email as string
  const inbox = (address: string, apiKey = key) =>
    call('GET', `/api/inbox/${encodeURIComponent(address)}`, apiKey)
  async function receive(raw: Uint8Array, address: string) {
    await api.deliver(raw, [address])
    await api.processed()
  }

  beforeAll(async () => {
    api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-worker',
      EPHEMAIL_DOMAINS: 'mail.example.com,inbox.example.net',
      EPHEMAIL_TTL_DEFAULT_SECONDS: '21600',
    })
    ;({ key } = await insertTestApiKey(api.storage))
    ;({ key: otherKey } = await insertTestApiKey(api.storage, { name: 'someone else' }))
  })
  afterAll(() => api.close())

  test('GET /health: open, the documented body (version 1.0.0, the API version emulated); the native /health stays', async () => {
    const { status, json } = await call('GET', '/health', null)
    expect(status).toBe(200)
    expect(json).toEqual({
      success: true,
      data: { status: 'ok', service: 'TempMail', version: '1.0.0' },
      ts: expect.stringMatching(TS),
    })
    const native = await api.call('GET', '/health', { token: null })
    expect(native.json).toEqual({ status: 'ok' })
  })

  test('POST /api/generate with an empty body: {email, domain, username, expires_in_hours} (6 h TTL)', async () => {
    // The document's fetch example sends Content-Type: application/json and no body.
    const response = await api.call('POST', `${BASE}/api/generate`, {
      token: null,
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
    })
    expect(response.status).toBe(200)
    expect(response.json).toEqual({
      success: true,
      data: {
        email: expect.any(String),
        domain: expect.any(String),
        username: expect.any(String),
        expires_in_hours: 6,
      },
      ts: expect.stringMatching(TS),
    })
    const { email, domain, username } = response.json.data
    expect(email).toBe(`${username}@${domain}`)
    expect(['mail.example.com', 'inbox.example.net']).toContain(domain)
    // A real mailbox of this key: the native API sees it.
    expect((await api.call('GET', `/v1/mailboxes/${email}`, { token: key })).status).toBe(200)
    // Native rate-limit headers: the document says key requests are unmetered, Ephemail meters the plan.
    expect(Number(response.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0)
    expect(response.headers.get('ratelimit')).not.toBeNull()
  })

  test('a key may use no domain: 503 "No domains available for this account"; GET /api/domains lists none', async () => {
    const narrow = `eph_${randomBytes(24).toString('base64url')}`
    await api.storage.insertApiKey({
      id: crypto.randomUUID(),
      name: 'narrow',
      prefix: narrow.slice(0, 12),
      keyHash: createHash('sha256').update(narrow).digest('hex'),
      scopes: ['read', 'write'],
      plan: 'default',
      allowedDomains: ['elsewhere.example'],
      createdAt: new Date(),
      expiresAt: null,
      lastUsedAt: null,
    })
    const refused = await call('POST', '/api/generate', narrow)
    expect(refused.status).toBe(503)
    expect(refused.json).toEqual({
      success: false,
      error: 'No domains available for this account',
      ts: expect.stringMatching(TS),
    })
    expect((await call('GET', '/api/domains', narrow)).json.data).toEqual({ domains: [] })
  })

  test('GET /api/domains: the documented example, the domains the key may use', async () => {
    const { status, json } = await call('GET', '/api/domains')
    expect(status).toBe(200)
    expect(json).toEqual({
      success: true,
      data: { domains: [{ domain: 'mail.example.com' }, { domain: 'inbox.example.net' }] },
      ts: expect.stringMatching(TS),
    })
  })

  test('errors: {success:false, error, ts}; 401 without or with a wrong x-api-key, Bearer is not this API', async () => {
    for (const apiKey of [null, 'tmp_your_api_key_here']) {
      const { status, json, headers } = await call('POST', '/api/generate', apiKey)
      expect(status).toBe(401)
      expect(headers.get('content-type')).toBe('application/json')
      expect(json).toEqual({ success: false, error: expect.any(String), ts: expect.stringMatching(TS) })
    }
    const bearer = await api.call('GET', `${BASE}/api/domains`, { token: key })
    expect(bearer.status).toBe(401)
    const unknownRoute = await call('GET', '/api/nothing-here')
    expect(unknownRoute.status).toBe(404)
    expect(unknownRoute.json.success).toBe(false)
  })

  test('GET /api/inbox/:address (URL-encoded): {address, count, emails[]} with the documented fields, newest first', async () => {
    const address = await generate()
    const empty = await inbox(address)
    expect(empty.json).toEqual({
      success: true,
      data: { address, count: 0, emails: [] },
      ts: expect.stringMatching(TS),
    })
    await receive(plainMail(address, 'First', { text: 'Hello there' }), address)
    await receive(chatgptMail(address), address)
    const { status, json } = await inbox(address)
    expect(status).toBe(200)
    expect(json.data.address).toBe(address)
    expect(json.data.count).toBe(2)
    const [newest, oldest] = json.data.emails
    expect(Object.keys(newest).sort()).toEqual(
      ['created_at', 'expires_at', 'from_address', 'id', 'subject', 'text_content'].sort(),
    )
    expect(newest).toMatchObject({
      id: expect.stringMatching(UUID),
      from_address: 'noreply@tm.openai.com',
      subject: 'Your ChatGPT code is 847291',
      created_at: expect.stringMatching(TS),
    })
    expect(newest.text_content).toContain('Enter this temporary verification code to continue:')
    expect(oldest).toMatchObject({ subject: 'First', from_address: 'sender@example.org' })
    expect(oldest.text_content.trim()).toBe('Hello there')
    // expires_at: the message goes with its mailbox.
    const mailbox = await api.call('GET', `/v1/mailboxes/${address}`, { token: key })
    expect(newest.expires_at).toBe(mailbox.json.expiresAt)
    // The documented polling loop's read: json.data.emails[0] is the newest.
    expect(json.data.emails[0].subject).toContain('ChatGPT')
  })

  test('an inbox lists at most 50 emails; text_content is cut at 5000 characters, HTML-only mail gets text', async () => {
    const address = await generate()
    for (let index = 0; index < 52; index++)
      await api.deliver(plainMail(address, `Message ${index}`, { text: `Body ${index}` }), [address])
    await api.deliver(plainMail(address, 'Long', { text: 'x'.repeat(6000) }), [address])
    await api.deliver(plainMail(address, 'HTML only', { html: '<p>Your code is <b>246810</b></p>' }), [
      address,
    ])
    await api.processed()
    const { json } = await inbox(address)
    expect(json.data.count).toBe(50)
    expect(json.data.emails).toHaveLength(50)
    expect(json.data.emails[0].subject).toBe('HTML only')
    expect(json.data.emails[0].text_content).toContain('Your code is 246810')
    expect(json.data.emails[1].subject).toBe('Long')
    expect(json.data.emails[1].text_content).toBe('x'.repeat(5000))
    expect(json.data.emails.at(-1).subject).toBe('Message 4')
  })

  test('GET /api/email/:id: every documented field; text cut at 5000, sanitised HTML cut at 50,000, null without HTML', async () => {
    const address = await generate()
    const longHtml = `<div><script>alert(1)</script>${'<p>y</p>'.repeat(8000)}</div>`
    await receive(plainMail(address, 'Big', { text: 'z'.repeat(7000), html: longHtml }), address)
    await receive(plainMail(address, 'Text only', { text: 'Just text' }), address)
    const [textOnly, big] = (await inbox(address)).json.data.emails
    const { status, json } = await call('GET', `/api/email/${big.id}`)
    expect(status).toBe(200)
    expect(json).toEqual({
      success: true,
      data: {
        id: big.id,
        from_address: 'sender@example.org',
        to_address: address,
        subject: 'Big',
        text_content: 'z'.repeat(5000),
        html_content: expect.any(String),
        size_bytes: expect.any(Number),
        created_at: big.created_at,
        expires_at: big.expires_at,
      },
      ts: expect.stringMatching(TS),
    })
    expect(json.data.html_content).toHaveLength(50_000)
    expect(json.data.html_content).not.toContain('<script')
    const native = await api.call('GET', `/v1/messages/${big.id}`, { token: key })
    expect(json.data.size_bytes).toBe(native.json.size)
    const plain = await call('GET', `/api/email/${textOnly.id}`)
    expect(plain.json.data.html_content).toBeNull()
    expect(plain.json.data.text_content.trim()).toBe('Just text')
  })

  test('what a key may not see is 404 in the envelope: another key’s inbox, email, OTP; unknown ids and addresses', async () => {
    const address = await generate()
    await receive(chatgptMail(address), address)
    const [email] = (await inbox(address)).json.data.emails
    const encoded = encodeURIComponent(address)
    for (const [method, path] of [
      ['GET', `/api/inbox/${encoded}`],
      ['DELETE', `/api/inbox/${encoded}`],
      ['GET', `/api/otp/${encoded}`],
      ['GET', `/api/email/${email.id}`],
      ['DELETE', `/api/email/${email.id}`],
    ] as const) {
      const { status, json } = await call(method, path, otherKey)
      expect(status).toBe(404)
      expect(json).toEqual({ success: false, error: expect.any(String), ts: expect.stringMatching(TS) })
    }
    expect((await call('GET', '/api/email/not-a-uuid')).status).toBe(404)
    expect((await call('GET', `/api/email/${crypto.randomUUID()}`)).status).toBe(404)
    expect((await inbox('nobody@mail.example.com')).status).toBe(404)
    // Still there for its owner.
    expect((await inbox(address)).json.data.count).toBe(1)
  })

  test('DELETE /api/email/:id: {deleted:true}; DELETE /api/inbox/:address: {cleared:true, address}', async () => {
    const address = await generate()
    await receive(plainMail(address, 'One', { text: '1' }), address)
    await receive(plainMail(address, 'Two', { text: '2' }), address)
    const [two] = (await inbox(address)).json.data.emails
    const deleted = await call('DELETE', `/api/email/${two.id}`)
    expect(deleted.json).toEqual({ success: true, data: { deleted: true }, ts: expect.stringMatching(TS) })
    expect((await call('GET', `/api/email/${two.id}`)).status).toBe(404)
    expect((await inbox(address)).json.data.count).toBe(1)
    // The document's example address form: upper case and encoded still name the same mailbox.
    const cleared = await call('DELETE', `/api/inbox/${encodeURIComponent(address.toUpperCase())}`)
    expect(cleared.status).toBe(200)
    expect(cleared.json).toEqual({
      success: true,
      data: { cleared: true, address },
      ts: expect.stringMatching(TS),
    })
    expect((await inbox(address)).json.data).toEqual({ address, count: 0, emails: [] })
  })

  test('GET /api/otp/:address: "Not yet" until a code arrives, then the documented found body', async () => {
    const address = await generate()
    const otp = () => call('GET', `/api/otp/${encodeURIComponent(address)}`)
    const notYet = await otp()
    expect(notYet.status).toBe(200)
    // The document's "Not yet" example has no ts; every answer here carries one (the envelope's rule).
    expect(notYet.json).toEqual({
      success: true,
      data: { found: false, otp: null, message: 'No OTP code found in any inbox emails' },
      ts: expect.stringMatching(TS),
    })
    await receive(plainMail(address, 'Welcome', { text: 'Thanks for signing up.' }), address)
    expect((await otp()).json.data.found).toBe(false)
    await receive(
      chatgptMail(address, { from: 'OpenAI <noreply@openai.com>', subject: 'Your ChatGPT login code' }),
      address,
    )
    const [email] = (await inbox(address)).json.data.emails
    const { json } = await otp()
    expect(json).toEqual({
      success: true,
      data: {
        found: true,
        otp: '847291',
        email_id: email.id,
        from: 'noreply@openai.com',
        subject: 'Your ChatGPT login code',
        received_at: email.created_at,
      },
      ts: expect.stringMatching(TS),
    })
  })

  test('OTP codes come from Ephemail’s extractor: any length it recognises; a newer link-only mail does not hide a code', async () => {
    const address = await generate()
    const otp = async () => (await call('GET', `/api/otp/${encodeURIComponent(address)}`)).json.data
    await receive(
      chatgptMail(address, { subject: 'Your ChatGPT code is 48213907', code: '48213907' }),
      address,
    )
    expect(await otp()).toMatchObject({ found: true, otp: '48213907', from: 'noreply@tm.openai.com' })
    await receive(
      plainMail(address, 'Verify your email address', {
        text: 'Confirm your email address:\nhttps://auth.openai.com/verify?token=9f8e7d6c5b4a3f2e1d0c\n',
      }),
      address,
    )
    const [linkOnly] = (await inbox(address)).json.data.emails
    const native = await api.call('GET', `/v1/messages/${linkOnly.id}`, { token: key })
    expect(native.json).toMatchObject({ otp: null, link: expect.stringContaining('auth.openai.com') })
    expect(await otp()).toMatchObject({ found: true, otp: '48213907' })
    // A newer code wins.
    await receive(chatgptMail(address, { subject: 'Your ChatGPT code is 550271', code: '550271' }), address)
    expect(await otp()).toMatchObject({ found: true, otp: '550271' })
  })

  test('429 in the envelope once the plan is spent, with the native X-RateLimit-* headers and Retry-After', async () => {
    const limited = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-worker',
      EPHEMAIL_RATE_PLANS: '{"default":{"requests":2,"windowSeconds":60}}',
    })
    try {
      const { key: small } = await insertTestApiKey(limited.storage)
      const domains = () =>
        limited.call('GET', `${BASE}/api/domains`, { token: null, headers: { 'x-api-key': small } })
      await domains()
      await domains()
      const third = await domains()
      expect(third.status).toBe(429)
      expect(third.json).toEqual({ success: false, error: expect.any(String), ts: expect.stringMatching(TS) })
      expect(third.headers.get('x-ratelimit-remaining')).toBe('0')
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
    } finally {
      await limited.close()
    }
  })

  test('a read-only key cannot change anything: 401 (the document has no 403)', async () => {
    const readOnly = `eph_${randomBytes(24).toString('base64url')}`
    await api.storage.insertApiKey({
      id: crypto.randomUUID(),
      name: 'read only',
      prefix: readOnly.slice(0, 12),
      keyHash: createHash('sha256').update(readOnly).digest('hex'),
      scopes: ['read'],
      plan: 'default',
      allowedDomains: null,
      createdAt: new Date(),
      expiresAt: null,
      lastUsedAt: null,
    })
    const refused = await call('POST', '/api/generate', readOnly)
    expect(refused.status).toBe(401)
    expect(refused.json.success).toBe(false)
    expect((await call('GET', '/api/domains', readOnly)).status).toBe(200)
  })

  test('mounted at the root its GET /health would shadow the native one: startup refuses it', async () => {
    const mounting = createApiHarness({ EPHEMAIL_COMPAT: 'tempmail-worker:/' })
    await expect(mounting).rejects.toThrow(
      'GET /health is claimed twice (by the native API and tempmail-worker)',
    )
  }, 30_000)

  test('the OpenAPI document: its tag, x-api-key security, an open health probe, the error envelope schema', async () => {
    const { json: document } = await api.call('GET', '/openapi.json', { token: null })
    const health = document.paths[`${BASE}/health`].get
    expect(health.tags).toEqual(['TempMail (tempmail-worker) compatibility'])
    expect(health.security).toEqual([])
    const otp = document.paths[`${BASE}/api/otp/{address}`].get
    expect(otp.security).toEqual([{ tempmailWorkerKey: [] }])
    expect(otp.responses['404'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/TempmailWorkerError',
    )
    expect(otp.responses['200'].headers['X-RateLimit-Limit']).toBeDefined()
    expect(document.components.securitySchemes.tempmailWorkerKey).toMatchObject({
      in: 'header',
      name: 'x-api-key',
    })
  })
})
