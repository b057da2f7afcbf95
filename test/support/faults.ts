// Test helper for the fault tests: a multi-process deployment whose processes can be killed, stopped and
// restarted one by one, a private Redis, an SMTP sender that retries whatever got no 250, and the tally of
// what PostgreSQL stored and the worker made of it.

import { SQL } from 'bun'
import { Redis } from 'ioredis'
import { cleanEnv, type EphemailProcess, freePorts, spawnNpmStart } from './ephemail-process.ts'
import { dataPayload, type SmtpReply, SmtpTestClient } from './smtp-client.ts'

export const ADMIN_KEY = 'fault-tests-admin-key-0123'
const START_TIMEOUT_MS = 30_000
const REPLY_TIMEOUT_MS = 20_000
const BANNERS: Record<string, RegExp> = { api: /HTTP API on/, smtp: /SMTP on/, worker: /roles worker/ }

export type Deployment = Awaited<ReturnType<typeof startDeployment>>

/** Starts one `npm start` per entry of `processes` (name -> roles), all on one database and one Redis. */
export async function startDeployment(options: {
  root: string
  databaseUrl: string
  redisUrl: string
  prefix: string
  processes: Record<string, string>
}) {
  const names = Object.keys(options.processes)
  const ports = await freePorts(names.length + 2)
  const smtpPort = ports.pop() as number
  const spare = ports.pop() as number // for a process added later (worker-b)
  const portOf = new Map(names.map((name, index) => [name, ports[index] as number]))
  const rolesOf = new Map(Object.entries(options.processes))
  const shared = {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
    EPHEMAIL_HOST: '127.0.0.1',
    EPHEMAIL_SMTP_PORT: String(smtpPort),
    EPHEMAIL_REDIS_PREFIX: options.prefix,
    // The recovery scan runs on this interval: every second, so a lost job's messages are found as soon
    // as they pass the scan's age threshold (a minute, fixed in message-processor.ts).
    EPHEMAIL_SWEEP_INTERVAL_MS: '1000',
    // Three deployments at once and other test runs share one PostgreSQL (max_connections 100).
    EPHEMAIL_DB_POOL_SIZE: '4',
  }
  const running = new Map<string, EphemailProcess>()
  const everything: EphemailProcess[] = []
  const child = (name: string) => {
    const found = running.get(name)
    if (!found) throw new Error(`no process ${name}`)
    return found
  }

  const deployment = {
    smtpPort,
    /** The HTTP port of each api process, by name. */
    httpPorts: Object.fromEntries(
      names.filter((name) => rolesOf.get(name) === 'api').map((name) => [name, portOf.get(name) as number]),
    ),
    /** Starts (or starts again, with the same environment) the process `name` running `roles`. */
    async start(name: string, roles = rolesOf.get(name)) {
      if (!roles) throw new Error(`no roles for ${name}`)
      rolesOf.set(name, roles)
      const port = portOf.get(name) ?? spare
      portOf.set(name, port)
      const started = spawnNpmStart(
        options.root,
        cleanEnv({ ...shared, EPHEMAIL_ROLES: roles, EPHEMAIL_HTTP_PORT: String(port) }),
      )
      everything.push(started)
      running.set(name, started)
      await started.waitForStdout(BANNERS[roles.split(',')[0] as string] as RegExp, START_TIMEOUT_MS)
    },
    /** The pid of the server itself (`bun src/main.ts`) of process `name`. */
    pid: (name: string) => child(name).serverPid(),
    /** SIGKILLs the server process, then whatever is left of its group. */
    async kill9(name: string) {
      const killed = child(name)
      process.kill(killed.serverPid(), 'SIGKILL')
      await killed.exited(10_000).catch(() => {})
      killed.killAll()
    },
    /** Every process's server pid, to show that nothing was restarted behind the test's back. */
    pids: (): Record<string, number> =>
      Object.fromEntries([...running.keys()].map((name) => [name, deployment.pid(name)])),
    async stop() {
      for (const started of everything) started.killAll()
      await Promise.all(everything.map((started) => started.exited(10_000).catch(() => {})))
    },
  }
  try {
    await Promise.all(names.map((name) => deployment.start(name)))
  } catch (error) {
    await deployment.stop()
    throw error
  }
  return deployment
}

