// tempmail-io against the examples of its document (generate/inbox/read, webhook.php, domains.php, the WebSocket), on the real core.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import { createApiHarness } from '../../../test/support/api-harness.ts'
import { insertTestApiKey } from '../../../test/support/api-keys.ts'
import { startTestEphemail, type TestEphemail } from '../../../test/support/ephemail.ts'
import { openWebSocket } from '../../../test/support/live-clients.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

/** A real RFC 5322 message as the document's example: GitHub's verification mail with a six-digit code. */
function githubMail(to: string, code = '482910'): Uint8Array {
  return new TextEncoder().encode(
    [
      'From: GitHub <noreply@github.com>',
      `To: ${to}`,
      'Subject: Verify your email address',
      'Date: Sat, 07 Mar 2026 13:05:22 +0000',
      'Message-ID: <verify-482910@github.com>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      `Your verification code is ${code}.`,
      '',
      'It expires in 10 minutes.',
      '',
    ].join('\r\n'),
  )
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

describe('compat tempmail-io', () => {
  let api: Harness
  let key: string
  const get = (path: string) => api.call('GET', path, { token: null })
  const post = (path: string, fields: Record<string, string>) =>
    api.call('POST', path, { token: null, body: form(fields), headers: FORM })

  beforeAll(async () => {
    api = await createApiHarness(
      {
        EPHEMAIL_COMPAT: 'tempmail-io',
        EPHEMAIL_DOMAINS: 'tempmail.io',
        EPHEMAIL_MX_HOSTS: 'mx.tempmail.io',
        EPHEMAIL_RATE_PLANS: '{"default":{"requests":100,"windowSeconds":60}}',
      },
      // The document's MX step done: every registered domain points at mx.tempmail.io.
      { mxResolver: { resolveMx: async () => [{ exchange: 'mx.tempmail.io', priority: 10 }] } },
    )
    // A key made through the native admin API works as ?key=.
    const issued = await api.call('POST', '/v1/admin/keys', { body: { name: 'tempmail-io' } })
    expect(issued.status).toBe(201)
    key = issued.json.key
  }, 30_000)
  afterAll(() => api.close())

  test('the three-step example: generate_email → inbox → read, with the pre-parsed otp', async () => {
    const generated = await get(`/v1/generate_email.php?key=${key}`)
    expect(generated.status).toBe(200)
    const { email } = generated.json
    expect(email).toMatch(/^[a-z0-9._-]+@tempmail\.io$/)
    expect(Object.keys(generated.json).sort()).toEqual(['email', 'expires_at'])
    // The native X-RateLimit-* set, with the X-RateLimit-Remaining the document names.
    expect(generated.headers.get('x-ratelimit-limit')).toBe('100')
    expect(Number(generated.headers.get('x-ratelimit-remaining'))).toBeLessThan(100)

    expect((await get(`/v1/inbox.php?key=${key}&email=${email}`)).json).toEqual([])
    await api.deliver(githubMail(email), [email])
    await api.processed()
    const inbox = await get(`/v1/inbox.php?key=${key}&email=${email}`)
    expect(inbox.status).toBe(200)
    expect(inbox.json).toEqual([
      {
        id: expect.any(String),
        sender: 'noreply@github.com',
        subject: 'Verify your email address',
        date_received: expect.stringMatching(ISO_SECONDS),
      },
    ])

    const msg = await get(`/v1/read.php?key=${key}&email=${email}&id=${inbox.json[0].id}`)
    expect(msg.status).toBe(200)
    expect(msg.json).toMatchObject({
      id: inbox.json[0].id,
      email,
      sender: 'noreply@github.com',
      subject: 'Verify your email address',
      date_received: inbox.json[0].date_received,
      otp: '482910',
      confirmation_link: null,
    })
    // The python example's fallback: a regex on the raw body finds the same code.
    expect(msg.json.body.match(/(\d{4,8})/)?.[1]).toBe('482910')
  })

  test('inbox.php is newest first; read.php gives a confirmation_link when the mail sends a link', async () => {
    const { email } = (await get(`/v1/generate_email.php?key=${key}`)).json
    await api.deliver(githubMail(email, '111111'), [email])
    await api.processed()
    const link = new TextEncoder().encode(
      [
        'From: Shop <accounts@shop.example>',
        `To: ${email}`,
        'Subject: Confirm your account',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=UTF-8',
        '',
        'Click to confirm: https://shop.example/confirm?token=9f8e7d6c5b4a',
        '',
      ].join('\r\n'),
    )
    await api.deliver(link, [email])
    await api.processed()
    const inbox = (await get(`/v1/inbox.php?key=${key}&email=${email}`)).json
    expect(inbox.map((item: { subject: string }) => item.subject)).toEqual([
      'Confirm your account',
      'Verify your email address',
    ])
    const msg = (await get(`/v1/read.php?key=${key}&email=${email}&id=${inbox[0].id}`)).json
    expect(msg.otp).toBeNull()
    expect(msg.confirmation_link).toBe('https://shop.example/confirm?token=9f8e7d6c5b4a')
  })

  test('errors (undocumented there): {"error": "..."} with the native HTTP status; what a key may not see is 404', async () => {
    const missing = await get('/v1/generate_email.php')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('content-type')).toBe('application/json')
    expect(missing.json).toEqual({ error: expect.any(String) })
    expect((await get('/v1/generate_email.php?key=eph_not-a-key')).status).toBe(401)

    // Another key's mailbox and message are absent, as natively.
    const { key: other } = await insertTestApiKey(api.storage)
    const { email } = (await get(`/v1/generate_email.php?key=${key}`)).json
    await api.deliver(githubMail(email), [email])
    await api.processed()
    const [item] = (await get(`/v1/inbox.php?key=${key}&email=${email}`)).json
    const foreign = await get(`/v1/inbox.php?key=${other}&email=${email}`)
    expect(foreign.status).toBe(404)
    expect(foreign.json).toEqual({ error: expect.stringContaining(email) })
    expect((await get(`/v1/read.php?key=${other}&email=${email}&id=${item.id}`)).status).toBe(404)
    // A message id of one of the key's mailboxes, asked for under another of its addresses: 404.
    const { email: second } = (await get(`/v1/generate_email.php?key=${key}`)).json
    expect((await get(`/v1/read.php?key=${key}&email=${second}&id=${item.id}`)).status).toBe(404)
    expect((await get(`/v1/read.php?key=${key}&email=${email}&id=nope`)).status).toBe(404)

    const noEmail = await get(`/v1/inbox.php?key=${key}`)
    expect(noEmail.status).toBe(400)
    expect(noEmail.json).toEqual({ error: expect.any(String) })
    const unknownDomain = await get(`/v1/generate_email.php?key=${key}&domain=elsewhere.example`)
    expect(unknownDomain.status).toBe(422)
    expect(unknownDomain.json.error).toContain('elsewhere.example')
  })

  test('the domain example: domains.php (form key=&domain=) then generate_email.php?domain=', async () => {
    // Registering a domain is an administrator's act in Ephemail: a plain key is refused…
    const plain = await post('/v1/domains.php', { key, domain: 'yourcompany.com' })
    expect(plain.status).toBe(403)
    expect(plain.json).toEqual({ error: expect.any(String) })
    // …a key with the admin scope (made through the native admin API) registers it, private to itself.
    const admin = await api.call('POST', '/v1/admin/keys', {
      body: { name: 'premium', scopes: ['read', 'write', 'admin'] },
    })
    const premium = admin.json.key
    const registered = await api.call('POST', '/v1/domains.php', {
      token: null,
      body: `key=${premium}&domain=yourcompany.com`,
      headers: FORM,
    })
    expect(registered.status).toBe(200)
    expect(registered.json).toEqual({ domain: 'yourcompany.com', status: 'verified', problems: [] })
    const generated = await get(`/v1/generate_email.php?key=${premium}&domain=yourcompany.com`)
    expect(generated.status).toBe(200)
    expect(generated.json.email).toEndWith('@yourcompany.com')
    // Private to the key that registered it.
    expect((await get(`/v1/generate_email.php?key=${key}&domain=yourcompany.com`)).status).toBe(422)
    // Registered twice: a conflict.
    expect((await post('/v1/domains.php', { key: premium, domain: 'yourcompany.com' })).status).toBe(409)
  })

  test('"Premium only": webhook.php and domains.php refuse a mailbox token (403); the key may come as ?key=', async () => {
    const box = await api.call('POST', '/v1/mailboxes', { body: { localPart: 'tokenholder' } })
    const token = box.json.token
    // A mailbox token reads its own mailbox here like an API key…
    expect((await get(`/v1/inbox.php?key=${token}&email=${box.json.address}`)).status).toBe(200)
    // …but registers neither webhooks nor domains.
    const hook = await post('/v1/webhook.php', {
      key: token,
      email: box.json.address,
      url: 'https://hooks.example/x',
    })
    expect(hook.status).toBe(403)
    expect(hook.json.error).toContain('API key')
    const viaQuery = await api.call('POST', `/v1/domains.php?key=${token}`, {
      token: null,
      body: form({ domain: 'x.example' }),
      headers: FORM,
    })
    expect(viaQuery.status).toBe(403)
  })

  test('a key sent only as a form field is metered on its own plan', async () => {
    const { email } = (await get(`/v1/generate_email.php?key=${key}`)).json
    const missingUrl = await post('/v1/webhook.php', { key, email })
    // Authenticated (not 401) and metered as the key (its plan of 100, not the anonymous 300).
    expect(missingUrl.status).toBe(400)
    expect(missingUrl.headers.get('x-ratelimit-limit')).toBe('100')
  })

  test('the rate limit: 429 in the same envelope, X-RateLimit-Remaining 0', async () => {
    const limited = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-io',
      EPHEMAIL_RATE_PLANS: '{"default":{"requests":2,"windowSeconds":60}}',
    })
    try {
      const { key: small } = await insertTestApiKey(limited.storage)
      const call = () => limited.call('GET', `/v1/generate_email.php?key=${small}`, { token: null })
      await call()
      await call()
      const third = await call()
      expect(third.status).toBe(429)
      expect(third.json).toEqual({ error: expect.any(String) })
      expect(third.headers.get('x-ratelimit-remaining')).toBe('0')
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
    } finally {
      await limited.close()
    }
  })

  test('the OpenAPI document lists the layer under its tag with ?key= and the {error} schema', async () => {
    const { json: document } = await api.call('GET', '/openapi.json', { token: null })
    const operation = document.paths['/v1/read.php'].get
    expect(operation.tags).toEqual(['tempmail.io compatibility'])
    expect(operation.security).toEqual([{ tempmailIoKey: [] }])
    expect(operation.responses['404'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/TempmailIoError',
    )
    expect(document.paths['/v1/ws.php'].get).toBeDefined()
  })
})

