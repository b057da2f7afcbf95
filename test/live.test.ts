// Live delivery on a real server: SSE read by a real EventSource and by a raw stream reader, resume
// with Last-Event-ID, heartbeats, quiet streams, expiry; WebSocket subscriptions; long-polls.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { EventSource } from 'eventsource'
import nodemailer from 'nodemailer'
import { ADMIN_KEY, startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { openEventStream, openWebSocket, type StreamEvent } from './support/live-clients.ts'

const HEARTBEAT_MS = 300

let eph: TestEphemail
let base: string

beforeAll(async () => {
  eph = await startTestEphemail({
    EPHEMAIL_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    EPHEMAIL_TTL_MIN_SECONDS: '1',
  })
  base = `http://127.0.0.1:${eph.httpPort}`
})
afterAll(async () => {
  await eph.stop()
})

function sendCode(to: string, code: string, subject = `Your sign-in code is ${code}`) {
  return eph.send({
    to,
    subject,
    text: `Hello,\n\nUse the verification code ${code} to sign in. It expires in 10 minutes.\n\nAcme`,
  })
}

/** Waits for the end of a chunked HTTP response on a raw socket and returns its de-chunked body. */
async function waitForEndOfChunkedBody(chunks: Buffer[], timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const raw = Buffer.concat(chunks).toString('utf8')
    const start = raw.indexOf('\r\n\r\n') + 4
    let body = ''
    let at = start
    for (;;) {
      const lineEnd = raw.indexOf('\r\n', at)
      if (lineEnd === -1) break
      const size = Number.parseInt(raw.slice(at, lineEnd), 16)
      if (size === 0) return body
      if (raw.length < lineEnd + 2 + size + 2) break
      body += raw.slice(lineEnd + 2, lineEnd + 2 + size)
      at = lineEnd + 2 + size + 2
    }
    if (Date.now() > deadline) throw new Error(`the response did not end; ${raw.length} bytes so far`)
    await Bun.sleep(50)
  }
}

const eventsUrl = (address: string, query = '') =>
  `${base}/v1/mailboxes/${encodeURIComponent(address)}/events${query}`
const data = (event: StreamEvent) => JSON.parse(event.data)

