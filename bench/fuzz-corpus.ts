// Worst cases over a fuzz corpus: slowest message per stage, the pipeline's event-loop stall and memory.
//
//   bun bench/fuzz-corpus.ts [--count 5000] [--seed 1] [--top 10] [--stages yes|no] [--pipeline yes|no]
//                           [--storage-thread worker|main]
//                           [--concurrency 50]
//
// Stages: every mutation of test/support/mutate.ts (the corpus of test/fuzz.test.ts, reproducible from the
// seed and its index) goes through parse, sender authentication (no DNS), extraction and sanitising on
// this thread, one at a time; each stage's time is how long it would hold the event loop if it ran there.
// Printed: the slowest of each stage per mutation kind, and the slowest messages overall with their index.
// Pipeline: the same corpus delivered through the funnel of the test harness (in-memory PGlite on its own
// thread as the server runs it, in-process queue, the mail offload thread) `concurrency` at a time; printed are the longest event-loop stall, the longest
// received-to-processed time, the rate, and RSS before, at its peak and after.

import { parseMail } from '#lib/mail.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { create as createPglite } from '#plugins/storage/pglite/index.ts'
import { extractFromMail } from '#server/pipeline/message-processor.ts'
import { createSenderAuthenticator } from '#server/pipeline/sender-auth.ts'
import { createApiHarness, offlineResolver } from '../test/support/api-harness.ts'
import { loadSeedMessages, type Mutation, mutation } from '../test/support/mutate.ts'
import { readArgs } from './support.ts'

const args = readArgs()
const count = Number(args.get('count') ?? 5_000)
const seed = Number(args.get('seed') ?? 1)
const top = Number(args.get('top') ?? 10)
const runPipeline = (args.get('pipeline') ?? 'yes') !== 'no'
// `--stages no` starts the pipeline on a fresh heap (the stage pass leaves ~1 GB for the collector).
const runStages = (args.get('stages') ?? 'yes') !== 'no'
const storageThread = args.get('storage-thread') === 'main' ? 'main' : 'worker'
// 1 gives each message's own worst stall (the hardening issue's bound); 50 a burst sharing the loop.
const CONCURRENCY = Number(args.get('concurrency') ?? 50)
const STAGES = ['parse', 'authenticate', 'extract', 'sanitize'] as const
type Stage = (typeof STAGES)[number]

const seeds = loadSeedMessages()
const corpus = (each: (m: Mutation) => Promise<void> | void) =>
  (async () => {
    for (let index = 0; index < count; index++) await each(mutation(seeds, seed, index))
  })()
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const ms = (value: number) => Number(value.toFixed(1))

async function stageFigures() {
  const authenticate = createSenderAuthenticator({ resolver: offlineResolver, mta: 'mx.bench.test' })
  const extractor = createBuiltinExtractor()
  const envelope = {
    mailFrom: 'a@sender.example',
    rcptTo: ['x@ephemail.test'],
    remoteAddress: '192.0.2.1',
    helo: 'sender.example',
    source: 'smtp',
  }
  const byKind = new Map<string, Record<Stage, number> & { messages: number; largest: number }>()
  const slowest: Array<
    { index: number; kind: string; bytes: number; total: number } & Record<Stage, number>
  > = []
  const started = performance.now()
  await corpus(async (m) => {
    const times = {} as Record<Stage, number>
    const timed = async <T>(stage: Stage, work: () => Promise<T> | T): Promise<T> => {
      const at = performance.now()
      try {
        return await work()
      } finally {
        times[stage] = performance.now() - at
      }
    }
    const parsed = await timed('parse', () => parseMail(m.raw).catch(() => null))
    await timed('authenticate', () => authenticate(m.raw, envelope).catch(() => null))
    await timed('extract', () => extractFromMail(extractor, parsed))
    await timed('sanitize', () => (parsed?.html ? sanitizeHtml(parsed.html) : null))
    const kind = m.kind.split(/[/+]/)[0] as string
    const row = byKind.get(kind) ?? {
      parse: 0,
      authenticate: 0,
      extract: 0,
      sanitize: 0,
      messages: 0,
      largest: 0,
    }
    for (const stage of STAGES) row[stage] = Math.max(row[stage], times[stage])
    row.messages++
    row.largest = Math.max(row.largest, m.raw.byteLength)
    byKind.set(kind, row)
    const total = STAGES.reduce((sum, stage) => sum + times[stage], 0)
    slowest.push({ index: m.index, kind: m.kind.slice(0, 60), bytes: m.raw.byteLength, total, ...times })
    slowest.sort((a, b) => b.total - a.total)
    slowest.length = Math.min(slowest.length, top)
  })
  const elapsed = performance.now() - started
  console.log(
    `\nStages on this thread, slowest per kind (ms), seed ${seed}, ${count} messages, ${ms(elapsed)} ms`,
  )
  console.table(
    [...byKind].map(([kind, row]) => ({
      kind,
      messages: row.messages,
      'largest KB': Math.round(row.largest / 1024),
      ...Object.fromEntries(STAGES.map((stage) => [stage, ms(row[stage])])),
    })),
  )
  console.log(`Slowest ${top} messages (rebuild one with mutation(loadSeedMessages(), ${seed}, index))`)
  console.table(
    slowest.map((row) => ({
      ...row,
      total: ms(row.total),
      ...Object.fromEntries(STAGES.map((s) => [s, ms(row[s])])),
    })),
  )
}