/** Creates `count` mailboxes living an hour; returns their addresses. */
export async function createMailboxes(httpPort: number, count: number): Promise<string[]> {
  const addresses: string[] = []
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/mailboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds: 3600 }),
    })
    if (!response.ok) throw new Error(`creating a mailbox: ${response.status} ${await response.text()}`)
    addresses.push(((await response.json()) as { address: string }).address)
  }
  return addresses
}

/** Removes the keys a deployment left on a shared Redis (its queues and their jobs). */
export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:${prefix}-*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** A Redis of the test's own on a free port, without persistence, so a restart comes back empty. */
export async function startPrivateRedis() {
  const [port] = (await freePorts(1)) as [number]
  let server: ReturnType<typeof Bun.spawn> | null = null
  const redis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
      server = Bun.spawn(['redis-server', ...args], { stdout: 'ignore', stderr: 'ignore' })
      for (let tries = 0; ; tries++) {
        const ping = Bun.spawnSync(['redis-cli', '-p', String(port), 'ping'], { stderr: 'ignore' })
        if (ping.stdout.toString().trim() === 'PONG') return
        if (tries > 100) throw new Error(`redis-server on ${port} did not answer`)
        await Bun.sleep(50)
      }
    },
    async kill9() {
      server?.kill('SIGKILL')
      await server?.exited
    },
  }
  await redis.start()
  return redis
}

export interface SentMessage {
  token: string
  to: string
  /** The id named in the 250 ("Stored as <id>"), or null while none came. */
  id: string | null
  ackedAt: number | null
  attempts: number
  /** Non-250 replies it got, e.g. [451, 421]. */
  codes: number[]
  connectionErrors: number
  /** Attempts whose outcome the client cannot know: the final dot was sent and no 250 came back. */
  ambiguous: number
  gaveUp: boolean
}

function messageText(message: SentMessage, index: number): string {
  return [
    'From: Fault Sender <sender@faults.example>',
    `To: ${message.to}`,
    `Subject: Fault test ${message.token}`,
    `Message-ID: <${message.token}@faults.example>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Your verification code is ${100_000 + ((index * 7919) % 900_000)}.`,
  ].join('\r\n')
}

export type Load = ReturnType<typeof startLoad>

/**
 * Sends `count` messages over `connections` connections at once, spread over `recipients`. A message that
 * got no 250 (connection refused or lost, 4xx) is tried again on a new connection after a short, growing
 * pause, at most `maxAttempts` times in all; a 250 is never retried; a 5xx gives the message up.
 */
