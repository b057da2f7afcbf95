// Fuzz: mutated fixtures through the pipeline, each refused with a reason or stored and processed or failed.
//
//   npx bun test --timeout 30000 test/fuzz.test.ts
//   EPHEMAIL_FUZZ_SEED=123 EPHEMAIL_FUZZ_COUNT=10000 npx bun test --timeout 30000 test/fuzz.test.ts
//
// The seed is random unless given and is printed first; every problem names its seed and index, and
// `mutation(loadSeedMessages(), seed, index)` (test/support/mutate.ts) rebuilds that one message alone.
// The bounds asserted are generous on purpose (a shared two-core machine); the real figures are printed.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { MAX_HEADER_BYTES, MAX_MIME_NESTING_DEPTH } from '#lib/mail.ts'
import { MAX_TEXT_LINE_OCTETS } from '#plugins/ingest/smtp/index.ts'
import {
  createMailOffload,
  type MailWork,
  OFFLOAD_MIN_BYTES,
  OFFLOAD_TIMEOUT_MS,
} from '#server/pipeline/mail-offload.ts'
import { MAX_AUTH_HEADER_LINES, MAX_AUTH_SIGNATURES } from '#server/pipeline/sender-auth.ts'
import { createApiHarness } from './support/api-harness.ts'
import { loadSeedMessages, type Mutation, mutation } from './support/mutate.ts'

function readSeed(): number {
  const given = process.env.EPHEMAIL_FUZZ_SEED
  if (!given) return crypto.getRandomValues(new Uint32Array(1))[0] as number
  const seed = Number(given)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`EPHEMAIL_FUZZ_SEED=${given} is not a 32-bit unsigned integer`)
  return seed
}

const SEED = readSeed()
/**
 * 1,000 by default: on this shared two-core machine 2,000 took 90-100 s (PGlite's inserts and reads on the
 * test's thread are most of it), past the minute a suite test may take. EPHEMAIL_FUZZ_COUNT=10000 for more.
 */
const COUNT = Number(process.env.EPHEMAIL_FUZZ_COUNT ?? 1_000)
if (!Number.isInteger(COUNT) || COUNT < 1)
  throw new Error(`EPHEMAIL_FUZZ_COUNT=${process.env.EPHEMAIL_FUZZ_COUNT} is not a positive integer`)
/** Deliveries in flight at once, as concurrent SMTP sessions make them (the group commit batches them). */
const CONCURRENCY = 50
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024
/** One delivery (parse at ingest, commit) taking longer than this counts as a hang. */
const DELIVERY_DEADLINE_MS = 30_000
/** After the last delivery, every message must leave `pending` within this. */
const SETTLE_DEADLINE_MS = 60_000
/**
 * The longest the event loop may be held at once. Not 2 s: in-memory PGlite runs on this thread, and its
 * group commit of 50 deliveries that include a 0.5 MB, 3,000-part message held the loop 0.8 s idle and
 * 1.9 s under a load of 5-9 on two cores. The bound is for hangs and blow-ups; the real figure is printed.
 */
const MAX_STALL_MS = 5_000
/**
 * RSS growth over the run: a fixed allowance plus a multiple of the bytes stored, since in-memory PGlite
 * keeps each message several times (raw, parsed text and HTML, sanitised HTML, WAL) and its WebAssembly heap
 * never shrinks (2,000 messages, 36 MB stored: +520 MB). A leak per message outgrows it.
 */
const RSS_GROWTH_ALLOWANCE_BYTES = 512 * 1024 * 1024
const RSS_GROWTH_PER_STORED_BYTE = 32
const PROBE_INTERVAL_MS = 10

const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
/** A reason's class: its first words, numbers and quoted text blanked, so like reasons count together. */
const reasonClass = (reason: string) =>
  reason
    .replace(/"[^"]*"|'[^']*'/g, '"…"')
    .replace(/\d+/g, 'N')
    .slice(0, 70)
