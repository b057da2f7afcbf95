// Benchmark: live delivery. N concurrent SSE subscribers (raw sockets), time from the end of SMTP DATA to the
// event at every subscriber, the server's memory per connection; and end of DATA to a webhook POST arriving.
// Usage: bun bench/live-delivery.ts [--subscribers 10000] [--mailboxes 100] [--messages 200] [--rate 20]
//          [--webhooks 300] [--setup embedded,redis]

import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import {
  adminApi,
  openRawEventStream,
  openSmtp,
  readArgs,
  type ServerPorts,
  summary,
  withPostgresDatabase,
  withServer,
} from './support.ts'

const args = readArgs()
const SUBSCRIBERS = Number(args.get('subscribers') ?? 10_000)
const MAILBOXES = Number(args.get('mailboxes') ?? 100)
const MESSAGES = Number(args.get('messages') ?? 200)
const RATE = Number(args.get('rate') ?? 20)
const WEBHOOK_MESSAGES = Number(args.get('webhooks') ?? 300)
const SETUPS = (args.get('setup') ?? 'embedded,redis').split(',')
const REDIS_URL = process.env.EPHEMAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Messages sent first and left out of the figures (first connections, JIT, caches). */
const WARM_UP = 10

/** Resident memory of a process in bytes (Linux). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)
  return Number(line?.[1] ?? 0) * 1024
}

/** Opens `count` event streams spread over the mailboxes, in batches; resolves once all answered 200. */
async function openSubscribers(
  ports: ServerPorts,
  mailboxes: { address: string; token: string }[],
  count: number,
  onFrames: (text: string, at: number) => void,
): Promise<Socket[]> {
  const sockets: Socket[] = []
  const batch = 250
  for (let start = 0; start < count; start += batch)
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(batch, count - start) }, (_, offset) =>
          openRawEventStream(
            ports,
            mailboxes[(start + offset) % mailboxes.length] as (typeof mailboxes)[number],
            onFrames,
          ),
        ),
      )),
    )
  return sockets
}

async function fanOut(label: string, env: Record<string, string>) {
  return withServer(env, async (ports, pid) => {
    const api = adminApi(ports)
    const mailboxes: { address: string; token: string }[] = []
    for (let i = 0; i < MAILBOXES; i++)
      mailboxes.push(
        await (await api('/v1/mailboxes', { method: 'POST', body: '{"ttlSeconds":3600}' })).json(),
      )
    await Bun.sleep(500)
    const rssBefore = rssOf(pid)
    const sentAt = new Map<string, number>()
    const latencies: number[] = []
    const lastArrival = new Map<string, number>()
    const perEvent = new Map<string, number>()
    const subscribers = await openSubscribers(ports, mailboxes, SUBSCRIBERS, (chunk, at) => {
      // One chunk may carry several events; the subject tells which message each is.
      for (
        let index = chunk.indexOf('event: message.received');
        index !== -1;
        index = chunk.indexOf('event: message.received', index + 1)
      ) {
        const subject = /"subject":"(bench-\d+)"/.exec(chunk.slice(index))?.[1]
        const sent = subject ? sentAt.get(subject) : undefined
        if (!subject || sent === undefined || Number(subject.slice(6)) < WARM_UP) continue
        latencies.push(at - sent)
        lastArrival.set(subject, at)
        perEvent.set(subject, (perEvent.get(subject) ?? 0) + 1)
      }
    })
    // What the open streams hold, not the garbage left by opening them: the lowest of samples over
    // 3 s, during which the server's collector runs (it is idle but for the streams' heartbeats).
    let rssAfter = Number.POSITIVE_INFINITY
    for (let sample = 0; sample < 12; sample++) {
      await Bun.sleep(250)
      rssAfter = Math.min(rssAfter, rssOf(pid))
    }
    const smtp = await openSmtp(ports.smtp)
    const interval = 1000 / RATE
    const started = performance.now()
    for (let i = 0; i < MESSAGES + WARM_UP; i++) {
      const target = started + i * interval
      const wait = target - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      const subject = `bench-${i}`
      const mailbox = mailboxes[i % mailboxes.length] as { address: string }
      const dataEnd = await smtp.send(mailbox.address, subject, `Your code is ${100000 + i}.`)
      sentAt.set(subject, dataEnd)
    }
    const expected = MESSAGES * (SUBSCRIBERS / MAILBOXES)
    const deadline = performance.now() + 30_000
    while (latencies.length < expected && performance.now() < deadline) await Bun.sleep(50)
    smtp.close()
    const allReached = [...lastArrival.entries()].map(([subject, at]) => at - (sentAt.get(subject) as number))
    for (const socket of subscribers) socket.destroy()
    const result = {
      label,
      subscribers: SUBSCRIBERS,
      mailboxes: MAILBOXES,
      messages: MESSAGES,
      eventsExpected: expected,
      eventsReceived: latencies.length,
      dataEndToEventMs: summary(latencies),
      dataEndToLastSubscriberMs: summary(allReached),
      serverRssBeforeMB: Number((rssBefore / 2 ** 20).toFixed(1)),
      serverRssWithSubscribersMB: Number((rssAfter / 2 ** 20).toFixed(1)),
      bytesPerConnection: Math.round((rssAfter - rssBefore) / SUBSCRIBERS),
    }
    return result
  })
}