export function startLoad(options: {
  port: number
  recipients: string[]
  count: number
  tokenPrefix: string
  connections?: number
  maxAttempts?: number
}) {
  const { port, recipients, count, connections = 16, maxAttempts = 60 } = options
  const messages: SentMessage[] = Array.from({ length: count }, (_, index) => ({
    token: `${options.tokenPrefix}-${index}`,
    to: recipients[index % recipients.length] as string,
    id: null,
    ackedAt: null,
    attempts: 0,
    codes: [],
    connectionErrors: 0,
    ambiguous: 0,
    gaveUp: false,
  }))
  let next = 0
  let acked = 0

  async function deliver(client: SmtpTestClient, message: SentMessage, index: number) {
    const expect = (reply: SmtpReply, code: number) => {
      if (reply.code !== code) throw Object.assign(new Error(reply.text), { reply })
    }
    expect(await client.command('MAIL FROM:<sender@faults.example>', REPLY_TIMEOUT_MS), 250)
    expect(await client.command(`RCPT TO:<${message.to}>`, REPLY_TIMEOUT_MS), 250)
    expect(await client.command('DATA', REPLY_TIMEOUT_MS), 354)
    client.write(dataPayload(messageText(message, index)))
    message.ambiguous++ // until a 250 says otherwise
    const reply = await client.readReply(REPLY_TIMEOUT_MS)
    expect(reply, 250)
    message.ambiguous--
    const id = /^Stored as ([0-9a-f-]{36})$/.exec(reply.text)?.[1]
    if (!id) throw new Error(`250 without an id: ${reply.text}`)
    message.id = id
    message.ackedAt = Date.now()
    acked++
  }

  async function sender() {
    let client: SmtpTestClient | null = null
    for (let index = next++; index < count; index = next++) {
      const message = messages[index] as SentMessage
      while (message.id === null && !message.gaveUp) {
        if (message.attempts >= maxAttempts) {
          message.gaveUp = true
          break
        }
        if (message.attempts > 0) await Bun.sleep(Math.min(50 * 2 ** message.attempts, 1_000))
        message.attempts++
        try {
          if (!client) {
            client = await SmtpTestClient.connect(port)
            if ((await client.readReply(REPLY_TIMEOUT_MS)).code !== 220) throw new Error('no greeting')
            if ((await client.command('EHLO sender.faults.example', REPLY_TIMEOUT_MS)).code !== 250)
              throw new Error('no EHLO')
          }
          await deliver(client, message, index)
        } catch (error) {
          const reply = (error as { reply?: SmtpReply }).reply
          if (reply) message.codes.push(reply.code)
          else message.connectionErrors++
          if (reply && reply.code >= 500) message.gaveUp = true
          // Whatever went wrong, the next try starts on a new connection.
          await client?.abort()
          client = null
        }
      }
    }
    await client?.abort()
  }

  /** Resolves once every message got a 250 or was given up. */
  const done = Promise.all(Array.from({ length: connections }, sender)).then(() => {})
  return { messages, acked: () => acked, done }
}

/** Waits until every stored message is processed or failed; returns the seconds it took. */
export async function waitProcessed(databaseUrl: string, atLeast: number, timeoutMs: number) {
  const sql = new SQL(databaseUrl, { max: 1 })
  const started = Date.now()
  try {
    for (;;) {
      const [row] = await sql`select count(*)::int as total, count(*) filter
        (where processed_at is null and processing_error is null)::int as pending from messages`
      if (row.total >= atLeast && row.pending === 0) return (Date.now() - started) / 1000
      if (Date.now() - started > timeoutMs)
        throw new Error(`${row.pending} of ${row.total} messages still pending after ${timeoutMs} ms`)
      await Bun.sleep(500)
    }
  } finally {
    await sql.close({ timeout: 1 })
  }
}

export type Tally = Awaited<ReturnType<typeof tally>>

