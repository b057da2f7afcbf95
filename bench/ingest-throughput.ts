// Benchmark: SMTP ingest throughput side by side with MailDev 2, counted to the last message.processed.
// Usage: bun bench/ingest-throughput.ts [--messages 4000] [--repeat 3] [--setup embedded,redis,maildev]
//          [--variants reused,per-connection,large] [--smtp-server smtp-server,bun]
//   reused          4 KB messages over 16 pooled nodemailer connections
//   per-connection  4 KB messages, one per connection, 200 connections at once (postfix's smtp-source)
//   large           100 KB messages over 16 pooled nodemailer connections (a quarter as many)
// Ephemail counts a message when its message.processed event arrives on the mailbox's stream (stored,
// parsed, authenticated, code extracted); MailDev, which does none of that, when its 250 came back.

import nodemailer from 'nodemailer'
import { runSmtpSource, startMaildev } from './peers.ts'
import {
  adminApi,
  type CpuShares,
  countEvents,
  cpuMeter,
  readArgs,
  withPostgresDatabase,
  withServer,
} from './support.ts'

const args = readArgs()
const MESSAGES = Number(args.get('messages') ?? 4000)
const SETUPS = (args.get('setup') ?? 'embedded,redis,maildev').split(',')
const VARIANTS = (args.get('variants') ?? 'reused,per-connection,large').split(',') as Variant[]
const REDIS_URL = process.env.EPHEMAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const REPEAT = Number(args.get('repeat') ?? 3)
const POOL = 16
/** SMTP front ends to measure (EPHEMAIL_SMTP_SERVER), each as its own setup, alternating within a round. */
const SMTP_SERVERS = (args.get('smtp-server') ?? 'smtp-server').split(',')

type Variant = 'reused' | 'per-connection' | 'large'
const SIZES: Record<Variant, number> = { reused: 4096, 'per-connection': 4096, large: 100 * 1024 }
const COUNTS: Record<Variant, number> = {
  reused: MESSAGES,
  'per-connection': MESSAGES,
  large: Math.max(100, Math.round(MESSAGES / 4)),
}

function body(size: number, i: number): string {
  const head = `Your verification code is ${100000 + (i % 900000)}. It expires in 10 minutes.\r\n\r\n`
  const line =
    'The quick brown fox jumps over the lazy dog while the mail server keeps counting. 0123456789\r\n'
  return (
    head + line.repeat(Math.ceil(Math.max(0, size - head.length) / line.length)).slice(0, size - head.length)
  )
}

const started = Date.now()

/** Sends `count` messages with the chosen variant; resolves when every 250 is back. */
async function load(variant: Variant, port: number, to: string, count: number): Promise<void> {
  if (variant === 'per-connection') {
    await runSmtpSource({ port, to, messages: count, sessions: 200, size: SIZES[variant] })
    return
  }
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    pool: true,
    maxConnections: POOL,
    maxMessages: Number.POSITIVE_INFINITY,
    ignoreTLS: true,
  })
  // The message is composed here, once, and handed to nodemailer as `raw`: composing and encoding MIME
  // per message cost the load generator more CPU than the servers under test spend on a 100 KB message,
  // and on two cores every cycle the client burns is one the server does not get.
  const text = body(SIZES[variant], 0)
  const date = new Date().toUTCString().replace('GMT', '+0000')
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      transport.sendMail({
        envelope: { from: 'bench@acme.example', to: [to] },
        raw: [
          'From: Acme <bench@acme.example>',
          `To: ${to}`,
          `Subject: Sign-in code ${i}`,
          `Date: ${date}`,
          `Message-ID: <bench-${i}-${started}@acme.example>`,
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=utf-8',
          'Content-Transfer-Encoding: 7bit',
          '',
          text,
        ].join('\r\n'),
      }),
    ),
  )
  transport.close()
}

interface Result {
  setup: string
  variant: Variant
  messages: number
  sizeBytes: number
  /** Messages per second to the last 250. */
  acceptedPerSecond: number
  /** Messages per second to the last message.processed (null for MailDev: it processes nothing). */
  processedPerSecond: number | null
  /** CPU milliseconds per message, by process, from the first message to the last counted. */
  cpuMsPerMessage: CpuShares
}

