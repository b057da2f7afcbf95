// Benchmark: SMTP ingest throughput and DATA-end-to-250 latency, against a separate server process, per storage driver.
// Usage: bun bench/smtp-ingest.ts [--messages 2000] [--connections 8] [--size 4096] [--storage pglite,postgres]

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import postgres from 'postgres'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2)
  args.set(String(process.argv[i]).replace(/^--/, ''), String(process.argv[i + 1]))
const MESSAGES = Number(args.get('messages') ?? 2000)
const CONNECTIONS = Number(args.get('connections') ?? 8)
const SIZE = Number(args.get('size') ?? 4096)
const DRIVERS = (args.get('storage') ?? 'pglite,postgres').split(',')
const ADMIN_KEY = 'bench-admin-key-0123456789'
const POSTGRES_URL = process.env.EPHEMAIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const root = join(import.meta.dir, '..')

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

async function withServer<T>(
  env: Record<string, string>,
  run: (ports: { http: number; smtp: number }) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ephemail-bench-'))
  const ports = { http: await freePort(), smtp: await freePort() }
  const child = Bun.spawn(['bun', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      EPHEMAIL_HOST: '127.0.0.1',
      EPHEMAIL_HTTP_PORT: String(ports.http),
      EPHEMAIL_SMTP_PORT: String(ports.smtp),
      EPHEMAIL_DATA_DIR: dataDir,
      EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
      EPHEMAIL_MAX_MESSAGE_BYTES: String(Math.max(SIZE * 4, 1024 * 1024)),
    },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  try {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`http://127.0.0.1:${ports.http}/ready`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      await Bun.sleep(100)
    }
    return await run(ports)
  } finally {
    child.kill('SIGTERM')
    await child.exited
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function body(size: number, i: number): string {
  const line = `Message ${i}: the quick brown fox jumps over the lazy dog. 0123456789\r\n`
  return line.repeat(Math.ceil(size / line.length)).slice(0, size)
}

async function runScenario(label: string, env: Record<string, string>) {
  return withServer(env, async (ports) => {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${ports.http}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      })
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
  else if (driver === 'postgres') {
    const name = `ephemail_bench_${Date.now()}`
    const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database ${name}`)
    const url = new URL(POSTGRES_URL)
    url.pathname = `/${name}`
    try {
      results.push(await runScenario('postgres', { DATABASE_URL: url.toString() }))
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    }
  }
}
console.table(results)
console.log(JSON.stringify(results))
