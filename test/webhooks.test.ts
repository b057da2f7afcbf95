// Webhooks on a real server with real HTTP receivers: signatures checked with the Standard Webhooks
// library, retries against a failing receiver, a receiver that never answers, SSRF refusals, filters, limits.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { ADMIN_KEY, startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { freePorts } from './support/ephemail-process.ts'

interface Received {
  headers: Record<string, string>
  body: string
  at: number
}

/** A real HTTP receiver on loopback whose answer each test decides. */
function startReceiver(
  answer: (request: Request, index: number) => Response | Promise<Response>,
  { hostname = '127.0.0.1', port = 0 }: { hostname?: string; port?: number } = {},
) {
  const received: Received[] = []
  const server = Bun.serve({
    hostname,
    port,
    idleTimeout: 0,
    async fetch(request) {
      const body = await request.text()
      const index = received.length
      received.push({ headers: Object.fromEntries(request.headers), body, at: Date.now() })
      return answer(request, index)
    },
  })
  return { url: `http://${hostname}:${server.port}/hook`, received, stop: () => server.stop(true) }
}

async function waitFor<T>(
  read: () => Promise<T> | T,
  ready: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs
  let last = await read()
  while (!ready(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await Bun.sleep(25)
    last = await read()
  }
  return last
}

let eph: TestEphemail

beforeAll(async () => {
  eph = await startTestEphemail({
    EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32',
    EPHEMAIL_WEBHOOK_ATTEMPTS: '4',
    EPHEMAIL_WEBHOOK_BACKOFF_MS: '50',
    EPHEMAIL_WEBHOOK_BACKOFF_CAP_MS: '200',
    EPHEMAIL_WEBHOOK_TIMEOUT_MS: '400',
    EPHEMAIL_WEBHOOK_CONCURRENCY_PER_ENDPOINT: '2',
  })
})
afterAll(async () => {
  await eph.stop()
})

function send(to: string, message: { subject: string; text: string; from?: string }) {
  return eph.send({ to, from: 'Acme <no-reply@acme.example>', ...message })
}

async function register(body: Record<string, unknown>, token = ADMIN_KEY) {
  const response = await eph.api('/v1/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: await response.json() }
}

async function deliveries(id: string) {
  const response = await eph.api(`/v1/webhooks/${id}/deliveries`)
  expect(response.status).toBe(200)
  return (await response.json()).items as {
    id: string
    state: string
    attempts: { status: number | null; latencyMs: number; error: string | null }[]
  }[]
}

describe('webhooks', () => {
  test('a processed message is POSTed with a Standard Webhooks signature over its summary, code and link', async () => {
    const receiver = startReceiver(() => new Response('ok'))
    try {
      const box = await eph.createMailbox('hook-signed')
      const created = await register({ url: receiver.url }, box.token)
      expect(created.status).toBe(201)
      expect(created.json).toMatchObject({ url: receiver.url, address: box.address, filter: {} })
      expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)

      await send(box.address, {
        subject: 'Confirm your email',
        text: 'Your code is 771204.\n\nOr confirm here: https://acme.example/verify?token=Zx81kQ\n',
      })
      await waitFor(
        () => receiver.received.length,
        (count) => count >= 1,
        'the webhook POST',
      )
      const [hit] = receiver.received as [Received]
      // The reference implementation accepts it (it checks the signature and the timestamp window)...
      const verified = new Webhook(created.json.secret).verify(hit.body, hit.headers) as {
        type: string
        data: Record<string, unknown>
      }
      expect(verified.type).toBe('message.processed')
      expect(verified.data).toMatchObject({
        address: box.address,
        from: { address: 'no-reply@acme.example', name: 'Acme' },
        subject: 'Confirm your email',
        otp: '771204',
        link: 'https://acme.example/verify?token=Zx81kQ',
      })
      // ...and so does the spec written out by hand: base64 HMAC-SHA256 of "id.timestamp.body".
      const key = Buffer.from(created.json.secret.slice('whsec_'.length), 'base64')
      const expected = createHmac('sha256', key)
        .update(`${hit.headers['webhook-id']}.${hit.headers['webhook-timestamp']}.${hit.body}`)
        .digest('base64')
      expect(hit.headers['webhook-signature']).toBe(`v1,${expected}`)
      expect(Math.abs(Number(hit.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30)
      expect(() => new Webhook(created.json.secret).verify(`${hit.body} `, hit.headers)).toThrow()

      const [delivery] = await waitFor(
        () => deliveries(created.json.id),
        (list) => list[0]?.state === 'delivered',
        'delivered state',
      )
      expect(delivery?.id).toBe(hit.headers['webhook-id'])
      expect(delivery?.attempts).toHaveLength(1)
      expect(delivery?.attempts[0]).toMatchObject({ status: 200, error: null })
    } finally {
      receiver.stop()
    }
  })

  test('a receiver that fails twice and then answers gets the same delivery again until it succeeds', async () => {
    const receiver = startReceiver(
      (_request, index) => new Response('busy', { status: index < 2 ? 503 : 204 }),
    )
    try {
      const box = await eph.createMailbox('hook-retry')
      const created = await register({ url: receiver.url, address: box.address })
      await send(box.address, { subject: 'Sign in', text: 'Your sign-in code: 400222' })
      const [delivery] = await waitFor(
        () => deliveries(created.json.id),
        (list) => list[0]?.state === 'delivered',
        'delivered after retries',
      )
      expect(delivery?.attempts.map((attempt) => attempt.status)).toEqual([503, 503, 204])
      expect(delivery?.attempts[0]?.error).toBe('the receiver answered HTTP 503')
      expect(receiver.received).toHaveLength(3)
      // At least once, recognisably: one webhook-id and one body for every try, a fresh signature each time.
      expect(new Set(receiver.received.map((hit) => hit.headers['webhook-id'])).size).toBe(1)
      expect(new Set(receiver.received.map((hit) => hit.body)).size).toBe(1)
      // Backoff: the tries are spread out, not fired back to back.
      const gaps = receiver.received
        .slice(1)
        .map((hit, index) => hit.at - (receiver.received[index] as Received).at)
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(35)
    } finally {
      receiver.stop()
    }
  })

  test('a receiver that is down for a while still gets the event once it is back', async () => {
    const [port] = await freePorts(1)
    const box = await eph.createMailbox('hook-down')
    const created = await register({ url: `http://127.0.0.1:${port}/hook`, address: box.address })
    await send(box.address, { subject: 'Code', text: 'Code: 650321' })
    const failed = await waitFor(
      () => deliveries(created.json.id),
      (list) => (list[0]?.attempts.length ?? 0) >= 1,
      'a failed try',
    )
    expect(failed[0]?.state).toBe('retrying')
    expect(failed[0]?.attempts[0]?.status).toBeNull()
    const receiver = startReceiver(() => new Response('ok'), { port: port as number })
    try {
      const [delivery] = await waitFor(
        () => deliveries(created.json.id),
        (list) => list[0]?.state === 'delivered',
        'delivered once up',
      )
      expect(delivery?.attempts.at(-1)?.status).toBe(200)
      expect(JSON.parse((receiver.received[0] as Received).body).data.otp).toBe('650321')
    } finally {
      receiver.stop()
    }
  })

  test('a receiver that never answers times out each attempt and ends dead, with every attempt listed', async () => {
    const receiver = startReceiver(() => new Promise<Response>(() => {}))
    try {
      const box = await eph.createMailbox('hook-silent')
      const created = await register({ url: receiver.url, address: box.address })
      await send(box.address, { subject: 'Code', text: 'Code: 918273' })
      const [delivery] = await waitFor(
        () => deliveries(created.json.id),
        (list) => list[0]?.state === 'dead',
        'dead',
        15_000,
      )
      expect(delivery?.attempts).toHaveLength(4)
      for (const attempt of delivery?.attempts ?? []) {
        expect(attempt.status).toBeNull()
        expect(attempt.error).toContain('timed out after 400 ms')
        expect(attempt.latencyMs).toBeGreaterThanOrEqual(350)
      }
    } finally {
      receiver.stop()
    }
  }, 20_000)

  test('no more than the per-endpoint limit of deliveries run at once against one receiver', async () => {
    let inFlight = 0
    let most = 0
    const receiver = startReceiver(async () => {
      inFlight++
      most = Math.max(most, inFlight)
      await Bun.sleep(120)
      inFlight--
      return new Response('ok')
    })
    try {
      const box = await eph.createMailbox('hook-limit')
      const created = await register({ url: receiver.url, address: box.address })
      await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          send(box.address, { subject: `Code ${index}`, text: `Code: 55500${index}` }),
        ),
      )
      await waitFor(
        () => deliveries(created.json.id),
        (list) => list.length === 6 && list.every((delivery) => delivery.state === 'delivered'),
        'six deliveries',
      )
      expect(most).toBe(2)
    } finally {
      receiver.stop()
    }
  })

  test('filters pick the mail: sender domain, subject words, has a code', async () => {
    const receiver = startReceiver(() => new Response('ok'))
    try {
      const box = await eph.createMailbox('hook-filter')
      const created = await register({
        url: receiver.url,
        address: box.address,
        filter: { from: 'acme.example', subjectContains: 'VERIFY', hasOtp: true },
      })
      await send(box.address, { subject: 'Newsletter', text: 'No code here.' })
      await send(box.address, {
        subject: 'Please verify',
        text: 'Your code: 303030',
        from: 'x@other.example',
      })
      await send(box.address, { subject: 'Please verify', text: 'Thanks for joining, no code today.' })
      await send(box.address, { subject: 'Verify your login', text: 'Your code: 404040' })
      await waitFor(
        () => receiver.received.length,
        (count) => count >= 1,
        'the matching POST',
      )
      await eph.api(`/v1/mailboxes/${box.address}/otp?wait=5`)
      await Bun.sleep(300)
      expect(receiver.received.map((hit) => JSON.parse(hit.body).data.otp)).toEqual(['404040'])
      expect(await deliveries(created.json.id)).toHaveLength(1)
    } finally {
      receiver.stop()
    }
  })

  test('an admin webhook without an address gets every mailbox; mailbox tokens see only their own', async () => {
    const receiver = startReceiver(() => new Response('ok'))
    try {
      const all = await register({ url: receiver.url, filter: { subjectContains: 'all-mail-probe' } })
      expect(all.status).toBe(201)
      expect(all.json.address).toBeNull()
      const a = await eph.createMailbox('hook-all-a')
      const b = await eph.createMailbox('hook-all-b')
      await send(a.address, { subject: 'all-mail-probe a', text: 'Code 121212' })
      await send(b.address, { subject: 'all-mail-probe b', text: 'Code 343434' })
      await waitFor(
        () => receiver.received.length,
        (count) => count >= 2,
        'two POSTs',
      )
      expect(receiver.received.map((hit) => JSON.parse(hit.body).data.address).sort()).toEqual(
        [a.address, b.address].sort(),
      )

      const own = await register({ url: receiver.url }, a.token)
      const headersOf = (token: string) => ({ authorization: `Bearer ${token}` })
      const listA = await (await eph.api('/v1/webhooks', { headers: headersOf(a.token) })).json()
      expect(listA.items.map((item: { id: string }) => item.id)).toEqual([own.json.id])
      expect((await eph.api(`/v1/webhooks/${all.json.id}`, { headers: headersOf(a.token) })).status).toBe(404)
      expect((await eph.api(`/v1/webhooks/${own.json.id}`, { headers: headersOf(b.token) })).status).toBe(404)
      expect((await register({ url: receiver.url, address: b.address }, a.token)).status).toBe(404)
      expect(
        (await eph.api(`/v1/webhooks/${own.json.id}`, { method: 'DELETE', headers: headersOf(a.token) }))
          .status,
      ).toBe(204)
      expect((await eph.api(`/v1/webhooks/${own.json.id}`)).status).toBe(404)
      expect((await eph.api(`/v1/webhooks/${all.json.id}`, { method: 'DELETE' })).status).toBe(204)
    } finally {
      receiver.stop()
    }
  })

  test('unsafe URLs are refused at registration, and a redirect to a blocked address is not followed', async () => {
    const box = await eph.createMailbox('hook-ssrf')
    for (const url of [
      'http://127.0.0.2/hook',
      'http://[::1]/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'ftp://127.0.0.1/hook',
      'http://user:pass@127.0.0.1/hook',
      'not a url',
    ]) {
      const refused = await register({ url, address: box.address })
      expect({ url, status: refused.status }).toEqual({ url, status: 422 })
      expect(refused.json.type).toEndWith('/url-not-allowed')
      expect(refused.json.detail).toBeString()
    }
    const blockedTarget = startReceiver(() => new Response('should never be reached'), {
      hostname: '127.0.0.2',
    })
    const redirecting = startReceiver(
      () => new Response(null, { status: 307, headers: { location: blockedTarget.url } }),
    )
    try {
      const created = await register({ url: redirecting.url, address: box.address })
      expect(created.status).toBe(201)
      await send(box.address, { subject: 'Code', text: 'Code: 777000' })
      const [delivery] = await waitFor(
        () => deliveries(created.json.id),
        (list) => list[0]?.state === 'dead',
        'dead delivery',
      )
      expect(delivery?.attempts).toHaveLength(1) // blocked for good: no retries
      expect(delivery?.attempts[0]?.error).toContain('127.0.0.2')
      expect(blockedTarget.received).toHaveLength(0)
      expect(redirecting.received).toHaveLength(1)
    } finally {
      blockedTarget.stop()
      redirecting.stop()
    }
  })

  test('validation: a bad body or filter is a 400 with the field named', async () => {
    const bad = await register({ url: 'http://127.0.0.1/x', filter: { hasOtp: 'yes' } })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(bad.json.errors)).toContain('hasOtp')
    const missing = await register({})
    expect(missing.status).toBe(400)
    expect(JSON.stringify(missing.json.errors)).toContain('url')
  })
})

test('a host that does not resolve is refused at registration with its name in the detail', async () => {
  const box = await eph.createMailbox('hook-nxdomain')
  const refused = await register({ url: 'https://no-such-host.invalid/hook', address: box.address })
  expect(refused.status).toBe(422)
  expect(refused.json.detail).toContain('no-such-host.invalid does not resolve')
})
