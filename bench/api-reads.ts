// Benchmark: API reads under wrk (Debian's) at 64 connections on PostgreSQL holding 10k, 100k and 1M messages:
// an inbox list and a message read, requests/s and p99. The cost must not grow with the total.
// Usage: bun bench/api-reads.ts [--totals 10000,100000,1000000] [--seconds 10] [--connections 64] [--routes list,read]
// What request metering costs: --metering on,off [--repeat 5] [--limiter memory|redis] runs a second, unmetered
// server on the same database and alternates wrk between the two on the list route, printing medians.

import { SQL } from 'bun'
import nodemailer from 'nodemailer'
import {
  ADMIN_KEY,
  adminApi,
  countEvents,
  cpuSeconds,
  readArgs,
  withPostgresDatabase,
  withServer,
} from './support.ts'

const args = readArgs()
const TOTALS = (args.get('totals') ?? '10000,100000,1000000').split(',').map(Number)
const SECONDS = Number(args.get('seconds') ?? 10)
const CONNECTIONS = Number(args.get('connections') ?? 64)
const ROUTES = (args.get('routes') ?? 'list,read').split(',')
const METERING = (args.get('metering') ?? 'on').split(',')
const REPEAT = Number(args.get('repeat') ?? 5)
/** memory: no REDIS_URL (the embedded limiter); redis: REDIS_URL set, so the limiter (and queue) are Redis. */
const LIMITER = args.get('limiter') ?? 'memory'
const REDIS_URL = process.env.EPHEMAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const HOT_MESSAGES = 50
const FILLER_MAILBOXES = 1000

interface WrkResult {
  requestsPerSecond: number
  serverCpuUsPerRequest: number
  p50Ms: number
  p99Ms: number
  errors: number
}

/** Runs wrk and reads its summary (with --latency: the 50/75/90/99 % lines), and the server's CPU per request. */
function wrk(url: string, serverPid: number): WrkResult {
  const cpuBefore = cpuSeconds(serverPid)
  const result = Bun.spawnSync(
    [
      'wrk',
      '-t2',
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      '--latency',
      '-H',
      `Authorization: Bearer ${ADMIN_KEY}`,
      url,
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const out = result.stdout.toString()
  if (result.exitCode !== 0) throw new Error(`wrk failed: ${result.stderr.toString()}`)
  const ms = (line: RegExp) => {
    const match = line.exec(out)
    if (!match) throw new Error(`wrk output without ${line}: ${out}`)
    const value = Number(match[1])
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value
  }
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
  return {
    requestsPerSecond: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)),
    serverCpuUsPerRequest: Math.round(((cpuSeconds(serverPid) - cpuBefore) * 1e6) / Math.max(1, requests)),
    p50Ms: Number(ms(/\s50%\s+([\d.]+)(us|ms|s)/).toFixed(2)),
    p99Ms: Number(ms(/\s99%\s+([\d.]+)(us|ms|s)/).toFixed(2)),
    errors: Number(errors?.[1] ?? 0),
  }
}