async function webhookLatency(label: string, env: Record<string, string>) {
  const arrivals = new Map<string, number>()
  const receiver = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const at = performance.now()
      const body = await request.json()
      arrivals.set(body.data.subject, at)
      return new Response(null, { status: 204 })
    },
  })
  try {
    return await withServer({ ...env, EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32' }, async (ports) => {
      const api = adminApi(ports)
      const registered = await api('/v1/webhooks', {
        method: 'POST',
        body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook` }),
      })
      if (registered.status !== 201)
        throw new Error(`webhook: ${registered.status} ${await registered.text()}`)
      const mailbox = await (
        await api('/v1/mailboxes', { method: 'POST', body: '{"ttlSeconds":3600}' })
      ).json()
      const smtp = await openSmtp(ports.smtp)
      const sentAt = new Map<string, number>()
      const interval = 1000 / RATE
      const started = performance.now()
      for (let i = 0; i < WEBHOOK_MESSAGES + WARM_UP; i++) {
        const wait = started + i * interval - performance.now()
        if (wait > 0) await Bun.sleep(wait)
        const subject = `hook-${i}`
        sentAt.set(subject, await smtp.send(mailbox.address, subject, `Your code is ${200000 + i}.`))
      }
      const deadline = performance.now() + 30_000
      while (arrivals.size < sentAt.size && performance.now() < deadline) await Bun.sleep(50)
      smtp.close()
      const latencies = [...sentAt.entries()]
        .filter(([subject]) => Number(subject.slice(5)) >= WARM_UP)
        .map(([subject, sent]) => (arrivals.get(subject) ?? Number.POSITIVE_INFINITY) - sent)
      return {
        label,
        messages: WEBHOOK_MESSAGES,
        received: latencies.filter(Number.isFinite).length,
        dataEndToWebhookMs: summary(latencies),
      }
    })
  } finally {
    receiver.stop(true)
  }
}

const results: unknown[] = []
for (const setup of SETUPS) {
  if (setup === 'embedded') {
    results.push(await fanOut('PGlite + in-process events', {}))
    results.push(await webhookLatency('PGlite + in-process queue', {}))
  } else if (setup === 'redis') {
    await withPostgresDatabase(async (url) => {
      const env = { DATABASE_URL: url, REDIS_URL, EPHEMAIL_REDIS_PREFIX: `bench-${Date.now()}` }
      results.push(await fanOut('PostgreSQL + Redis pub/sub', env))
      results.push(await webhookLatency('PostgreSQL + BullMQ on Redis', env))
    })
  } else throw new Error(`unknown setup ${setup}`)
}
for (const result of results) console.log(JSON.stringify({ scenario: 'live', ...(result as object) }))
