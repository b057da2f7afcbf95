// Benchmark: SMTP ingest throughput and DATA-end-to-250 latency, against a separate server process, per storage driver.
// Usage: bun bench/smtp-ingest.ts [--messages 2000] [--connections 8] [--size 4096] [--storage pglite,postgres]

import nodemailer from 'nodemailer'
import { adminApi, percentile, readArgs, withPostgresDatabase, withServer } from './support.ts'

const args = readArgs()
const MESSAGES = Number(args.get('messages') ?? 2000)
const CONNECTIONS = Number(args.get('connections') ?? 8)
const SIZE = Number(args.get('size') ?? 4096)
const DRIVERS = (args.get('storage') ?? 'pglite,postgres').split(',')
const LIMITS = { EPHEMAIL_MAX_MESSAGE_BYTES: String(Math.max(SIZE * 4, 1024 * 1024)) }

function body(size: number, i: number): string {
  const line = `Message ${i}: the quick brown fox jumps over the lazy dog. 0123456789\r\n`
  return line.repeat(Math.ceil(size / line.length)).slice(0, size)
}

async function runScenario(label: string, env: Record<string, string>) {
  return withServer({ ...LIMITS, ...env }, async (ports) => {
    const api = adminApi(ports)
    const mailbox = await (
      await api('/v1/mailboxes', {
        method: 'POST',
        body: JSON.stringify({ localPart: 'bench', ttlSeconds: 3600 }),
      })
    ).json()
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.smtp,
      pool: true,
      maxConnections: CONNECTIONS,
      maxMessages: Number.POSITIVE_INFINITY,
      ignoreTLS: true,
    })
    const send = (i: number) =>
      transport.sendMail({
        from: 'bench@example.org',
        to: mailbox.address,
        subject: `Bench ${i}`,
        text: body(SIZE, i),
      })
    await Promise.all(Array.from({ length: 200 }, (_, i) => send(i))) // warm-up: connections open, JIT warm

    const latencies: number[] = []
    const started = performance.now()
    // One sequential sender per connection, so a latency is one real round trip, not pool queueing.
    let next = 0
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < MESSAGES) {
          const i = next++
          const t0 = performance.now()
          const info = await send(i)
          if (!String(info.response).startsWith('250')) throw new Error(`not stored: ${info.response}`)
          latencies.push(performance.now() - t0)
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    transport.close()

    // Every 250 must be a stored message: count them through the API.
    let stored = 0
    let cursor: string | null = null
    do {
      const page: { items: unknown[]; nextCursor: string | null } = await (
        await api(`/v1/mailboxes/${mailbox.address}/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()
      stored += page.items.length
      cursor = page.nextCursor
    } while (cursor)
    if (stored !== MESSAGES + 200) throw new Error(`${label}: ${stored} stored, expected ${MESSAGES + 200}`)

    latencies.sort((a, b) => a - b)
    return {
      scenario: label,
      messages: MESSAGES,
      connections: CONNECTIONS,
      sizeBytes: SIZE,
      perSecond: Math.round(MESSAGES / seconds),
      sendToReplyMsP50: Number(percentile(latencies, 50).toFixed(2)),
      sendToReplyMsP99: Number(percentile(latencies, 99).toFixed(2)),
    }
  })
}

const results = []
for (const driver of DRIVERS) {
  if (driver === 'pglite') results.push(await runScenario('pglite (embedded)', {}))
  else if (driver === 'postgres')
    results.push(await withPostgresDatabase((url) => runScenario('postgres', { DATABASE_URL: url })))
}
console.table(results)
console.log(JSON.stringify(results))