/** Adds filler mailboxes and (processed) messages straight into the database until it holds `total` messages. */
async function fillTo(url: string, total: number): Promise<void> {
  const sql = new SQL(url, { max: 1 })
  try {
    const [{ count }] = (await sql`select count(*)::int as count from messages`) as unknown as [
      { count: number },
    ]
    if (count >= total) return
    await sql`
      insert into mailboxes (id, address, local_part, domain, token_hash, created_at, expires_at)
      select gen_random_uuid(), 'filler' || i || '@ephemail.test', 'filler' || i, 'ephemail.test',
             md5(random()::text) || md5(random()::text), now(), now() + interval '1 day'
      from generate_series(1, ${FILLER_MAILBOXES}) as i
      on conflict do nothing`
    await sql`
      with boxes as (select id, row_number() over () - 1 as n from mailboxes where local_part like 'filler%')
      insert into messages (id, mailbox_id, received_at, size, from_address, subject, envelope, raw, received_seq,
        processed_at, processed_seq)
      select gen_random_uuid(), boxes.id, now() - (i || ' seconds')::interval, 200, 'filler@acme.example',
             'Filler ' || i, '{"mailFrom":"filler@acme.example","rcptTo":[]}'::jsonb, decode(repeat('41', 200), 'hex'), 0,
             now() - (i || ' seconds')::interval, 0
      from generate_series(1, ${total - count}) as i
      join boxes on boxes.n = i % ${FILLER_MAILBOXES}`
    await sql`vacuum analyze messages`
    // The bulk insert left a gigabyte of dirty pages and WAL: flush them (PostgreSQL, then the kernel)
    // and let the disk settle, or that write-back lands in the measurement as a p99 of 100-500 ms.
    await sql`checkpoint`
    Bun.spawnSync(['sync'])
    await Bun.sleep(5000)
  } finally {
    await sql.close()
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export async function apiReads() {
  const env: Record<string, string> = LIMITER === 'redis' ? { REDIS_URL } : {}
  return withPostgresDatabase((url) =>
    withServer({ ...env, DATABASE_URL: url }, async (ports, pid) => {
      const api = adminApi(ports)
      const hot = await (await api('/v1/mailboxes', { method: 'POST', body: '{"ttlSeconds":86400}' })).json()
      const processed = await countEvents(ports, hot, 'message.processed')
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: ports.smtp,
        pool: true,
        ignoreTLS: true,
      })
      await Promise.all(
        Array.from({ length: HOT_MESSAGES }, (_, i) =>
          transport.sendMail({
            from: 'Acme <login@acme.example>',
            to: hot.address,
            subject: `Your sign-in code ${i}`,
            text: `Your verification code is ${300000 + i}.\n\nhttps://acme.example/verify?token=${i}abc`,
            html: `<p>Your verification code is <b>${300000 + i}</b>.</p><a href="https://acme.example/verify?token=${i}abc">Verify</a>`,
          }),
        ),
      )
      transport.close()
      await processed.reach(HOT_MESSAGES)
      processed.close()
      const page = await (await api(`/v1/mailboxes/${hot.address}/messages?limit=20`)).json()
      const messageId = page.items[0].id
      const base = `http://127.0.0.1:${ports.http}`
      const results = []
      if (METERING.includes('off')) {
        await fillTo(url, TOTALS[0] as number)
        const list = `/v1/mailboxes/${hot.address}/messages?limit=20`
        // Twins on the same database, both API-only (no worker or SMTP beside them), one metered and one
        // not; wrk alternates between them so drift of the machine falls on both alike.
        const api = { ...env, DATABASE_URL: url, EPHEMAIL_ROLES: 'api' }
        return withServer(api, (meteredPorts, meteredPid) =>
          withServer(
            api,
            async (unmeteredPorts, unmeteredPid) => {
              const runs: Record<'on' | 'off', WrkResult[]> = { on: [], off: [] }
              for (let i = 0; i < REPEAT; i++) {
                runs.on.push(wrk(`http://127.0.0.1:${meteredPorts.http}${list}`, meteredPid))
                runs.off.push(wrk(`http://127.0.0.1:${unmeteredPorts.http}${list}`, unmeteredPid))
              }
              const summary = (mode: 'on' | 'off') => ({
                metering: mode,
                limiter: LIMITER,
                totalMessages: TOTALS[0],
                route: 'list 20',
                medianRequestsPerSecond: median(runs[mode].map((run) => run.requestsPerSecond)),
                medianServerCpuUsPerRequest: median(runs[mode].map((run) => run.serverCpuUsPerRequest)),
                medianP50Ms: median(runs[mode].map((run) => run.p50Ms)),
                medianP99Ms: median(runs[mode].map((run) => run.p99Ms)),
                errors: runs[mode].reduce((sum, run) => sum + run.errors, 0),
                runs: runs[mode].map((run) => run.requestsPerSecond).join(' '),
              })
              const on = summary('on')
              const off = summary('off')
              console.log(
                `metering ${LIMITER}: throughput on/off ${(on.medianRequestsPerSecond / off.medianRequestsPerSecond).toFixed(3)}, CPU per request on/off ${(on.medianServerCpuUsPerRequest / off.medianServerCpuUsPerRequest).toFixed(3)}`,
              )
              return [on, off]
            },
            { entry: 'bench/unmetered-server.ts' },
          ),
        )
      }
      for (const total of TOTALS) {
        await fillTo(url, total)
        if (ROUTES.includes('list'))
          results.push({
            scenario: 'api',
            totalMessages: total,
            route: 'list 20',
            ...wrk(`${base}/v1/mailboxes/${hot.address}/messages?limit=20`, pid),
          })
        if (ROUTES.includes('read'))
          results.push({
            scenario: 'api',
            totalMessages: total,
            route: 'read one',
            ...wrk(`${base}/v1/messages/${messageId}`, pid),
          })
      }
      return results
    }),
  )
}

if (import.meta.main) {
  const results = await apiReads()
  console.table(results)
  for (const result of results) console.log(JSON.stringify(result))
}