async function ephemail(setup: string, env: Record<string, string>, variant: Variant): Promise<Result> {
  const count = COUNTS[variant]
  return withServer({ EPHEMAIL_MAX_MESSAGE_BYTES: String(1024 * 1024), ...env }, async (ports, pid) => {
    const api = adminApi(ports)
    const mailbox = await (await api('/v1/mailboxes', { method: 'POST', body: '{"ttlSeconds":3600}' })).json()
    const processed = await countEvents(ports, mailbox, 'message.processed')
    const cpu = cpuMeter(pid)
    const started = performance.now()
    await load(variant, ports.smtp, mailbox.address, count)
    const accepted = performance.now()
    const last = await processed.reach(count)
    const cpuMsPerMessage = cpu(count)
    processed.close()
    return {
      setup,
      variant,
      messages: count,
      sizeBytes: SIZES[variant],
      acceptedPerSecond: Math.round(count / ((accepted - started) / 1000)),
      processedPerSecond: Math.round(count / ((last - started) / 1000)),
      cpuMsPerMessage,
    }
  })
}

async function maildev(variant: Variant): Promise<Result> {
  const count = COUNTS[variant]
  const peer = await startMaildev()
  try {
    const cpu = cpuMeter(peer.pid)
    const started = performance.now()
    await load(variant, peer.smtp, 'someone@maildev.test', count)
    const accepted = performance.now()
    // MailDev answers 250 before it has stored the message: wait until it holds them all.
    let held = await peer.count()
    for (let i = 0; i < 100 && held < count; i++) {
      await Bun.sleep(100)
      held = await peer.count()
    }
    if (held < count) throw new Error(`MailDev holds ${held} of ${count} messages`)
    const cpuMsPerMessage = cpu(count)
    return {
      setup: 'MailDev 2 (in memory)',
      variant,
      messages: count,
      sizeBytes: SIZES[variant],
      acceptedPerSecond: Math.round(count / ((accepted - started) / 1000)),
      processedPerSecond: null,
      cpuMsPerMessage,
    }
  } finally {
    await peer.stop()
  }
}

function once(setup: string, variant: Variant, smtpServer: string): Promise<Result> {
  const front = { EPHEMAIL_SMTP_SERVER: smtpServer }
  const label = (name: string) => (SMTP_SERVERS.length > 1 ? `${name} [${smtpServer}]` : name)
  if (setup === 'embedded') return ephemail(label('Ephemail: PGlite + in-process'), front, variant)
  if (setup === 'redis')
    return withPostgresDatabase((url) =>
      ephemail(
        label('Ephemail: PostgreSQL + BullMQ'),
        { ...front, DATABASE_URL: url, REDIS_URL, EPHEMAIL_REDIS_PREFIX: `bench-${Date.now()}` },
        variant,
      ),
    )
  if (setup === 'maildev') return maildev(variant)
  throw new Error(`unknown setup ${setup}`)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Every setup and variant `REPEAT` times, interleaved so drift on the machine hits all alike; medians. */
export async function ingestThroughput() {
  const runs = new Map<string, Result[]>()
  for (let round = 0; round < REPEAT; round++)
    for (const variant of VARIANTS)
      for (const setup of SETUPS)
        for (const smtpServer of setup === 'maildev' ? ['-'] : SMTP_SERVERS) {
          const result = await once(setup, variant, smtpServer)
          const key = `${variant}|${setup}|${smtpServer}`
          runs.set(key, [...(runs.get(key) ?? []), result])
        }
  const results = [...runs.values()].map((all) => {
    const first = all[0] as Result
    const processed = all.map((run) => run.processedPerSecond).filter((value) => value !== null)
    return {
      ...first,
      runs: all.length,
      acceptedPerSecond: median(all.map((run) => run.acceptedPerSecond)),
      processedPerSecond: processed.length > 0 ? median(processed) : null,
      cpuMsPerMessage: {
        server: median(all.map((run) => run.cpuMsPerMessage.server)),
        client: median(all.map((run) => run.cpuMsPerMessage.client)),
        postgres: median(all.map((run) => run.cpuMsPerMessage.postgres)),
        redis: median(all.map((run) => run.cpuMsPerMessage.redis)),
      },
    }
  })
  // Ephemail's stored-and-processed rate over MailDev's accepted rate, per variant.
  return results.map((result) => {
    const peer = results.find(
      (other) => other.variant === result.variant && other.processedPerSecond === null,
    )
    const ratio =
      peer && result.processedPerSecond !== null
        ? Number((result.processedPerSecond / peer.acceptedPerSecond).toFixed(2))
        : null
    return { ...result, ratioToMaildev: ratio }
  })
}

if (import.meta.main) {
  const results = await ingestThroughput()
  console.table(results)
  for (const result of results) console.log(JSON.stringify({ scenario: 'ingest', ...result }))
}
