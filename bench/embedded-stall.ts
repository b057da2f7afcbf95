// How long storing and reading one large message holds the event loop on the embedded driver: PGlite on its own thread (as the server runs it) against PGlite in the server's thread.
// Usage: bun bench/embedded-stall.ts [--sizes 65536,1048576,10485760] [--repeat 5] [--dir /path/on/the/data/disk]
//
// Each size is stored (insertMessages), listed, read (getMessage) and read raw (getRawMessage) `repeat`
// times on a durable database in a temporary directory. A 1 ms timer measures the longest gap between
// its ticks during each call: that gap is how long SMTP replies and API requests sharing the process
// would have waited. Printed: the worst gap and the median call time per size, operation and thread.
// Target (the hardening issue): no gap over 50 ms.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Storage } from '#contracts/storage.ts'
import { create as createPglite } from '#plugins/storage/pglite/index.ts'
import { HOUR, mailbox } from '../test/contracts/storage.ts'
import { readArgs } from './support.ts'

const args = readArgs()
const SIZES = (args.get('sizes') ?? '65536,1048576,10485760').split(',').map(Number)
const REPEAT = Number(args.get('repeat') ?? 5)
const base = mkdtempSync(join(args.get('dir') ?? tmpdir(), 'ephemail-stall-bench-'))
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number

/** A message of about `bytes` octets: headers, then base64-like lines as a large attachment would be. */
function largeMessage(bytes: number): Uint8Array {
  const line = `${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0'}\r\n`
  const head = 'From: a@sender.example\r\nTo: big@stall.test\r\nSubject: large\r\n\r\n'
  return new TextEncoder().encode(head + line.repeat(Math.ceil((bytes - head.length) / line.length)))
}

/** Runs `call` while a 1 ms timer watches the event loop; returns the call's time and the longest gap. */
async function watched(call: () => Promise<unknown>): Promise<{ ms: number; gap: number }> {
  let last = performance.now()
  let gap = 0
  const probe = setInterval(() => {
    const now = performance.now()
    gap = Math.max(gap, now - last - 1)
    last = now
  }, 1)
  const started = performance.now()
  await call()
  const ms = performance.now() - started
  // One more tick, so a stall at the very end of the call is counted too.
  await new Promise((resolve) => setTimeout(resolve, 2))
  clearInterval(probe)
  return { ms, gap: Math.max(gap, 0) }
}

async function measure(thread: 'worker' | 'main') {
  const storage: Storage = createPglite({ dataDir: join(base, thread), thread })
  await storage.migrate()
  const box = mailbox(`stall-${thread}`, new Date(Date.now() + HOUR))
  await storage.insertMailbox(box)
  const rows = []
  for (const size of SIZES) {
    const raw = largeMessage(size)
    const figures: Record<string, { ms: number[]; gap: number }> = {}
    const record = (operation: string, result: { ms: number; gap: number }) => {
      const entry = figures[operation] ?? { ms: [], gap: 0 }
      figures[operation] = entry
      entry.ms.push(result.ms)
      entry.gap = Math.max(entry.gap, result.gap)
    }
    for (let i = 0; i < REPEAT; i++) {
      const id = crypto.randomUUID()
      const message = {
        id,
        mailboxId: box.id,
        receivedAt: new Date(),
        raw,
        envelope: {
          mailFrom: 'a@sender.example',
          rcptTo: [box.address],
          remoteAddress: '127.0.0.1',
          helo: 'h',
          source: 'smtp',
        },
        parsed: null,
        parseError: null,
        source: 'smtp',
        dedupeKey: null,
      }
      record('store', await watched(() => storage.insertMessages([message])))
      record('list', await watched(() => storage.listMessages(box.id, { limit: 20 })))
      record('read', await watched(() => storage.getMessage(id, new Date())))
      record('read raw', await watched(() => storage.getRawMessage(id, new Date())))
    }
    for (const [operation, entry] of Object.entries(figures))
      rows.push({
        thread,
        'size KB': Math.round(size / 1024),
        operation,
        'median ms': Number(median(entry.ms).toFixed(1)),
        'worst event-loop gap ms': Number(entry.gap.toFixed(1)),
      })
  }
  await storage.close()
  return rows
}

try {
  const rows = [...(await measure('worker')), ...(await measure('main'))]
  console.table(rows)
  const worst = (thread: string) =>
    Math.max(...rows.filter((r) => r.thread === thread).map((r) => r['worst event-loop gap ms']))
  console.log(
    JSON.stringify({
      scenario: 'embedded-stall',
      repeat: REPEAT,
      worstGapMs: { worker: worst('worker'), main: worst('main') },
      rows,
    }),
  )
} finally {
  rmSync(base, { recursive: true, force: true })
}
