// The write path alone: batched message inserts and processing saves against each storage driver, optionally A/B against another checkout.

import { join, resolve } from 'node:path'
import type { ProcessingOutcome, Storage } from '#contracts/storage.ts'
import { uuidv7 } from '#lib/ids.ts'
import { parseMail } from '#lib/mail.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { extractFromMail } from '#server/pipeline/message-processor.ts'
import { cpuSecondsOfAll, readArgs, withPostgresDatabase } from './support.ts'

// Usage: bun bench/write-path.ts [--messages 4000] [--batch 16] [--rounds 5] [--drivers pglite,postgres]
//   [--against /path/to/other/checkout]
// Per round and side (this checkout, and the other one when given, alternating), a fresh database gets
// `--messages` 4 KB messages over 20 mailboxes, inserted `--batch` at a time as the ingest funnel's group
// commit does, then their processing results saved in jobs of the same size. Prints medians of CPU µs per
// message: this process (driver, query building; for PGlite the database too) and PostgreSQL's processes.
// A first round per side warms up and is not counted.

const args = readArgs()
const MESSAGES = Number(args.get('messages') ?? 4000)
const BATCH = Number(args.get('batch') ?? 16)
const ROUNDS = Number(args.get('rounds') ?? 5)
const DRIVERS = (args.get('drivers') ?? 'pglite,postgres').split(',')
const AGAINST = args.get('against')
const MAILBOXES = 20

const here = resolve(import.meta.dir, '..')
const sides = AGAINST
  ? [
      { label: 'against', root: resolve(AGAINST) },
      { label: 'this', root: here },
    ]
  : []
if (!AGAINST) sides.push({ label: 'this', root: here })

type StorageFactory = (options: Record<string, unknown>) => Storage

async function factoryOf(root: string, driver: string): Promise<StorageFactory> {
  const module = (await import(join(root, 'plugins/storage', driver, 'index.ts'))) as {
    create: StorageFactory
  }
  return module.create
}

/** A 4 KB verification mail like bench/ingest-throughput.ts sends, with a varying code. */
function rawMessage(i: number): Uint8Array {
  const head = `Your verification code is ${100000 + (i % 900000)}. It expires in 10 minutes.\r\n\r\n`
  const line =
    'The quick brown fox jumps over the lazy dog while the mail server keeps counting. 0123456789\r\n'
  const body = head + line.repeat(Math.ceil((4096 - head.length) / line.length)).slice(0, 4096 - head.length)
  return new TextEncoder().encode(
    `From: "Example Shop" <noreply@accounts.example-shop.de>\r\nTo: user${i}@ephemail.test\r\n` +
      `Subject: Your code\r\nMessage-ID: <${i}.bench@example-shop.de>\r\nDate: ${new Date().toUTCString()}\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
  )
}

const extractor = createBuiltinExtractor()
const fixtures = await Promise.all(
  Array.from({ length: 64 }, async (_, i) => {
    const raw = rawMessage(i)
    const parsed = await parseMail(raw)
    const found = extractFromMail(extractor, parsed)
    return { raw, parsed, found }
  }),
)

async function round(create: StorageFactory, options: Record<string, unknown>) {
  const storage = create(options)
  await storage.migrate()
  const mailboxIds: string[] = []
  for (let m = 0; m < MAILBOXES; m++) {
    const id = crypto.randomUUID()
    mailboxIds.push(id)
    await storage.insertMailbox({
      id,
      localPart: `bench${m}`,
      domain: 'ephemail.test',
      address: `bench${m}@ephemail.test`,
      tokenHash: crypto.randomUUID(),
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    })
  }
  const ids: string[] = []
  const measure = async (work: () => Promise<void>) => {
    const before = process.cpuUsage()
    const postgresBefore = cpuSecondsOfAll('postgres')
    await work()
    const used = process.cpuUsage(before)
    return {
      self: (used.user + used.system) / MESSAGES,
      postgres: ((cpuSecondsOfAll('postgres') - postgresBefore) * 1e6) / MESSAGES,
    }
  }
  const insert = await measure(async () => {
    for (let start = 0; start < MESSAGES; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, MESSAGES - start) }, (_, k) => {
        const i = start + k
        const fixture = fixtures[i % fixtures.length] as (typeof fixtures)[number]
        const receivedAt = new Date()
        const id = uuidv7(receivedAt.getTime())
        ids.push(id)
        return {
          id,
          mailboxId: mailboxIds[i % MAILBOXES] as string,
          receivedAt,
          raw: fixture.raw,
          envelope: {
            mailFrom: 'noreply@accounts.example-shop.de',
            rcptTo: [`bench${i % MAILBOXES}@ephemail.test`],
            remoteAddress: '127.0.0.1',
            helo: 'localhost',
            source: 'smtp' as const,
          },
          parsed: fixture.parsed,
          parseError: null,
          source: 'smtp',
          dedupeKey: null,
        }
      })
      await storage.insertMessages(batch)
    }
  })
  const save = await measure(async () => {
    for (let start = 0; start < ids.length; start += BATCH) {
      const processedAt = new Date()
      const outcomes: ProcessingOutcome[] = ids.slice(start, start + BATCH).map((id, k) => {
        const { found } = fixtures[(start + k) % fixtures.length] as (typeof fixtures)[number]
        return {
          id,
          processedAt,
          result: {
            otp: found.otp,
            link: found.link,
            extraction: {
              otpCandidates: found.otpCandidates.slice(0, 5),
              linkCandidates: found.linkCandidates.slice(0, 5),
            },
            authentication: {
              spf: 'none',
              dkim: 'none',
              dmarc: 'none',
              arc: 'none',
              header: 'mx.ephemail.test; spf=none smtp.mailfrom=accounts.example-shop.de',
            },
            safeHtml: null,
            notes: [],
          },
        }
      })
      const saved = await storage.saveProcessingResults(outcomes)
      if (saved.length !== outcomes.length) throw new Error(`saved ${saved.length} of ${outcomes.length}`)
    }
  })
  await storage.close()
  return { insert, save }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const rows: Record<string, unknown>[] = []
for (const driver of DRIVERS) {
  const samples = new Map<
    string,
    { insert: number[]; insertPg: number[]; save: number[]; savePg: number[] }
  >()
  // Round -1 warms up each side's code (JIT, prepared statements) and is not counted.
  for (let r = -1; r < ROUNDS; r++)
    for (const side of r % 2 ? [...sides].reverse() : sides) {
      const create = await factoryOf(side.root, driver)
      const result =
        driver === 'postgres'
          ? await withPostgresDatabase((url) => round(create, { url }))
          : await round(create, {})
      if (r < 0) continue
      const entry = samples.get(side.label) ?? { insert: [], insertPg: [], save: [], savePg: [] }
      entry.insert.push(result.insert.self)
      entry.insertPg.push(result.insert.postgres)
      entry.save.push(result.save.self)
      entry.savePg.push(result.save.postgres)
      samples.set(side.label, entry)
    }
  for (const [side, entry] of samples)
    rows.push({
      scenario: 'write-path',
      driver,
      side,
      rounds: entry.insert.length,
      insertUsPerMessage: Math.round(median(entry.insert)),
      insertPostgresUsPerMessage: Math.round(median(entry.insertPg)),
      saveUsPerMessage: Math.round(median(entry.save)),
      savePostgresUsPerMessage: Math.round(median(entry.savePg)),
      insertSamples: entry.insert.map(Math.round),
      saveSamples: entry.save.map(Math.round),
    })
}
console.table(rows.map(({ insertSamples, saveSamples, ...row }) => row))
for (const row of rows) console.log(JSON.stringify(row))
