// Test helper: Ephemail run the way a user runs it (`npm start` in a child process), with its
// output captured, the real server process found for signals, and nodemailer as the mail client.

import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import type { Subprocess } from 'bun'
import nodemailer from 'nodemailer'
import { installedAudit } from './response-audit/recorder.ts'

/** Asks the kernel for `count` distinct free TCP ports (all held open at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
      })
    }
    return servers.map((server) => {
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('no TCP port bound')
      return address.port
    })
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  }
}

/** A copy of the environment without any Ephemail setting, so only what a test sets applies. */
export function cleanEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue
    if (name.startsWith('EPHEMAIL_') || name === 'DATABASE_URL' || name === 'REDIS_URL') continue
    env[name] = value
  }
  return { ...env, ...settings }
}

export interface EphemailProcess {
  /** The `npm start` process (leader of its own process group). */
  readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Everything printed so far. */
  stdout(): string
  stderr(): string
  /** Waits until stdout matches; fails with the output when the process exits or time runs out. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>
  /** The pid of the server itself (`bun src/main.ts`), below npm and its shell. */
  serverPid(): number
  /** Resolves with npm's exit code once the process has exited and its output is read. */
  exited(timeoutMs: number): Promise<number>
  /** SIGKILLs every process of the group still alive; never throws. */
  killAll(): void
}

/** Starts `npm start` in `cwd` as the leader of a new process group. */
export function spawnNpmStart(cwd: string, env: Record<string, string>): EphemailProcess {
  const proc = Bun.spawn(['npm', 'start'], {
    cwd,
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // Its own group, so cleanup can reach the server even if npm or its shell are gone.
    detached: true,
  })
  // The response audit sees what this process's fetch gets from the child's API; a child with compatibility
  // layers is left out, since which paths they own is known only inside it.
  const audit = installedAudit()
  const httpPort = Number(env.EPHEMAIL_HTTP_PORT ?? 0)
  if (audit && httpPort > 0 && !env.EPHEMAIL_COMPAT) {
    const child = { channel: 'child-process' as const, rules: [] }
    audit.listen(httpPort, child)
    void proc.exited.then(() => audit.unlisten(httpPort, child))
  }
  let out = ''
  let err = ''
  const drain = async (stream: ReadableStream<Uint8Array>, sink: (text: string) => void) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }))
  }
  const drained = Promise.all([
    drain(proc.stdout, (text) => {
      out += text
    }),
    drain(proc.stderr, (text) => {
      err += text
    }),
  ]).catch(() => {})
  let exitCode: number | null = null
  void proc.exited.then((code) => {
    exitCode = code
  })

  const describe = () => `--- stdout ---\n${out}\n--- stderr ---\n${err}`

  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    async waitForStdout(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const match = pattern.exec(out)
        if (match) return match
        if (exitCode !== null)
          throw new Error(`npm start exited (${exitCode}) before printing ${pattern}\n${describe()}`)
        if (Date.now() > deadline)
          throw new Error(`npm start printed no ${pattern} within ${timeoutMs} ms\n${describe()}`)
        await Bun.sleep(50)
      }
    },
    serverPid() {
      const pid = findInGroup(proc.pid, (argv) => argv.includes('src/main.ts'))
      if (pid === null) throw new Error(`no "bun src/main.ts" process under npm start\n${describe()}`)
      return pid
    },
    async exited(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`npm start still running after ${timeoutMs} ms\n${describe()}`)),
          timeoutMs,
        )
      })
      try {
        const code = await Promise.race([proc.exited, timeout])
        await drained
        return code
      } finally {
        clearTimeout(timer)
      }
    },
    killAll() {
      try {
        process.kill(-proc.pid, 'SIGKILL')
      } catch {
        // ESRCH: the group is already gone.
      }
    },
  }
}

/** The pid of the first process in process group `pgid` whose argv passes `accept` (Linux /proc). */
function findInGroup(pgid: number, accept: (argv: string[]) => boolean): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its closing ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) !== pgid) continue
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean)
      if (accept(argv)) return Number(entry)
    } catch {
      // The process ended while we looked.
    }
  }
  return null
}

/** True while any process of group `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

export interface SentMail {
  /** Recipients the server took with 250 at RCPT. */
  accepted: string[]
  rejected: string[]
  /** The reply to the end of DATA, e.g. "250 2.0.0 Stored as <id>". */
  response: string
}

/**
 * Sends one message with nodemailer, a plain SMTP client that needs nothing installed; it throws
 * on any refusal. swaks itself is only needed where interop with it is the point (smtp-clients.test.ts).
 */
export async function sendMail(options: {
  port: number
  to: string
  from: string
  subject: string
  body: string
}): Promise<SentMail> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: options.port,
    secure: false,
    ignoreTLS: true,
    name: 'e2e.test',
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 20_000,
  })
  try {
    const info = await transport.sendMail({
      from: options.from,
      to: options.to,
      subject: options.subject,
      text: options.body,
    })
    const address = (entry: string | { address: string }) =>
      typeof entry === 'string' ? entry : entry.address
    return {
      accepted: info.accepted.map(address),
      rejected: info.rejected.map(address),
      response: info.response,
    }
  } finally {
    transport.close()
  }
}
