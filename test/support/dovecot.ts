// Test fixture: a private Dovecot (Debian's dovecot-imapd) on a loopback port, with its own config, user and Maildir in a temp dir.

import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { ImapFlow } from 'imapflow'
import { freePorts } from './ephemail-process.ts'

/** The catch-all account's credentials; the password needs percent-encoding in a URL (@ / , %). */
export const IMAP_USER = 'catchall'
export const IMAP_PASSWORD = 'p@ss/w,rd%1'

/** Is dovecot on PATH? Absent: its tests skip (saying so), or fail when EPHEMAIL_REQUIRE_SERVICES=1. */
export function dovecotAvailable(): string | null {
  const dovecot = Bun.which('dovecot')
  if (dovecot) return dovecot
  if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
    throw new Error('dovecot is required but not on PATH (apt-get install dovecot-imapd)')
  console.warn('dovecot is not on PATH (apt-get install dovecot-imapd): the IMAP tests are skipped')
  return null
}

export interface MaildirFile {
  name: string
  /** `new` (not yet seen by any IMAP session) or `cur`. */
  dir: 'new' | 'cur'
  /** Maildir flag letters: S seen, T deleted (flagged, not yet expunged), F, R, D. */
  flags: string
}

export interface Dovecot {
  readonly port: number
  /** The implicit-TLS port, with `tls: true`. */
  readonly tlsPort: number | null
  /** PEM of the self-signed certificate (CN and SAN 127.0.0.1), with `tls: true`. */
  readonly certPem: string | null
  /** `imap://catchall:…@127.0.0.1:PORT/MAILBOX#NAME`, the password percent-encoded. */
  url(options?: { mailbox?: string; name?: string; port?: number; tls?: boolean }): string
  /** Creates a folder (a Maildir++ `.NAME` directory) that sessions started afterwards can select. */
  createFolder(folder: string): void
  /** Delivers as an MDA does: writes the message to tmp/ and renames it into new/. Returns its file name. */
  deliver(raw: string | Uint8Array, folder?: string): string
  /** Messages of a folder as files in its Maildir (flags from the names). */
  files(folder?: string): MaildirFile[]
  /** The folder's UIDVALIDITY as the server reports it. */
  uidValidity(folder?: string): Promise<bigint>
  /** SIGKILLs the imap processes serving sessions now (the master stays); returns how many. */
  killSessions(): number
  stop(): Promise<void>
  start(): Promise<void>
  /**
   * Stops the server, drops the folder's UID list and indexes (as a restored backup or a rebuilt
   * index does), optionally clears every message's flags, and starts it again: the same messages
   * come back with new UIDs under a new UIDVALIDITY.
   */
  resetUidValidity(folder?: string, options?: { clearFlags?: boolean }): Promise<void>
  /** The server's log so far (for a failing test's message). */
  log(): string
  close(): Promise<void>
}

function passwdEntry(name: string): { uid: number; gid: number } | null {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':')
    if (user === name) return { uid: Number(uid), gid: Number(gid) }
  }
  return null
}

/** Runs a command to its end; throws with its output on a non-zero exit. */
function run(command: string[]): void {
  const result = Bun.spawnSync(command, { stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0)
    throw new Error(`${command.join(' ')} failed: ${result.stderr.toString()}${result.stdout.toString()}`)
}

/** Resolves once the port greets like an IMAP server, or throws after `timeoutMs`. */
async function waitForGreeting(port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited()) throw new Error('dovecot exited while starting')
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port })
      let text = ''
      socket.setTimeout(1000, () => socket.destroy())
      socket.on('data', (chunk) => {
        text += chunk.toString()
        if (/\* OK .*ready/i.test(text)) {
          socket.end()
          resolve(true)
        }
      })
      socket.on('error', () => resolve(false))
      socket.on('close', () => resolve(false))
    })
    if (greeted) return
    await Bun.sleep(50)
  }
  throw new Error(`dovecot did not greet on port ${port} within ${timeoutMs} ms`)
}

/**
 * Starts a private Dovecot, or returns null (having said why) when dovecot is not installed. Root
 * runs it as Debian's dovecot/dovenull users with mail owned by the dovecot user; anyone else runs
 * it entirely as themselves.
 */