describe('server-sent events', () => {
  test('a real EventSource with the mailbox token in the query sees the message arrive and its code', async () => {
    const box = await eph.createMailbox('sse-es')
    const source = new EventSource(eventsUrl(box.address, `?access_token=${box.token}`))
    const seen: { type: string; id: string; data: Record<string, unknown> }[] = []
    const record = (event: MessageEvent) =>
      seen.push({ type: event.type, id: event.lastEventId, data: JSON.parse(event.data) })
    source.addEventListener('message.received', record)
    source.addEventListener('message.processed', record)
    await new Promise<void>((resolve, reject) => {
      source.onopen = () => resolve()
      source.onerror = (error) => reject(new Error(`EventSource failed: ${error.message}`))
    })
    await sendCode(box.address, '482913')
    const deadline = Date.now() + 8000
    while (seen.length < 2 && Date.now() < deadline) await Bun.sleep(10)
    source.close()
    expect(seen.map((event) => event.type)).toEqual(['message.received', 'message.processed'])
    expect(seen.map((event) => event.id)).toEqual(['1', '2'])
    const [received, processed] = seen
    expect(received?.data).toMatchObject({
      address: box.address,
      from: { address: 'no-reply@acme.example', name: 'Acme Accounts' },
      subject: 'Your sign-in code is 482913',
    })
    expect(processed?.data).toMatchObject({
      id: received?.data.id,
      otp: '482913',
      link: null,
      address: box.address,
    })
  })

  test('Last-Event-ID resumes with every later event, in order, none twice', async () => {
    const box = await eph.createMailbox('sse-resume')
    const first = await openEventStream(eventsUrl(box.address), { authorization: `Bearer ${box.token}` })
    expect(first.response.status).toBe(200)
    expect(first.response.headers.get('content-type')).toStartWith('text/event-stream')
    await sendCode(box.address, '111111')
    await sendCode(box.address, '222222')
    const four = await first.next(4)
    first.close()
    expect(four.map((event) => event.id)).toEqual(['1', '2', '3', '4'])
    expect(first.read.retry).toBeGreaterThan(0)

    // Away after event 1: the rest comes back from storage, then live events follow without a seam.
    const resumed = await openEventStream(eventsUrl(box.address), {
      authorization: `Bearer ${box.token}`,
      'last-event-id': '1',
    })
    const replayed = await resumed.next(3)
    expect(replayed.map((event) => `${event.id} ${event.event}`)).toEqual(
      four.slice(1).map((event) => `${event.id} ${event.event}`),
    )
    expect(replayed.map((event) => event.data)).toEqual(four.slice(1).map((event) => event.data))
    await sendCode(box.address, '333333')
    const live = await resumed.next(2)
    expect(live.map((event) => event.id)).toEqual(['5', '6'])
    expect(data(live[1] as StreamEvent).otp).toBe('333333')
    await Bun.sleep(100)
    expect(resumed.read.events).toHaveLength(5) // nothing repeated after the live pair
    resumed.close()

    // The same resume point as a query parameter, for clients that cannot set the header.
    const byQuery = await openEventStream(eventsUrl(box.address, `?access_token=${box.token}&lastEventId=4`))
    expect((await byQuery.next(2)).map((event) => event.id)).toEqual(['5', '6'])
    byQuery.close()
  })

  test('heartbeat comments keep a quiet stream alive', async () => {
    const box = await eph.createMailbox('sse-heartbeat')
    const stream = await openEventStream(eventsUrl(box.address, `?access_token=${box.token}`))
    await Bun.sleep(HEARTBEAT_MS * 3.5)
    expect(stream.read.comments.filter((comment) => comment === 'keep-alive').length).toBeGreaterThanOrEqual(
      2,
    )
    expect(stream.read.ended).toBe(false)
    stream.close()
  })

  test('the stream ends with mailbox.expired when the mailbox runs out of time, and when it is deleted', async () => {
    const shortLived = await eph.createMailbox('sse-expiring', { ttlSeconds: 1 })
    const expiring = await openEventStream(eventsUrl(shortLived.address, `?access_token=${shortLived.token}`))
    const [expired] = await expiring.next(1, 5000)
    expect(expired?.event).toBe('mailbox.expired')
    expect(data(expired as StreamEvent)).toEqual({ address: shortLived.address, reason: 'expired' })
    await expiring.ended()

    const doomed = await eph.createMailbox('sse-deleted')
    const deleting = await openEventStream(eventsUrl(doomed.address, `?access_token=${doomed.token}`))
    await Bun.sleep(50)
    expect((await eph.api(`/v1/mailboxes/${doomed.address}`, { method: 'DELETE' })).status).toBe(204)
    const [deleted] = await deleting.next(1)
    expect(data(deleted as StreamEvent)).toEqual({ address: doomed.address, reason: 'deleted' })
    await deleting.ended()
  })

  test('errors are problem+json: no credential, a wrong token, a foreign mailbox, a bad Last-Event-ID', async () => {
    const box = await eph.createMailbox('sse-errors')
    const other = await eph.createMailbox('sse-errors-other')
    const cases: [string, Record<string, string>, number][] = [
      [eventsUrl(box.address), {}, 401],
      [eventsUrl(box.address, '?access_token=wrong-token'), {}, 401],
      [eventsUrl(box.address, `?access_token=${other.token}`), {}, 404],
      [eventsUrl(box.address, `?access_token=${box.token}`), { 'last-event-id': 'abc' }, 400],
    ]
    for (const [url, headers, status] of cases) {
      const response = await fetch(url, { headers })
      expect({ url, status: response.status }).toEqual({ url, status })
      expect(response.headers.get('content-type')).toStartWith('application/problem+json')
      expect((await response.json()).detail).toBeString()
    }
    // The query token is for the event routes only: elsewhere it is not a credential, and the 401 says so.
    const elsewhere = await fetch(`${base}/v1/mailboxes/${box.address}/messages?access_token=${box.token}`)
    expect(elsewhere.status).toBe(401)
    expect((await elsewhere.json()).detail).toContain(
      'access_token=<token>" is accepted only on the event stream',
    )
  })

  test('a reader that falls too far behind is cut off, and resumes from Last-Event-ID with nothing lost', async () => {
    const small = await startTestEphemail({
      EPHEMAIL_STREAM_MAX_BUFFERED_BYTES: '65536',
      EPHEMAIL_MAX_MESSAGE_BYTES: '100000',
    })
    try {
      const box = await small.createMailbox('sse-slow')
      // A raw socket that stops reading: the kernel buffers fill, then the server's stream queue does.
      const socket = connect(small.httpPort, '127.0.0.1')
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.write(
        `GET /v1/mailboxes/${box.address}/events?access_token=${box.token} HTTP/1.1\r\nHost: t\r\n\r\n`,
      )
      await Bun.sleep(100)
      socket.pause()
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: small.smtpPort,
        pool: true,
        maxConnections: 4,
        ignoreTLS: true,
      })
      // Words, so the client folds the header into lines of the allowed length (998 octets at most).
      const padding = Array.from({ length: 2500 }, () => 'padding').join(' ')
      const MESSAGES = 300
      await Promise.all(
        Array.from({ length: MESSAGES }, (_, i) =>
          transport.sendMail({
            from: 'bulk@acme.example',
            to: box.address,
            subject: `${i} ${padding}`,
            text: `Code ${100000 + i}`,
          }),
        ),
      )
      transport.close()
      await small.api(`/v1/mailboxes/${box.address}/otp?wait=5`)
      await Bun.sleep(500)
      socket.resume()
      const body = await waitForEndOfChunkedBody(chunks)
      socket.destroy()
      const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
      expect(ids.length).toBeGreaterThan(0)
      expect(ids.length).toBeLessThan(2 * MESSAGES) // cut off before the end
      expect(ids).toEqual(ids.map((_, index) => index + 1))

      // EventSource would now reconnect with the last id it saw: the rest arrives, in order, once each.
      const resumed = await openEventStream(
        `http://127.0.0.1:${small.httpPort}/v1/mailboxes/${box.address}/events?access_token=${box.token}`,
        { 'last-event-id': String(ids.at(-1)) },
      )
      const rest = await resumed.next(2 * MESSAGES - ids.length, 15_000)
      resumed.close()
      expect([...ids, ...rest.map((event) => Number(event.id))]).toEqual(
        Array.from({ length: 2 * MESSAGES }, (_, i) => i + 1),
      )
    } finally {
      await small.stop()
    }
  }, 40_000)

  test('a stream quiet for longer than Bun’s 10 s idle timeout stays open and still delivers', async () => {
    const quiet = await startTestEphemail({ EPHEMAIL_SSE_HEARTBEAT_MS: '60000' })
    try {
      const box = await quiet.createMailbox('sse-quiet')
      const stream = await openEventStream(
        `http://127.0.0.1:${quiet.httpPort}/v1/mailboxes/${box.address}/events?access_token=${box.token}`,
      )
      await Bun.sleep(11_500)
      expect(stream.read.ended).toBe(false)
      await quiet.send({
        from: 'a@acme.example',
        to: box.address,
        subject: 'late',
        text: 'Your code: 908172',
      })
      const events = await stream.next(2)
      expect(events.map((event) => event.event)).toEqual(['message.received', 'message.processed'])
      stream.close()
    } finally {
      await quiet.stop()
    }
    // 11.5 s of silence by design, plus a server start: room for a loaded machine.
  }, 40_000)
})