/** What PostgreSQL holds (the truth) for the messages sent, checked against the API's listing. */
export async function tally(options: {
  databaseUrl: string
  httpPort: number
  recipients: string[]
  messages: SentMessage[]
}) {
  const sql = new SQL(options.databaseUrl, { max: 1 })
  type Row = { id: string; subject: string | null; state: string; error: string | null; late: boolean }
  const rows: (Row & { processedMs: number | null })[] =
    await sql`select id::text as id, subject, processing_error as error,
      (extract(epoch from processed_at) * 1000)::float8 as "processedMs",
      case when processed_at is not null then 'processed' when processing_error is not null then 'failed'
        else 'pending' end as state,
      coalesce(processed_at - received_at > interval '50 seconds', false) as late
      from messages`.finally(() => sql.close({ timeout: 1 }))
  const idsOf = new Map<string, string[]>()
  for (const row of rows) {
    const token = /Fault test (\S+)$/.exec(row.subject ?? '')?.[1] ?? `?${row.id}`
    idsOf.set(token, [...(idsOf.get(token) ?? []), row.id])
  }
  const listed = await apiStates(options.httpPort, options.recipients)
  const { messages } = options
  const codes: Record<number, number> = {}
  for (const code of messages.flatMap((message) => message.codes)) codes[code] = (codes[code] ?? 0) + 1
  const ambiguous = new Set(
    messages.filter((message) => message.ambiguous > 0).map((message) => message.token),
  )
  const duplicated = [...idsOf].filter(([, ids]) => ids.length > 1)
  return {
    sent: messages.length,
    acked: messages.filter((message) => message.id !== null).length,
    /** Attempts beyond the first. */
    retries: messages.reduce((sum, message) => sum + message.attempts - 1, 0),
    /** Non-250 replies by code, e.g. { 451: 12 }. */
    codes,
    connectionErrors: messages.reduce((sum, message) => sum + message.connectionErrors, 0),
    gaveUp: messages.filter((message) => message.gaveUp).map((message) => message.token),
    stored: rows.length,
    processed: rows.filter((row) => row.state === 'processed').length,
    /** The reasons of the rows marked failed. */
    failures: rows.flatMap((row) => (row.state === 'failed' ? [row.error ?? ''] : [])),
    pending: rows.filter((row) => row.state === 'pending').length,
    /** Stored rows beyond the first of one message: copies whose 250 the client never saw. */
    duplicates: duplicated.reduce((sum, [, ids]) => sum + ids.length - 1, 0),
    /** Messages stored more than once although no attempt of theirs was ambiguous (must be none). */
    unexplainedDuplicates: duplicated.map(([token]) => token).filter((token) => !ambiguous.has(token)),
    /** Acknowledged ids that are not stored under their message (must be none). */
    lost: messages
      .filter((message) => message.id !== null && !idsOf.get(message.token)?.includes(message.id))
      .map((message) => `${message.token} ${message.id}`),
    /** Rows the API does not list, or lists in another state (must be none). */
    apiMismatches: rows.filter((row) => listed.get(row.id) !== row.state).map((row) => row.id),
    /** Processed over 50 s after they were stored: their job was lost and the recovery scan found them. */
    late: rows.filter((row) => row.late).length,
    /** When the last row was processed (epoch ms). */
    lastProcessed: Math.max(...rows.map((row) => row.processedMs ?? 0)),
  }
}

/** Every message of the mailboxes as the API lists them: id -> processing state. */
async function apiStates(httpPort: number, addresses: string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>()
  for (const address of addresses) {
    let cursor: string | null = null
    do {
      const query = cursor ? `limit=100&cursor=${cursor}` : 'limit=100'
      const url = `http://127.0.0.1:${httpPort}/v1/mailboxes/${address}/messages?${query}`
      const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      if (!response.ok) throw new Error(`listing ${address}: ${response.status}`)
      const page = (await response.json()) as {
        items: { id: string; processing: { state: string } }[]
        nextCursor: string | null
      }
      for (const item of page.items) states.set(item.id, item.processing.state)
      cursor = page.nextCursor
    } while (cursor)
  }
  return states
}

/** One row of docs/fault-report.md. */
export function reportLine(fault: string, t: Tally, seconds: number, notes: string): string {
  const replies = Object.entries(t.codes).map(([code, n]) => `${n}×${code}`)
  const refused = t.connectionErrors > 0 ? [`${t.connectionErrors} connections refused or lost`] : []
  const cells = [fault, t.sent, t.acked, t.retries, [...replies, ...refused].join(', ') || 'none', t.stored]
  cells.push(t.processed, t.failures.length, t.duplicates, t.lost.length, `${seconds.toFixed(1)} s`, notes)
  return `| ${cells.join(' | ')} |`
}

/** Reads a mailbox's list over and over on every API process, counting answers and failures per process. */
export function pollApis(httpPorts: number[], address: string) {
  const counts = httpPorts.map(() => ({ ok: 0, failed: 0 }))
  let stopped = false
  const loops = httpPorts.map(async (port, index) => {
    const count = counts[index] as { ok: number; failed: number }
    const url = `http://127.0.0.1:${port}/v1/mailboxes/${address}/messages`
    while (!stopped) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).catch(
        () => null,
      )
      if (response?.status === 200) count.ok++
      else count.failed++
      await response?.arrayBuffer()
      await Bun.sleep(50)
    }
  })
  const stop = () => {
    stopped = true
    return Promise.all(loops)
  }
  return { counts, stop }
}
