// Shared by the benchmarks: run Ephemail as a separate process on free ports, with a fresh PostgreSQL database if asked.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'

export const ADMIN_KEY = 'bench-admin-key-0123456789'
const POSTGRES_URL = process.env.EPHEMAIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const root = join(import.meta.dir, '..')

/** `--name value` pairs from the command line. */
export function readArgs(): Map<string, string> {
  const args = new Map<string, string>()
  for (let i = 2; i < process.argv.length; i += 2)
    args.set(String(process.argv[i]).replace(/^--/, ''), String(process.argv[i + 1]))
  return args
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

export interface ServerPorts {
  http: number
  smtp: number
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux). Throughput on a shared
 * two-core machine swings with whatever else runs; the server's CPU per request or message does not.
 */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  // After the command name: state is field 3, utime field 14, stime field 15 (man 5 proc), in ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU seconds used so far by every process whose command name is `name` (e.g. postgres, redis-server). */
export function cpuSecondsOfAll(name: string): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === name)
        total += cpuSeconds(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return total
}

export interface CpuShares {
  /** The server under test (Ephemail or the peer). */
  server: number
  /** This process: the load generator (nodemailer) and the event counter. */
  client: number
  postgres: number
  redis: number
}

/**
 * Starts counting CPU by component; the returned function gives milliseconds of CPU per message for
 * `messages` since the start. (smtp-source runs as a child of this process and is not counted.)
 */
export function cpuMeter(serverPid: number): (messages: number) => CpuShares {
  const read = () => ({
    server: cpuSeconds(serverPid),
    client: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    postgres: cpuSecondsOfAll('postgres'),
    redis: cpuSecondsOfAll('redis-server'),
  })
  const start = read()
  return (messages) => {
    const end = read()
    const perMessage = (key: keyof CpuShares) =>
      Number((((end[key] - start[key]) * 1000) / Math.max(1, messages)).toFixed(3))
    return {
      server: perMessage('server'),
      client: perMessage('client'),
      postgres: perMessage('postgres'),
      redis: perMessage('redis'),
    }
  }
}

/**
 * Starts `bun src/main.ts` with `env`, waits for /ready, runs `run`, then stops it and cleans up.
 * With EPHEMAIL_BENCH_WORKERS=n (needs REDIS_URL in `env`) the server runs as one api+smtp process
 * and n worker processes, the way a deployment uses more than one core.
 */
export async function withServer<T>(
  env: Record<string, string>,
  run: (ports: ServerPorts, pid: number) => Promise<T>,
  { entry = 'src/main.ts' }: { entry?: string } = {},
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ephemail-bench-'))
  const ports = { http: await freePort(), smtp: await freePort() }
  const workers = env.REDIS_URL ? Number(process.env.EPHEMAIL_BENCH_WORKERS ?? 0) : 0
  const spawn = (roles: string | null, http: number) =>
    Bun.spawn(
      [
        'bun',
        ...(process.env.EPHEMAIL_BENCH_PROFILE
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.EPHEMAIL_BENCH_PROFILE]
          : []),
        entry,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          EPHEMAIL_HOST: '127.0.0.1',
          EPHEMAIL_HTTP_PORT: String(http),
          EPHEMAIL_SMTP_PORT: String(ports.smtp),
          EPHEMAIL_DATA_DIR: dataDir,
          EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
          // Every load generator connects from 127.0.0.1: the per-address cap would refuse them.
          EPHEMAIL_SMTP_MAX_CLIENTS_PER_IP: '100000',
          EPHEMAIL_SMTP_CONNECTIONS_PER_MINUTE_PER_IP: '0',
          EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP: '0',
          // The same for HTTP: requests are still metered (counted, headers sent), but no budget runs out.
          EPHEMAIL_RATE_PLANS: JSON.stringify({
            anonymous: { requests: 10_000_000, mailboxesPerHour: 10_000_000 },
            admin: { requests: 10_000_000 },
          }),
          ...env,
          ...(roles ? { EPHEMAIL_ROLES: roles } : {}),
        },
        stdout: 'ignore',
        stderr: 'inherit',
      },
    )
  const child = spawn(workers > 0 ? 'api,smtp' : null, ports.http)
  const workerProcesses = []
  for (let i = 0; i < workers; i++) workerProcesses.push(spawn('worker', await freePort()))
  try {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`http://127.0.0.1:${ports.http}/ready`).then(
        (response) => response.ok,
        () => false,
      )
      if (ok) break
      await Bun.sleep(100)
    }
    if (workers > 0) await Bun.sleep(1500) // workers connect to Redis
    return await run(ports, child.pid)
  } finally {
    for (const process of [child, ...workerProcesses]) process.kill('SIGTERM')
    for (const process of [child, ...workerProcesses]) await process.exited
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** A throw-away database on the local PostgreSQL for the duration of `run`. */
export async function withPostgresDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const name = `ephemail_bench_${Date.now()}`
  const admin = new SQL(POSTGRES_URL, { max: 1 })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  try {
    return await run(url.toString())
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.close()
  }
}