describe('websocket', () => {
  const wsUrl = (query = '') => `ws://127.0.0.1:${eph.httpPort}/v1/ws${query}`

  test('one connection follows several mailboxes, and unsubscribing stops one of them', async () => {
    const a = await eph.createMailbox('ws-a')
    const b = await eph.createMailbox('ws-b')
    const ws = await openWebSocket(wsUrl(`?access_token=${ADMIN_KEY}`))
    ws.send({ type: 'subscribe', address: a.address })
    expect(await ws.next()).toEqual({ type: 'subscribed', address: a.address, lastEventId: 0 })
    ws.send({ type: 'subscribe', address: b.address.toUpperCase() })
    expect(await ws.next()).toEqual({ type: 'subscribed', address: b.address, lastEventId: 0 })

    await sendCode(a.address, '515151')
    await sendCode(b.address, '626262')
    const got = [await ws.next(), await ws.next(), await ws.next(), await ws.next()]
    const byAddress = (address: string) => got.filter((message) => message.address === address)
    expect(byAddress(a.address).map((m) => `${m.id} ${m.event}`)).toEqual([
      '1 message.received',
      '2 message.processed',
    ])
    expect(byAddress(b.address).map((m) => `${m.id} ${m.event}`)).toEqual([
      '1 message.received',
      '2 message.processed',
    ])
    expect(byAddress(b.address)[1].data.otp).toBe('626262')

    ws.send({ type: 'unsubscribe', address: a.address })
    expect(await ws.next()).toEqual({ type: 'unsubscribed', address: a.address, reason: 'requested' })
    await sendCode(a.address, '737373')
    await sendCode(b.address, '848484')
    const after = [await ws.next(), await ws.next()]
    expect(after.every((message) => message.address === b.address)).toBe(true)
    expect(after[1].data.otp).toBe('848484')
    ws.send({ type: 'ping' })
    expect(await ws.next()).toEqual({ type: 'pong' }) // and nothing for a arrived before it
    ws.close()
  })

  test('subscribe with a mailbox token and a resume point, and clear errors for bad commands', async () => {
    const box = await eph.createMailbox('ws-token')
    const other = await eph.createMailbox('ws-token-other')
    await sendCode(box.address, '192837')
    const ws = await openWebSocket(wsUrl())
    ws.send({ type: 'subscribe', address: box.address })
    expect(await ws.next()).toMatchObject({ type: 'error', status: 401, address: box.address })
    // Wait until the code is processed, so the resume replays both events.
    const otp = await eph.api(`/v1/mailboxes/${box.address}/otp?wait=10`)
    expect((await otp.json()).otp).toBe('192837')
    ws.send({ type: 'subscribe', address: box.address, token: box.token, lastEventId: 0 })
    const replay = [await ws.next(), await ws.next(), await ws.next()]
    expect(replay.map((m) => (m.type === 'event' ? `${m.id} ${m.event}` : m.type))).toEqual([
      '1 message.received',
      '2 message.processed',
      'subscribed',
    ])
    ws.send({ type: 'subscribe', address: other.address, token: box.token })
    expect(await ws.next()).toMatchObject({ type: 'error', status: 404, address: other.address })
    ws.send({ type: 'subscribe', address: box.address, token: box.token })
    expect(await ws.next()).toMatchObject({ type: 'error', status: 409 })
    ws.socket.send('not json')
    expect(await ws.next()).toMatchObject({ type: 'error', status: 400, detail: 'the message is not JSON' })
    ws.send({ type: 'dance' })
    expect(await ws.next()).toMatchObject({ type: 'error', status: 400 })
    ws.close()
  })

  test('a wrong credential is refused at the upgrade with a 401', async () => {
    const response = await fetch(`${base}/v1/ws?access_token=nope`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toStartWith('application/problem+json')
  })
})

describe('long-poll', () => {
  test('the messages list with ?wait= is woken by the arriving message, and times out with an empty page', async () => {
    const box = await eph.createMailbox('poll-list')
    const empty = await eph.api(`/v1/mailboxes/${box.address}/messages?wait=1`)
    expect(await empty.json()).toEqual({ items: [], nextCursor: null })

    const waiting = eph.api(`/v1/mailboxes/${box.address}/messages?wait=20`)
    await Bun.sleep(100)
    await sendCode(box.address, '246810')
    const page = await (await waiting).json()
    expect(page.items).toHaveLength(1)
    expect(page.items[0].subject).toBe('Your sign-in code is 246810')

    // `after` waits for news past the newest message already seen.
    const newer = eph.api(`/v1/mailboxes/${box.address}/messages?wait=20&after=${page.items[0].id}`)
    await Bun.sleep(100)
    await sendCode(box.address, '135791')
    const next = await (await newer).json()
    expect(next.items.map((item: { subject: string }) => item.subject)).toEqual([
      'Your sign-in code is 135791',
    ])
  })
})