const tallyOf = (values: string[]) => {
  const tally: Record<string, number> = {}
  for (const value of values) tally[value] = (tally[value] ?? 0) + 1
  return tally
}
async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** The longest line, its ending excluded: SMTP refuses past MAX_TEXT_LINE_OCTETS, the funnel does not. */
function longestLine(raw: Uint8Array): number {
  let longest = 0
  let from = 0
  for (let newline = raw.indexOf(10); newline !== -1; newline = raw.indexOf(10, from)) {
    longest = Math.max(longest, newline - from - (raw[newline - 1] === 13 ? 1 : 0))
    from = newline + 1
  }
  return Math.max(longest, raw.length - from)
}

/** The server's mail offload, timed: the slowest parse and sanitise, and which mutation parsed slowest. */
function timedMailWork(indexOf: WeakMap<Uint8Array, number>) {
  const offload = createMailOffload()
  const worst = { parseMs: 0, parseIndex: -1, sanitizeMs: 0 }
  const work: MailWork = {
    async parse(raw) {
      const started = performance.now()
      try {
        return await offload.parse(raw)
      } finally {
        const took = performance.now() - started
        if (took > worst.parseMs) Object.assign(worst, { parseMs: took, parseIndex: indexOf.get(raw) ?? -1 })
      }
    },
    async sanitize(html) {
      const started = performance.now()
      try {
        return await offload.sanitize(html)
      } finally {
        worst.sanitizeMs = Math.max(worst.sanitizeMs, performance.now() - started)
      }
    },
    close: () => offload.close(),
  }
  return { work, worst }
}

/** The longest the event loop went without running a timer due every PROBE_INTERVAL_MS. */
function stallProbe() {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - PROBE_INTERVAL_MS)
    last = now
  }, PROBE_INTERVAL_MS)
  return {
    /** Forgets the time since the last tick: the test's own work (building mutations) is not the server's. */
    skip() {
      last = performance.now()
    },
    worst: () => worst,
    stop() {
      clearInterval(timer)
      return Math.max(worst, performance.now() - last - PROBE_INTERVAL_MS)
    },
  }
}

type Outcome =
  | { mutation: Mutation; refused: string }
  | { mutation: Mutation; messageId: string; state?: string; error?: string; notes?: string[] }

