// Benchmark: latency under a steady load. A paced sender offers --rate messages/s over 16 SMTP connections;
// from the end of DATA to the 250 reply, and to the message.received event on the mailbox's SSE stream.
// Usage: bun bench/steady-latency.ts [--rate 500] [--seconds 10] [--setup embedded,redis,maildev]

import { startMaildev } from './peers.ts'
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
const RATE = Number(args.get('rate') ?? 500)
const SECONDS = Number(args.get('seconds') ?? 10)
const SETUPS = (args.get('setup') ?? 'embedded,redis,maildev').split(',')
const REDIS_URL = process.env.EPHEMAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const CONNECTIONS = 16
const WARM_UP_SECONDS = 1

/** Arrival times of message.received events, by subject, on one mailbox's stream. */
async function receivedEvents(ports: ServerPorts, mailbox: { address: string; token: string }) {
  const arrivals = new Map<string, number>()
  const socket = await openRawEventStream(ports, mailbox, (text, at) => {
    for (const match of text.matchAll(/event: message\.received\ndata: .*?"subject":"(steady-\d+)"/g))
      arrivals.set(match[1] as string, at)
  })
  return { arrivals, close: () => socket.destroy() }
}

/** Offers RATE messages/s to `to` on `port` over 16 connections; DATA end → 250 per message after the warm-up. */
async function pacedLoad(port: number, to: string) {
  const connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => openSmtp(port)))
  const total = RATE * (SECONDS + WARM_UP_SECONDS)
  const toReply: number[] = []
  const dataEnds = new Map<string, number>()
  const started = performance.now()
  // Each connection takes every 16th message at its scheduled time (or as soon as it is free).
  await Promise.all(
    connections.map(async (smtp, lane) => {
      for (let i = lane; i < total; i += CONNECTIONS) {
        const wait = started + (i * 1000) / RATE - performance.now()
        if (wait > 0) await Bun.sleep(wait)
        const subject = `steady-${i}`
        const dataEnd = await smtp.send(to, subject, `Your code is ${100000 + i}.`)
        const replied = performance.now()
        if (i >= RATE * WARM_UP_SECONDS) {
          toReply.push(replied - dataEnd)
          dataEnds.set(subject, dataEnd)
        }
      }
    }),
  )
  const achievedPerSecond = Math.round(total / ((performance.now() - started) / 1000))
  for (const smtp of connections) smtp.close()
  return { toReply, dataEnds, achievedPerSecond }
}

async function steady(label: string, env: Record<string, string>) {
  return withServer(env, async (ports) => {
    const api = adminApi(ports)
    const mailbox = await (await api('/v1/mailboxes', { method: 'POST', body: '{"ttlSeconds":3600}' })).json()
    const events = await receivedEvents(ports, mailbox)
    const { toReply, dataEnds, achievedPerSecond } = await pacedLoad(ports.smtp, mailbox.address)
    const deadline = performance.now() + 30_000
    while (
      [...dataEnds.keys()].some((subject) => !events.arrivals.has(subject)) &&
      performance.now() < deadline
    )
      await Bun.sleep(50)
    events.close()
    const toEvent = [...dataEnds].map(
      ([subject, end]) => (events.arrivals.get(subject) ?? Number.POSITIVE_INFINITY) - end,
    )
    return {
      scenario: 'latency',
      setup: label,
      offeredPerSecond: RATE,
      achievedPerSecond,
      dataEndTo250Ms: summary(toReply),
      dataEndToSseEventMs: summary(toEvent),
    }
  })
}

/** The peer under the same load: its 250 only (it has no event stream). */
async function maildevSteady() {
  const peer = await startMaildev()
  try {
    const { toReply, achievedPerSecond } = await pacedLoad(peer.smtp, 'someone@maildev.test')
    return {
      scenario: 'latency',
      setup: 'MailDev 2 (in memory)',
      offeredPerSecond: RATE,
      achievedPerSecond,
      dataEndTo250Ms: summary(toReply),
      dataEndToSseEventMs: null,
    }
  } finally {
    await peer.stop()
  }
}

export async function steadyLatency() {
  const results = []
  for (const setup of SETUPS) {
    if (setup === 'embedded') results.push(await steady('Ephemail: PGlite + in-process', {}))
    else if (setup === 'redis')
      results.push(
        await withPostgresDatabase((url) =>
          steady('Ephemail: PostgreSQL + BullMQ', {
            DATABASE_URL: url,
            REDIS_URL,
            EPHEMAIL_REDIS_PREFIX: `bench-${Date.now()}`,
          }),
        ),
      )
    else if (setup === 'maildev') results.push(await maildevSteady())
    else throw new Error(`unknown setup ${setup}`)
  }
  return results
}

if (import.meta.main) for (const result of await steadyLatency()) console.log(JSON.stringify(result))
