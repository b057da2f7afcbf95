// The benchmark suite: every scenario of bench/ in its own process, one summary table against the targets,
// and the figures as JSON in bench/results/ (latest.json and a dated copy).
// Usage: npm run bench [-- --quick]   (quick: fewer messages and one run each, to check the suite itself)

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const quick = process.argv.includes('--quick')
const here = import.meta.dir

/** A scenario script and its arguments; every JSON line it prints is a result. */
const SCENARIOS: { name: string; script: string; args: string[] }[] = [
  {
    name: 'ingest',
    script: 'ingest-throughput.ts',
    args: quick ? ['--messages', '600', '--repeat', '1'] : ['--messages', '4000', '--repeat', '3'],
  },
  { name: 'latency', script: 'steady-latency.ts', args: ['--rate', '500', '--seconds', quick ? '3' : '10'] },
  {
    name: 'api',
    script: 'api-reads.ts',
    args: quick
      ? ['--totals', '10000', '--seconds', '3']
      : ['--totals', '10000,100000,1000000', '--seconds', '10'],
  },
  {
    name: 'live',
    script: 'live-delivery.ts',
    args: quick
      ? ['--subscribers', '1000', '--messages', '50', '--webhooks', '50']
      : ['--subscribers', '10000', '--mailboxes', '100', '--messages', '200', '--webhooks', '300'],
  },
  {
    name: 'fan-out',
    script: 'live-delivery.ts',
    args: quick
      ? [
          '--subscribers',
          '1000',
          '--mailboxes',
          '1',
          '--messages',
          '10',
          '--rate',
          '5',
          '--webhooks',
          '5',
          '--setup',
          'redis',
        ]
      : [
          '--subscribers',
          '10000',
          '--mailboxes',
          '1',
          '--messages',
          '30',
          '--rate',
          '5',
          '--webhooks',
          '10',
          '--setup',
          'redis',
        ],
  },
  { name: 'extraction', script: 'extraction-accuracy.ts', args: [] },
]

type Row = Record<string, unknown>

async function runScenario(script: string, args: string[]): Promise<Row[]> {
  const child = Bun.spawn(['bun', join(here, script), ...args], { stdout: 'pipe', stderr: 'inherit' })
  const output = await new Response(child.stdout).text()
  const code = await child.exited
  if (code !== 0) throw new Error(`${script} exited with ${code}`)
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Row)
}

const started = new Date()
const results: Record<string, Row[]> = {}
for (const scenario of SCENARIOS) {
  console.error(`== ${scenario.name}: bun bench/${scenario.script} ${scenario.args.join(' ')}`)
  results[scenario.name] = await runScenario(scenario.script, scenario.args)
}

/** One line per figure the issue sets a target for, with what was measured. */
const rows: { figure: string; measured: string; target: string }[] = []
const find = (name: string, match: (row: Row) => boolean) => (results[name] ?? []).find(match)
for (const row of results.ingest ?? [])
  rows.push({
    figure: `ingest ${row.variant} (${row.sizeBytes} B), ${row.setup}`,
    measured: `${
      row.processedPerSecond === null
        ? `${row.acceptedPerSecond}/s accepted`
        : `${row.processedPerSecond}/s processed (${row.acceptedPerSecond}/s accepted), ×${row.ratioToMaildev} MailDev`
    }; server CPU ${(row.cpuMsPerMessage as { server: number }).server} ms/message`,
    target: String(row.setup).includes('PostgreSQL')
      ? ({ reused: '≥ 3,000/s', 'per-connection': '≥ 1,000/s', large: '≥ 400/s' }[String(row.variant)] ?? '')
      : '',
  })
for (const row of results.latency ?? []) {
  const reply = row.dataEndTo250Ms as { p50: number; p99: number }
  rows.push({
    figure: `DATA end → 250 at ${row.offeredPerSecond}/s (${row.achievedPerSecond}/s sent), ${row.setup}`,
    measured: `p50 ${reply.p50} ms, p99 ${reply.p99} ms`,
    target: String(row.setup).startsWith('Ephemail') ? 'p99 < 20 ms' : '',
  })
  const event = row.dataEndToSseEventMs as { p50: number; p99: number } | null
  if (event)
    rows.push({
      figure: `DATA end → SSE event at ${row.offeredPerSecond}/s, ${row.setup}`,
      measured: `p50 ${event.p50} ms, p99 ${event.p99} ms`,
      target: 'p99 < 100 ms',
    })
}
for (const row of results.api ?? [])
  rows.push({
    figure: `API ${row.route}, ${Number(row.totalMessages).toLocaleString('en')} messages stored`,
    measured: `${row.requestsPerSecond} req/s, p99 ${row.p99Ms} ms`,
    target: '≥ 10,000 req/s, p99 < 20 ms',
  })
for (const row of results.live ?? []) {
  if (row.subscribers)
    rows.push({
      figure: `${row.subscribers} SSE streams, ${row.label}`,
      measured: `${((Number(row.bytesPerConnection) * Number(row.subscribers)) / 2 ** 20).toFixed(0)} MB (${(Number(row.bytesPerConnection) / 1024).toFixed(1)} KB each)`,
      target: '< 150 MB for 10,000',
    })
  if (row.dataEndToWebhookMs) {
    const hook = row.dataEndToWebhookMs as { p50: number; p99: number }
    rows.push({
      figure: `DATA end → webhook POST, ${row.label}`,
      measured: `p50 ${hook.p50} ms, p99 ${hook.p99} ms`,
      target: 'p99 < 500 ms',
    })
  }
}
const fanOut = find('fan-out', (row) => Boolean(row.subscribers))
if (fanOut) {
  const all = fanOut.dataEndToLastSubscriberMs as { p50: number; max: number }
  rows.push({
    figure: `one event to all ${fanOut.subscribers} streams of a mailbox, ${fanOut.label}`,
    measured: `last stream p50 ${all.p50} ms, max ${all.max} ms`,
    target: '',
  })
}
const extraction = find('extraction', () => true)
if (extraction)
  rows.push({
    figure: `extraction over ${extraction.messages} labelled emails`,
    measured: `${extraction.extractionsPerSecondOneCore}/s on one core; codes ${extraction.otpExactPercent} %, links ${extraction.linkExactPercent} % exact`,
    target: '',
  })

console.table(rows)
const dir = join(here, 'results')
mkdirSync(dir, { recursive: true })
const document = JSON.stringify({ startedAt: started.toISOString(), quick, summary: rows, results }, null, 2)
writeFileSync(join(dir, 'latest.json'), `${document}\n`)
writeFileSync(join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`), `${document}\n`)
console.log(`wrote ${join(dir, 'latest.json')}`)