describe(`fuzz: ${COUNT} mutated messages through the pipeline (seed ${SEED})`, () => {
  const seeds = loadSeedMessages()
  const indexOf = new WeakMap<Uint8Array, number>()
  const timed = timedMailWork(indexOf)
  let h: Awaited<ReturnType<typeof createApiHarness>>
  let box: { address: string; token: string }
  beforeAll(async () => {
    console.log(`fuzz: seed ${SEED}, ${COUNT} mutations (EPHEMAIL_FUZZ_SEED=${SEED} repeats this run)`)
    h = await createApiHarness(
      {
        EPHEMAIL_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
        // Every message is read back with the mailbox token, which is metered as one anonymous address:
        // a budget for thousands of reads in a minute, not the default 300.
        EPHEMAIL_RATE_PLANS: '{"anonymous":{"requests":1000000}}',
      },
      { mail: timed.work },
    )
    box = (await h.call('POST', '/v1/mailboxes', { token: null, body: { ttlSeconds: 3600 } })).json
  })
  afterAll(() => h.close())

  test('refused with a reason, or stored and then processed or failed with one; none pending', async () => {
    const problems: string[] = []
    const where = (m: Mutation) => `seed ${SEED} index ${m.index} (${m.kind} of ${m.seedName})`
    const outcomes: Outcome[] = []
    Bun.gc(true)
    const rssBefore = process.memoryUsage.rss()
    let rssPeak = rssBefore
    let deliveredBytes = 0
    let stallBatch = ''
    const probe = stallProbe()
    const started = performance.now()

    for (let start = 0; start < COUNT; start += CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, COUNT - start) }, (_, offset) =>
        mutation(seeds, SEED, start + offset, { maxMessageBytes: MAX_MESSAGE_BYTES }),
      )
      probe.skip()
      const stallBefore = probe.worst()
      const settled = await Promise.all(
        batch.map(async (m): Promise<Outcome | null> => {
          indexOf.set(m.raw, m.index)
          try {
            const { stored, rejected } = await withDeadline(
              h.deliver(m.raw, [box.address]),
              DELIVERY_DEADLINE_MS,
              `delivery of ${where(m)}`,
            )
            if (stored.length === 1 && rejected.length === 0) {
              deliveredBytes += m.raw.byteLength
              return { mutation: m, messageId: (stored[0] as { messageId: string }).messageId }
            }
            if (stored.length === 0 && rejected.length > 0)
              return { mutation: m, refused: 'rejected recipient' }
            problems.push(`${where(m)}: stored ${stored.length}, rejected ${rejected.length}`)
          } catch (error) {
            const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
            if (reason.startsWith('Error: hang:') || !(error instanceof Error) || !error.message)
              problems.push(`${where(m)}: ${reason || 'refused without a reason'}`)
            else return { mutation: m, refused: reason }
          }
          return null
        }),
      )
      for (const outcome of settled) if (outcome) outcomes.push(outcome)
      if (probe.worst() > stallBefore) {
        const largest = batch.reduce((a, b) => (b.raw.byteLength > a.raw.byteLength ? b : a))
        const indexes = `indexes ${start}..${start + batch.length - 1}`
        stallBatch = `${indexes}, largest ${largest.index}: ${largest.kind} (${largest.raw.byteLength} bytes)`
      }
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    }
    const deliveredMs = performance.now() - started

    // The funnel enqueues after its commit without waiting, so drain until nothing is left pending.
    const settleBy = Date.now() + SETTLE_DEADLINE_MS
    for (;;) {
      await withDeadline(h.processed(), SETTLE_DEADLINE_MS, 'the queue to drain').catch(() => {})
      const pending = await h.storage.findUnprocessed(new Date(Date.now() + 3_600_000), 10)
      if (pending.length === 0 || Date.now() > settleBy) break
      await Bun.sleep(50)
    }
    const settledMs = performance.now() - started
    const worstStall = probe.stop()
    const readStarted = performance.now()

    // Read every stored message back through the API: its state, and the raw bytes exactly as delivered.
    const stored = outcomes.filter((outcome) => 'messageId' in outcome)
    for (let start = 0; start < stored.length; start += CONCURRENCY) {
      await Promise.all(
        stored.slice(start, start + CONCURRENCY).map(async (outcome) => {
          const path = `/v1/messages/${outcome.messageId}`
          const read = await h.call('GET', path, { token: box.token })
          if (read.status !== 200) {
            problems.push(`${where(outcome.mutation)}: GET ${read.status} ${read.text.slice(0, 200)}`)
            return
          }
          const { processing, processingNotes } = read.json
          Object.assign(outcome, { state: processing.state, error: processing.error, notes: processingNotes })
          if (processing.state === 'pending') problems.push(`${where(outcome.mutation)}: left pending`)
          if (processing.state === 'failed' && !processing.error)
            problems.push(`${where(outcome.mutation)}: failed without a reason`)
          const raw = await h.app.handle(
            new Request(`http://localhost${path}/raw`, { headers: bearer(box.token) }),
          )
          const bytes = new Uint8Array(await raw.arrayBuffer())
          if (raw.status !== 200 || Buffer.compare(bytes, outcome.mutation.raw) !== 0)
            problems.push(`${where(outcome.mutation)}: raw download ${raw.status}, not the bytes delivered`)
        }),
      )
    }
    // Every summary of the mailbox serialises too (the listing reads other columns than the message).
    let listed = 0
    for (let cursor = ''; ; ) {
      const page = await h.call('GET', `/v1/mailboxes/${box.address}/messages?limit=100${cursor}`, {
        token: box.token,
      })
      if (page.status !== 200) {
        problems.push(`listing: ${page.status} ${page.text.slice(0, 200)}`)
        break
      }
      listed += page.json.items.length
      if (!page.json.nextCursor) break
      cursor = `&cursor=${page.json.nextCursor}`
    }
    if (listed !== stored.length) problems.push(`listing: ${listed} messages listed, ${stored.length} stored`)

    const readBackMs = performance.now() - readStarted
    Bun.gc(true)
    const rssAfter = process.memoryUsage.rss()
    rssPeak = Math.max(rssPeak, rssAfter)
    const latencies = h.events.flatMap((event) =>
      event.type === 'message.processed'
        ? [Date.parse(event.processedAt) - Date.parse(event.receivedAt)]
        : [],
    )
    const refused = outcomes.flatMap((outcome) =>
      'refused' in outcome ? [reasonClass(outcome.refused)] : [],
    )
    const finalStates = stored.map((outcome) => ('state' in outcome ? outcome.state : undefined))
    const failed = stored.flatMap((outcome) =>
      'state' in outcome && outcome.state === 'failed' ? [reasonClass(outcome.error ?? '')] : [],
    )
    const notes = stored.flatMap((outcome) =>
      'notes' in outcome ? (outcome.notes ?? []).map(reasonClass) : [],
    )
    const slowest = timed.worst.parseIndex >= 0 ? mutation(seeds, SEED, timed.worst.parseIndex) : null
    const summary = {
      seed: SEED,
      count: COUNT,
      stored: stored.length,
      storedBytes: MB(deliveredBytes),
      // Stored here through the funnel; the SMTP source would have answered these 552 (a line over 998).
      storedWithLongLines: stored.filter(
        (outcome) => longestLine(outcome.mutation.raw) > MAX_TEXT_LINE_OCTETS,
      ).length,
      refused: tallyOf(refused),
      // Anything but the size limit would be a 4xx to the sender for a message the service could store.
      refusedOtherwise: outcomes.flatMap((outcome) =>
        'refused' in outcome && !outcome.refused.startsWith('MessageTooLargeError')
          ? [`${outcome.mutation.index}: ${outcome.refused.slice(0, 120)}`]
          : [],
      ),
      processed: finalStates.filter((state) => state === 'processed').length,
      failed: tallyOf(failed),
      notes: tallyOf(notes),
      // Served: on the offload thread past OFFLOAD_MIN_BYTES, the wait behind other large messages included.
      worstParseServedMs: Math.round(timed.worst.parseMs),
      worstParse:
        slowest &&
        `${slowest.index}: ${slowest.kind} of ${slowest.seedName} (${slowest.raw.byteLength} bytes)`,
      worstSanitizeServedMs: Math.round(timed.worst.sanitizeMs),
      worstReceivedToProcessedMs: Math.max(0, ...latencies),
      worstEventLoopStallMs: Math.round(worstStall),
      worstStallDuring: stallBatch,
      deliveredInMs: Math.round(deliveredMs),
      settledInMs: Math.round(settledMs),
      readBackMs: Math.round(readBackMs),
      rss: `${MB(rssBefore)} before, ${MB(rssPeak)} peak, ${MB(rssAfter)} after`,
      limits: {
        maxMessageBytes: MAX_MESSAGE_BYTES,
        MAX_MIME_NESTING_DEPTH,
        MAX_HEADER_BYTES,
        MAX_AUTH_HEADER_LINES,
        MAX_AUTH_SIGNATURES,
        OFFLOAD_MIN_BYTES,
        OFFLOAD_TIMEOUT_MS,
      },
    }
    const { worstParseServedMs, worstReceivedToProcessedMs, worstEventLoopStallMs } = summary
    console.log(
      [
        `fuzz summary: seed ${SEED}, ${COUNT} messages: ${stored.length} stored`,
        `(${summary.processed} processed, ${failed.length} failed ${JSON.stringify(summary.failed)}),`,
        `${refused.length} refused ${JSON.stringify(summary.refused)};`,
        `worst parse ${worstParseServedMs} ms, received to processed ${worstReceivedToProcessedMs} ms,`,
        `event-loop stall ${worstEventLoopStallMs} ms; RSS ${summary.rss}`,
      ].join(' '),
    )
    console.log(`fuzz details ${JSON.stringify(summary, null, 1)}`)
    if (problems.length > 0) console.error(`fuzz problems (seed ${SEED}):\n${problems.join('\n')}`)

    expect(problems).toEqual([])
    expect(stored.length + refused.length).toBe(COUNT)
    expect(worstStall).toBeLessThan(MAX_STALL_MS)
    expect(rssAfter - rssBefore).toBeLessThan(
      RSS_GROWTH_ALLOWANCE_BYTES + RSS_GROWTH_PER_STORED_BYTE * deliveredBytes,
    )
  }, 600_000)
})

function bearer(token: string) {
  return { authorization: `Bearer ${token}` }
}