export async function startDovecot(options: { tls?: boolean } = {}): Promise<Dovecot | null> {
  const binary = dovecotAvailable()
  if (!binary) return null
  const root = mkdtempSync(join(tmpdir(), 'ephemail-dovecot-'))
  const home = join(root, 'home', IMAP_USER)
  const maildir = join(home, 'Maildir')
  const me = userInfo()
  const asRoot = me.uid === 0
  const mailOwner = asRoot ? passwdEntry('dovecot') : { uid: me.uid, gid: me.gid }
  if (!mailOwner) throw new Error('running as root needs the dovecot user (installed by dovecot-core)')
  const internalUser = asRoot ? 'dovecot' : me.username
  const loginUser = asRoot ? 'dovenull' : me.username
  const [port, tlsPort] = (await freePorts(2)) as [number, number]
  let certPem: string | null = null
  const tlsLines: string[] = []
  if (options.tls) {
    const certPath = join(root, 'cert.pem')
    const keyPath = join(root, 'key.pem')
    run([
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ])
    certPem = readFileSync(certPath, 'utf8')
    tlsLines.push('ssl = yes', `ssl_cert = <${certPath}`, `ssl_key = <${keyPath}`)
  } else tlsLines.push('ssl = no')

  for (const dir of ['run', 'state', 'log']) mkdirSync(join(root, dir), { recursive: true })
  for (const dir of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, dir), { recursive: true })
  const configPath = join(root, 'dovecot.conf')
  writeFileSync(
    configPath,
    [
      // No system configuration is read: everything this server does is here.
      `base_dir = ${join(root, 'run')}`,
      `state_dir = ${join(root, 'state')}`,
      `log_path = ${join(root, 'log', 'dovecot.log')}`,
      'protocols = imap',
      'listen = 127.0.0.1',
      ...tlsLines,
      // Plain LOGIN over loopback without TLS, as a test server may allow.
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `default_internal_user = ${internalUser}`,
      `default_internal_group = ${internalUser}`,
      `default_login_user = ${loginUser}`,
      'first_valid_uid = 1',
      'mail_location = maildir:~/Maildir',
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN username_format=%u ${join(root, 'passwd')}`,
      '}',
      'userdb {',
      '  driver = passwd-file',
      `  args = username_format=%u ${join(root, 'passwd')}`,
      '}',
      'service imap-login {',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${port}`,
      '  }',
      '  inet_listener imaps {',
      '    address = 127.0.0.1',
      `    port = ${options.tls ? tlsPort : 0}`,
      ...(options.tls ? ['    ssl = yes'] : []),
      '  }',
      '}',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(root, 'passwd'),
    `${IMAP_USER}:{PLAIN}${IMAP_PASSWORD}:${mailOwner.uid}:${mailOwner.gid}::${home}\n`,
  )
  if (asRoot) {
    // The mail processes run as the mail owner: everything under home is theirs.
    for (const path of [
      join(root, 'home'),
      home,
      maildir,
      ...['new', 'cur', 'tmp'].map((d) => join(maildir, d)),
    ])
      chownSync(path, mailOwner.uid, mailOwner.gid)
    chmodSync(root, 0o755)
  }

  let proc: Subprocess | null = null
  let exited = true
  let sequence = 0

  const folderDir = (folder = 'INBOX') =>
    folder.toUpperCase() === 'INBOX' ? maildir : join(maildir, `.${folder}`)

  async function start() {
    proc = Bun.spawn([binary as string, '-F', '-c', configPath], { stdout: 'ignore', stderr: 'pipe' })
    exited = false
    proc.exited.then(() => {
      exited = true
    })
    await waitForGreeting(port, 10_000, () => exited)
  }

  async function stop() {
    if (!proc || exited) return
    proc.kill('SIGTERM')
    await proc.exited
    proc = null
  }

  /** The pids of processes whose parent is the master and whose name is `imap`. */
  function sessionPids(): number[] {
    if (!proc) return []
    const master = proc.pid
    const pids: number[] = []
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      let stat: string
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      } catch {
        continue // gone meanwhile
      }
      // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === master && comm === 'imap') pids.push(Number(entry))
    }
    return pids
  }

  async function withClient<T>(use: (client: ImapFlow) => Promise<T>): Promise<T> {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      auth: { user: IMAP_USER, pass: IMAP_PASSWORD },
      logger: false,
      disableAutoIdle: true,
      // With TLS on, the plain port offers STARTTLS, which imapflow takes: trust the test certificate.
      ...(certPem ? { tls: { ca: [certPem] } } : {}),
    })
    client.on('error', () => {})
    await client.connect()
    try {
      return await use(client)
    } finally {
      await client.logout().catch(() => client.close())
    }
  }

  const dovecot: Dovecot = {
    port,
    tlsPort: options.tls ? tlsPort : null,
    certPem,
    url({ mailbox = 'INBOX', name, port: urlPort, tls = false } = {}) {
      const scheme = tls ? 'imaps' : 'imap'
      const at = urlPort ?? (tls ? tlsPort : port)
      const fragment = name ? `#${encodeURIComponent(name)}` : ''
      return `${scheme}://${encodeURIComponent(IMAP_USER)}:${encodeURIComponent(IMAP_PASSWORD)}@127.0.0.1:${at}/${encodeURIComponent(mailbox)}${fragment}`
    },
    createFolder(folder) {
      const dir = folderDir(folder)
      for (const sub of ['', 'new', 'cur', 'tmp']) {
        mkdirSync(join(dir, sub), { recursive: true })
        if (asRoot) chownSync(join(dir, sub), mailOwner.uid, mailOwner.gid)
      }
      if (dir !== maildir) writeFileSync(join(dir, 'maildirfolder'), '')
    },
    deliver(raw, folder = 'INBOX') {
      const dir = folderDir(folder)
      dovecot.createFolder(folder)
      const name = `${Date.now()}.M${++sequence}P${process.pid}.ephemail-test`
      const text = typeof raw === 'string' ? raw.replace(/\r?\n/g, '\n') : raw
      writeFileSync(join(dir, 'tmp', name), text)
      if (asRoot) chownSync(join(dir, 'tmp', name), mailOwner.uid, mailOwner.gid)
      renameSync(join(dir, 'tmp', name), join(dir, 'new', name))
      return name
    },
    files(folder = 'INBOX') {
      const dir = folderDir(folder)
      const files: MaildirFile[] = []
      for (const sub of ['new', 'cur'] as const) {
        let names: string[]
        try {
          names = readdirSync(join(dir, sub))
        } catch {
          continue
        }
        for (const name of names) files.push({ name, dir: sub, flags: name.split(':2,')[1] ?? '' })
      }
      return files
    },
    uidValidity(folder = 'INBOX') {
      return withClient(async (client) => {
        const status = await client.status(folder, { uidValidity: true })
        if (!status) throw new Error(`STATUS ${folder} failed`)
        return status.uidValidity as bigint
      })
    },
    killSessions() {
      const pids = sessionPids()
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      return pids.length
    },
    stop,
    start,
    async resetUidValidity(folder = 'INBOX', { clearFlags = false } = {}) {
      await stop()
      const dir = folderDir(folder)
      for (const name of readdirSync(dir))
        if (name === 'dovecot-uidlist' || name.startsWith('dovecot.index')) unlinkSync(join(dir, name))
      if (clearFlags)
        for (const name of readdirSync(join(dir, 'cur')))
          if (name.includes(':2,'))
            renameSync(join(dir, 'cur', name), join(dir, 'cur', `${name.split(':2,')[0]}:2,`))
      await start()
    },
    log() {
      try {
        return readFileSync(join(root, 'log', 'dovecot.log'), 'utf8')
      } catch {
        return ''
      }
    },
    async close() {
      await stop()
      rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    await start()
  } catch (error) {
    const log = dovecot.log()
    await dovecot.close()
    throw new Error(`${(error as Error).message}\n${log}`)
  }
  return dovecot
}

/**
 * A TCP relay in front of the server that cuts one connection in the middle of a reply: once the
 * server's bytes match `cutWhen`, it forwards that chunk, stops reading, calls `onCut` (which may
 * kill the server's session process) and closes both sides. Later connections pass untouched.
 */
export async function startCuttingRelay(
  targetPort: number,
  cutWhen: RegExp,
  onCut: () => void,
): Promise<{ port: number; cuts(): number; close(): Promise<void> }> {
  let cuts = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    const armed = cuts === 0
    let seen = ''
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk) => {
      client.write(chunk)
      if (!armed || cuts > 0) return
      // The whole chunk with the tail of the ones before, so a pattern split across chunks still matches.
      const text = seen + chunk.toString('latin1')
      seen = text.slice(-4096)
      if (!cutWhen.test(text)) return
      cuts++
      upstream.pause()
      onCut()
      upstream.destroy()
      client.end(() => client.destroy())
    })
    const closeBoth = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', closeBoth)
    upstream.on('close', closeBoth)
    client.on('error', closeBoth)
    upstream.on('error', closeBoth)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('relay bound no TCP port')
  return {
    port: address.port,
    cuts: () => cuts,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