export function adminApi(ports: ServerPorts) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${ports.http}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    })
}

/**
 * A mailbox's SSE stream on a raw socket (light enough to hold 10,000 of them). `onFrames` gets each
 * run of complete frames (a frame split over two reads is reassembled) with its arrival time.
 * Resolves with the socket once the server answered 200.
 */
export async function openRawEventStream(
  ports: ServerPorts,
  mailbox: { address: string; token: string },
  onFrames: (text: string, at: number) => void,
): Promise<Socket> {
  const socket = connect(ports.http, '127.0.0.1')
  let pending = ''
  await new Promise<void>((resolve, reject) => {
    let open = false
    socket.on('data', (chunk) => {
      const text = chunk.toString('utf8')
      if (!open) {
        if (!text.startsWith('HTTP/1.1 200'))
          return reject(new Error(`event stream refused: ${text.slice(0, 200)}`))
        open = true
        resolve()
      }
      pending += text
      const end = pending.lastIndexOf('\n\n')
      if (end === -1) return
      const complete = pending.slice(0, end)
      pending = pending.slice(end + 2)
      onFrames(complete, performance.now())
    })
    socket.on('error', reject)
    socket.write(
      `GET /v1/mailboxes/${encodeURIComponent(mailbox.address)}/events?access_token=${mailbox.token} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n`,
    )
  })
  return socket
}

/** Counts one event type on a mailbox's stream: "stored and processed" is measured at the last message.processed. */
export async function countEvents(
  ports: ServerPorts,
  mailbox: { address: string; token: string },
  type: string,
) {
  const arrivals: number[] = []
  const marker = `event: ${type}\n`
  const socket = await openRawEventStream(ports, mailbox, (text, at) => {
    for (let index = text.indexOf(marker); index !== -1; index = text.indexOf(marker, index + 1))
      arrivals.push(at)
  })
  return {
    count: () => arrivals.length,
    /** Resolves with the arrival time of the `n`-th event; rejects after `timeoutMs` without it. */
    async reach(n: number, timeoutMs = 120_000): Promise<number> {
      const deadline = performance.now() + timeoutMs
      while (arrivals.length < n) {
        if (performance.now() > deadline)
          throw new Error(`only ${arrivals.length} of ${n} ${type} events arrived`)
        await Bun.sleep(20)
      }
      return arrivals[n - 1] as number
    },
    close: () => socket.destroy(),
  }
}

/** p50, p99 and the largest value, in ms with one decimal. */
export function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  const round = (value: number) => Number(value.toFixed(1))
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
  }
}

/** One SMTP connection that sends messages one after another and notes when each DATA ended. */
export async function openSmtp(port: number) {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  let buffer = ''
  // Pipelined commands get their replies in one read: keep every final reply line in order.
  const replies: string[] = []
  const waiting: ((line: string) => void)[] = []
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1')
    for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      if (!/^\d{3} /.test(line)) continue
      const resolve = waiting.shift()
      if (resolve) resolve(line)
      else replies.push(line)
    }
  })
  const reply = () => {
    const ready = replies.shift()
    return ready !== undefined
      ? Promise.resolve(ready)
      : new Promise<string>((resolve) => waiting.push(resolve))
  }
  const expect = async (code: string) => {
    const line = await reply()
    if (!line.startsWith(code)) throw new Error(`SMTP: expected ${code}, got ${line}`)
  }
  await expect('220')
  socket.write('EHLO bench.test\r\n')
  await expect('250')
  return {
    /** Resolves with the moment the final "." was written (the end of DATA). */
    async send(to: string, subject: string, text: string): Promise<number> {
      socket.write(`MAIL FROM:<bench@acme.example>\r\nRCPT TO:<${to}>\r\nDATA\r\n`)
      await expect('250')
      await expect('250')
      await expect('354')
      socket.write(`From: Acme <bench@acme.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${text}\r\n`)
      const dataEnd = performance.now()
      socket.write('.\r\n')
      await expect('250')
      return dataEnd
    },
    close: () => socket.end('QUIT\r\n'),
  }
}
