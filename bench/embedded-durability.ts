// What fsync at commit costs embedded PGlite: commit latency of a 4 KB message row, durable (the driver's
// openPglite) against PGlite's own defaults (fsync off), in alternating rounds on the same disk.
// Usage: bun bench/embedded-durability.ts [--rows 300] [--rounds 5] [--dir /path/on/the/data/disk]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { openPglite } from '#plugins/storage/pglite/index.ts'
import { readArgs } from './support.ts'

const args = readArgs()
const ROWS = Number(args.get('rows') ?? 300)
const ROUNDS = Number(args.get('rounds') ?? 5)
const base = mkdtempSync(join(args.get('dir') ?? tmpdir(), 'ephemail-durability-bench-'))
const row = new Uint8Array(4096).map((_, i) => 32 + (i % 90))

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number

async function commitLatencies(client: PGlite): Promise<number[]> {
  await client.exec('create table if not exists bench (id bigserial primary key, raw bytea not null)')
  const latencies: number[] = []
  for (let i = 0; i < ROWS; i++) {
    const start = performance.now()
    await client.query('insert into bench (raw) values ($1)', [row])
    latencies.push(performance.now() - start)
  }
  return latencies
}

const results = { durable: [] as number[], fsyncOff: [] as number[] }
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0
      ? (['durable', 'fsyncOff'] as const)
      : (['fsyncOff', 'durable'] as const)) {
      const dir = join(base, mode)
      const client = mode === 'durable' ? openPglite(dir) : new PGlite(dir)
      results[mode].push(median(await commitLatencies(client)))
      await client.close()
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true })
}

const durable = median(results.durable)
const fsyncOff = median(results.fsyncOff)
console.table({
  'durable (fsync at commit)': {
    medianCommitMs: durable.toFixed(3),
    commitsPerSecond: Math.round(1000 / durable),
  },
  "PGlite's defaults (fsync off)": {
    medianCommitMs: fsyncOff.toFixed(3),
    commitsPerSecond: Math.round(1000 / fsyncOff),
  },
})
console.log(
  `medians of ${ROUNDS} rounds x ${ROWS} one-row commits; durable costs ${(durable / fsyncOff).toFixed(2)}x per commit`,
)
console.log(
  JSON.stringify({
    scenario: 'embedded-durability',
    durableMedianMs: durable,
    fsyncOffMedianMs: fsyncOff,
    rounds: ROUNDS,
    rows: ROWS,
  }),
)