describe('compat tempmail-io on a listening server: webhook deliveries and the WebSocket', () => {
  let eph: TestEphemail
  let key: string

  beforeAll(async () => {
    eph = await startTestEphemail({
      EPHEMAIL_COMPAT: 'tempmail-io',
      EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32',
      EPHEMAIL_WEBHOOK_BACKOFF_MS: '50',
    })
    const issued = await eph.api('/v1/admin/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hooks' }),
    })
    key = (await issued.json()).key
  }, 30_000)
  afterAll(() => eph.stop())

  const generate = async () => {
    const response = await fetch(`http://127.0.0.1:${eph.httpPort}/v1/generate_email.php?key=${key}`)
    return ((await response.json()) as { email: string }).email
  }
  const sendGithubMail = (to: string) =>
    eph.send({
      to,
      from: 'GitHub <noreply@github.com>',
      subject: 'Verify your email address',
      text: 'Your verification code is 482910.',
    })

  test('the webhook example: curl -d key -d email -d url, then a signed POST of the documented payload', async () => {
    const received: { path: string; headers: Record<string, string>; body: string }[] = []
    const receiver = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(request) {
        received.push({
          path: new URL(request.url).pathname,
          headers: Object.fromEntries(request.headers),
          body: await request.text(),
        })
        return new Response('ok')
      },
    })
    try {
      const email = await generate()
      const url = `http://127.0.0.1:${receiver.port}/hook`
      const registered = await fetch(`http://127.0.0.1:${eph.httpPort}/v1/webhook.php`, {
        method: 'POST',
        headers: FORM,
        body: form({ key, email, url }),
      })
      expect(registered.status).toBe(200)
      const { secret, ...rest } = (await registered.json()) as { secret: string } & Record<string, string>
      expect(rest).toEqual({ id: expect.any(String), email, url })
      expect(secret).toStartWith('whsec_')
      // A native webhook on the same mailbox keeps the Standard Webhooks body: the format is per webhook.
      const native = await eph.api('/v1/webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/native`, address: email }),
      })
      expect(native.status).toBe(201)

      await sendGithubMail(email)
      const deadline = Date.now() + 10_000
      while (received.length < 2 && Date.now() < deadline) await Bun.sleep(25)
      const hit = received.find((entry) => entry.path === '/hook')
      const standard = received.find((entry) => entry.path === '/native')
      expect(JSON.parse(standard?.body ?? '{}')).toMatchObject({
        type: 'message.processed',
        data: { address: email, otp: '482910' },
      })
      if (!hit) throw new Error('no webhook delivery arrived')
      const payload = JSON.parse(hit.body)
      expect(payload).toEqual({
        event: 'message.received',
        id: expect.any(String),
        email,
        sender: 'noreply@github.com',
        subject: 'Verify your email address',
        otp: '482910',
        confirmation_link: null,
        received_at: expect.stringMatching(ISO_SECONDS),
      })
      expect(Object.keys(payload)).toEqual([
        'event',
        'id',
        'email',
        'sender',
        'subject',
        'otp',
        'confirmation_link',
        'received_at',
      ])
      // Still signed as Standard Webhooks: the secret shown at registration verifies it.
      expect(() => new Webhook(secret).verify(hit.body, hit.headers)).not.toThrow()
      // The id is the one inbox.php lists.
      const inbox = await fetch(`http://127.0.0.1:${eph.httpPort}/v1/inbox.php?key=${key}&email=${email}`)
      expect(((await inbox.json()) as { id: string }[])[0]?.id).toBe(payload.id)
    } finally {
      receiver.stop(true)
    }
  })

  test('the WebSocket (/v1/ws.php?key=&email=) pushes each processed message in the webhook payload shape', async () => {
    const email = await generate()
    const socket = await openWebSocket(`ws://127.0.0.1:${eph.httpPort}/v1/ws.php?key=${key}&email=${email}`)
    try {
      // The subscription is made once the socket is open; give it a moment before mail arrives.
      await Bun.sleep(100)
      await sendGithubMail(email)
      const pushed = await socket.next()
      expect(pushed).toEqual({
        event: 'message.received',
        id: expect.any(String),
        email,
        sender: 'noreply@github.com',
        subject: 'Verify your email address',
        otp: '482910',
        confirmation_link: null,
        received_at: expect.stringMatching(ISO_SECONDS),
      })
    } finally {
      socket.socket.close()
    }
    // Without a key, or for a mailbox the key may not see, the upgrade is refused in the envelope.
    const upgrade = (query: string) =>
      fetch(`http://127.0.0.1:${eph.httpPort}/v1/ws.php?${query}`, {
        headers: {
          upgrade: 'websocket',
          connection: 'Upgrade',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      })
    const refused = await upgrade(`email=${email}`)
    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({ error: expect.any(String) })
    const { key: other } = await (
      await eph.api('/v1/admin/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'other' }),
      })
    ).json()
    const foreign = await upgrade(`key=${other}&email=${email}`)
    expect(foreign.status).toBe(404)
    expect(await foreign.json()).toEqual({ error: expect.stringContaining(email) })
  })
})