async function pipelineFigures() {
  // The embedded driver as the server runs it (its own thread), unless --storage-thread main.
  const storage = createPglite({ thread: storageThread })
  const h = await createApiHarness({ EPHEMAIL_MAX_MESSAGE_BYTES: String(10 * 1024 * 1024) }, { storage })
  const box = (await h.call('POST', '/v1/mailboxes', { token: null, body: { ttlSeconds: 86_400 } })).json
  Bun.gc(true)
  const rssBefore = process.memoryUsage.rss()
  let rssPeak = rssBefore
  let last = performance.now()
  let stall = 0
  let batchStall = 0
  const probe = setInterval(() => {
    const now = performance.now()
    stall = Math.max(stall, now - last - 10)
    batchStall = Math.max(batchStall, now - last - 10)
    last = now
  }, 10)
  const worstBatches: { messages: Mutation[]; stall: number }[] = []
  let stored = 0
  let refused = 0
  const started = performance.now()
  let batch: Mutation[] = []
  const flush = async () => {
    last = performance.now() // building the batch is the benchmark's work, not the server's
    const outcomes = await Promise.all(batch.map((m) => h.deliver(m.raw, [box.address]).catch(() => null)))
    for (const outcome of outcomes) outcome?.stored.length ? stored++ : refused++
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    worstBatches.push({ messages: batch, stall: batchStall })
    worstBatches.sort((a, b) => b.stall - a.stall)
    worstBatches.length = Math.min(worstBatches.length, 5)
    batchStall = 0
    batch = []
  }
  await corpus(async (m) => {
    batch.push(m)
    if (batch.length === CONCURRENCY) await flush()
  })
  await flush()
  await h.processed()
  const elapsed = performance.now() - started
  const pending = await h.storage.findUnprocessed(new Date(Date.now() + 3_600_000), 1_000)
  const latencies = h.events.flatMap((event) =>
    event.type === 'message.processed' ? [Date.parse(event.processedAt) - Date.parse(event.receivedAt)] : [],
  )
  Bun.gc(true)
  const rssAfter = process.memoryUsage.rss()
  console.log(
    `\nPipeline (funnel, in-process queue, offload thread, in-memory PGlite on the ${storageThread} thread), ${CONCURRENCY} at a time`,
  )
  console.table([
    {
      messages: count,
      stored,
      refused,
      'left pending': pending.length,
      'messages/s': Math.round((count / elapsed) * 1000),
      'worst stall ms': Math.round(stall),
      'worst received→processed ms': Math.max(0, ...latencies),
      'RSS before': MB(rssBefore),
      'RSS peak': MB(rssPeak),
      'RSS after': MB(rssAfter),
    },
  ])
  if (CONCURRENCY === 1) {
    // A stall in the run may be a collection of the whole heap (the corpus, the events kept for the figures)
    // that happened to fall on that message: each of the worst is delivered again alone, three times.
    const alone = []
    for (const { messages, stall: inRun } of worstBatches) {
      const m = messages[0] as Mutation
      const gaps: number[] = []
      for (let round = 0; round < 3; round++) {
        await Bun.sleep(20)
        last = performance.now()
        batchStall = 0
        await h.deliver(m.raw, [box.address]).catch(() => null)
        await h.processed()
        await Bun.sleep(15)
        gaps.push(batchStall)
      }
      gaps.sort((a, b) => a - b)
      alone.push({
        index: m.index,
        kind: m.kind.slice(0, 50),
        bytes: m.raw.byteLength,
        'stall in the run ms': Math.round(inRun),
        'alone, median of 3 ms': Math.round(gaps[1] as number),
        'alone, worst of 3 ms': Math.round(gaps[2] as number),
      })
    }
    console.log('The worst stalls of the run, each message delivered again alone (10 ms timer)')
    console.table(alone)
  }
  clearInterval(probe)
  await h.close()
}

if (runStages) await stageFigures()
if (runPipeline) await pipelineFigures()
