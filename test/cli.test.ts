// The `ephemail` command line, spawned for real (bun src/cli.ts, and bin/ephemail.mjs) against a server on
// embedded PGlite, with mail sent over SMTP by nodemailer: every command, --json shapes, exit codes, stderr.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { ADMIN_KEY, startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { cleanEnv, freePorts } from './support/ephemail-process.ts'
import { SIGN_UP_SENDER as SENDER, signUpMail } from './support/sign-up-mail.ts'

const ROOT = join(import.meta.dir, '..')
const CLI = join(ROOT, 'src', 'cli.ts')
const BIN = join(ROOT, 'bin', 'ephemail.mjs')

interface Run {
  code: number
  stdout: string
  stdoutBytes: Uint8Array
  stderr: string
}

/** Starts the CLI (never spawnSync: the server runs in this process and must keep answering). */
function spawnCli(args: string[], env: Record<string, string>, entry: string[] = [process.execPath, CLI]) {
  const proc = Bun.spawn([...entry, ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const finished = (async (): Promise<Run> => {
    const [stdoutBytes, stderr, code] = await Promise.all([
      new Response(proc.stdout).bytes(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    return { code, stdout: new TextDecoder().decode(stdoutBytes), stdoutBytes, stderr }
  })()
  return { proc, finished }
}

const runCli = (args: string[], env: Record<string, string>) => spawnCli(args, env).finished

/** A magic sign-in link with no code, as a second mail to the same mailbox. */
function signInMail(to: string) {
  const link = `https://app.acme.example/login/magic?token=${randomBytes(16).toString('hex')}`
  const raw = [
    `From: Acme <${SENDER}>`,
    `To: <${to}>`,
    'Subject: Sign in to Acme',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@acme.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Click to sign in to your Acme account (valid for 15 minutes):',
    link,
    '',
    'If you did not ask to sign in, ignore this email.',
    '',
  ].join('\r\n')
  return { link, raw }
}

/**
 * A pass-through HTTP proxy in front of the server that tells when a wait has looked at the mailbox:
 * the client opens the event stream and then lists the messages, so once that list is answered, mail
 * sent can only be found by waiting.
 */
function startWatchingProxy(target: string) {
  let onList: (() => void) | null = null
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url)
      const upstream = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
      })
      const headers = new Headers(upstream.headers)
      headers.delete('content-encoding')
      headers.delete('content-length')
      if (request.method === 'GET' && url.pathname.endsWith('/messages')) onList?.()
      return new Response(upstream.body, { status: upstream.status, headers })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Resolves when the next message list has been answered. */
    nextList(): Promise<void> {
      return new Promise((resolve) => {
        onList = () => {
          onList = null
          resolve()
        }
      })
    },
    stop: () => server.stop(true),
  }
}

describe('ephemail CLI', () => {
  let eph: TestEphemail
  let proxy: ReturnType<typeof startWatchingProxy>
  let stateDir: string
  let env: Record<string, string>

  async function send(to: string, raw: string | Uint8Array) {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: eph.smtpPort, ignoreTLS: true })
    try {
      await transport.sendMail({
        envelope: { from: SENDER, to: [to] },
        raw: typeof raw === 'string' ? raw : Buffer.from(raw),
      })
    } finally {
      transport.close()
    }
  }

  beforeAll(async () => {
    eph = await startTestEphemail()
    proxy = startWatchingProxy(`http://127.0.0.1:${eph.httpPort}`)
    stateDir = mkdtempSync(join(tmpdir(), 'ephemail-cli-state-'))
    // No key: mailboxes are created anonymously and read with the token the CLI remembered.
    env = { EPHEMAIL_URL: proxy.url, EPHEMAIL_STATE_DIR: stateDir }
  })
  afterAll(async () => {
    proxy?.stop()
    await eph?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('new → wait-otp (mail sent while it waits) → inbox → read text, --html, --raw → wait-link', async () => {
    const localPart = `signup-${randomBytes(3).toString('hex')}`
    const created = await runCli(['new', '--name', localPart, '--domain', 'other.test', '--ttl', '30m'], env)
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const address = created.stdout.trim()
    expect(address).toBe(`${localPart}@other.test`)

    // The token is remembered, readable by this user only.
    const store = join(stateDir, 'mailboxes.json')
    expect(statSync(store).mode & 0o777).toBe(0o600)
    const remembered = JSON.parse(readFileSync(store, 'utf8')).mailboxes
    expect(remembered).toContainEqual(
      expect.objectContaining({ url: proxy.url, address, token: expect.stringMatching(/^mbt_/) }),
    )

    const listed = proxy.nextList()
    const waiting = spawnCli(['wait-otp', address, '--timeout', '60s'], env)
    await listed
    const mail = signUpMail(address)
    await send(address, mail.raw)
    const otp = await waiting.finished
    expect(otp).toEqual({ code: 0, stdout: `${mail.code}\n`, stdoutBytes: expect.anything(), stderr: '' })

    const inbox = await runCli(['inbox', address], env)
    expect(inbox.code).toBe(0)
    const lines = inbox.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(SENDER)
    expect(lines[0]).toContain('"Confirm your Acme account"')
    expect(lines[0]).toContain(`code ${mail.code}`)
    const id = lines[0]?.split(/\s+/)[0] as string
    const stored = await eph.getMessage(id)

    const text = await runCli(['read', id], env)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`Your verification code is ${mail.code}.`)
    expect(text.stdout.trimEnd()).toBe((stored.text ?? '').trimEnd())

    const html = await runCli(['read', id, '--html'], env)
    expect(html.code).toBe(0)
    expect(html.stdout).toContain(`<strong>${mail.code}</strong>`)
    expect(html.stdout.trimEnd()).toBe((stored.html ?? '').trimEnd())

    const raw = await runCli(['read', id, '--raw'], env)
    expect(raw.code).toBe(0)
    expect(raw.stdoutBytes).toEqual(await eph.getRaw(id))
    expect(raw.stdout).toContain(`Message-ID: ${mail.messageId}`)

    // A second mail with a link only; the wait names its subject, so the first mail's link is not it.
    const linkListed = proxy.nextList()
    const linkWait = spawnCli(['wait-link', address, '--subject', 'Sign in', '--json'], env)
    await linkListed
    const signIn = signInMail(address)
    await send(address, signIn.raw)
    const link = await linkWait.finished
    expect(link.code).toBe(0)
    expect(JSON.parse(link.stdout)).toEqual({
      address,
      otp: null,
      link: signIn.link,
      messageId: expect.any(String),
      from: { address: SENDER, name: 'Acme' },
      subject: 'Sign in to Acme',
      receivedAt: expect.any(String),
    })

    // Without a filter the newest message with a link wins; its plain output is the link alone.
    expect((await runCli(['wait-link', address], env)).stdout).toBe(`${signIn.link}\n`)
    const page = JSON.parse((await runCli(['inbox', address, '--json'], env)).stdout)
    expect(page.items.map((item: { subject: string }) => item.subject)).toEqual([
      'Sign in to Acme',
      'Confirm your Acme account',
    ])
    expect(page.items[1]).toMatchObject({ id, otp: mail.code, link: mail.link })
    expect(page).toHaveProperty('nextCursor')
  })

  test('--json prints one document: new (with the token), read (the whole message)', async () => {
    const created = await runCli(['new', '--json'], env)
    expect(created.code).toBe(0)
    const mailbox = JSON.parse(created.stdout)
    // A copy: Bun's toMatchObject writes its asymmetric matchers into the object it is given.
    expect({ ...mailbox }).toMatchObject({
      // A random address on one of the server's public domains.
      address: expect.stringMatching(/^[^@]+@(?:ephemail|other)\.test$/),
      token: expect.stringMatching(/^mbt_/),
      expiresAt: expect.any(String),
    })
    // The server's default lifetime (600 s) from when it was made, which was before now.
    expect(Date.parse(mailbox.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000)

    const mail = signUpMail(mailbox.address)
    await send(mailbox.address, mail.raw)
    const waited = JSON.parse((await runCli(['wait-otp', mailbox.address, '--json'], env)).stdout)
    expect({ ...waited }).toMatchObject({ address: mailbox.address, otp: mail.code, link: mail.link })
    const read = await runCli(['read', waited.messageId, '--json'], env)
    expect(read.stdout.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(read.stdout)).toMatchObject({
      id: waited.messageId,
      otp: mail.code,
      subject: 'Confirm your Acme account',
      to: [{ address: mailbox.address, name: '' }],
    })
  })

  test('the remembered token is what lets a later command in; without it the 401 is one line', async () => {
    const first = JSON.parse((await runCli(['new', '--json'], env)).stdout)
    const second = JSON.parse((await runCli(['new', '--json'], env)).stdout)
    const mail = signUpMail(first.address)
    await send(first.address, mail.raw)
    const waited = JSON.parse((await runCli(['wait-otp', first.address, '--json'], env)).stdout)

    // `read ID` has no address: it tries the remembered tokens, newest (the second mailbox's) first.
    const read = await runCli(['read', waited.messageId], env)
    expect(read.code).toBe(0)
    expect(read.stdout).toContain(mail.code)

    const elsewhere = mkdtempSync(join(tmpdir(), 'ephemail-cli-other-'))
    try {
      const stranger = { ...env, EPHEMAIL_STATE_DIR: elsewhere }
      const refused = await runCli(['inbox', first.address], stranger)
      expect(refused.code).toBe(1)
      expect(refused.stdout).toBe('')
      expect(refused.stderr.trim().split('\n')).toHaveLength(1)
      expect(refused.stderr).toMatch(/^ephemail inbox: Authentication required: .*\(HTTP 401\)\n$/)
      // The other mailbox's token does not open this one: a 404 problem, not a 403.
      const wrongToken = await runCli(['inbox', first.address, '--key', second.token], stranger)
      expect(wrongToken.code).toBe(1)
      expect(wrongToken.stderr).toMatch(/^ephemail inbox: Not found.*\(HTTP 404\)\n$/)
      const withKey = await runCli(['inbox', first.address, '--json'], {
        ...stranger,
        EPHEMAIL_KEY: ADMIN_KEY,
      })
      expect(withKey.code).toBe(0)
      expect(JSON.parse(withKey.stdout).items).toHaveLength(1)
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  test('mailboxes made in parallel (test workers) are all remembered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ephemail-cli-parallel-'))
    try {
      const parallel = { ...env, EPHEMAIL_STATE_DIR: dir }
      const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(['new'], parallel)))
      expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0, 0, 0])
      const addresses = runs.map((run) => run.stdout.trim())
      const remembered = JSON.parse(readFileSync(join(dir, 'mailboxes.json'), 'utf8')).mailboxes
      expect(remembered.map((entry: { address: string }) => entry.address).sort()).toEqual(
        [...addresses].sort(),
      )
      for (const address of addresses) expect((await runCli(['inbox', address], parallel)).code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a wait that runs out exits 1 with the reason on stderr and nothing on stdout', async () => {
    const address = (await runCli(['new'], env)).stdout.trim()
    const waited = await runCli(['wait-otp', address, '--timeout', '1s'], env)
    expect(waited.code).toBe(1)
    expect(waited.stdout).toBe('')
    expect(waited.stderr).toBe(`ephemail wait-otp: no one-time code arrived at ${address} within 1 s\n`)
    const link = await runCli(['wait-link', address, '--timeout', '500ms', '--from', 'acme.example'], env)
    expect(link.code).toBe(1)
    expect(link.stderr).toContain(`link from acme.example arrived at ${address} within 0.5 s`)
  })

  test('a server that is not there is one line on stderr, exit 1', async () => {
    const [port] = await freePorts(1)
    const run = await runCli(['inbox', 'someone@ephemail.test', '--url', `http://127.0.0.1:${port}`], env)
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toStartWith('ephemail inbox: ')
  })

  test('usage errors exit 2 with the usage line on stderr and touch no server', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^usage: ephemail COMMAND/],
      [['frobnicate'], /"frobnicate" is not a command; one of: new, wait-otp/],
      [['new', '--bogus'], /ephemail new: Unknown option '--bogus'/],
      [['wait-otp'], /ephemail wait-otp: ADDRESS is missing\nusage: ephemail wait-otp ADDRESS/],
      [['wait-otp', 'a@ephemail.test', '--timeout', 'soon'], /--timeout "soon" is not a duration/],
      [['wait-link', 'a@ephemail.test', '--since', 'yesterday'], /--since "yesterday" is not a time/],
      [['read', 'some-id', '--raw', '--html'], /choose one of --html, --raw/],
      [['inbox', 'a@ephemail.test', '--limit', '1000'], /--limit "1000" is not a whole number from 1 to 100/],
      [['inbox', 'a@ephemail.test', 'b@ephemail.test'], /unexpected argument "b@ephemail.test"/],
      [['new', '--ttl', '1.5s'], /--ttl is counted in whole seconds/],
      [['new', '--url', 'ftp://mail.example'], /--url "ftp:\/\/mail.example" must start with http/],
      [['extract'], /FILE\.eml is missing/],
      [['serve', '--role', 'web'], /ephemail serve: configuration error: role "web" \(from --role\)/],
    ]
    for (const [args, stderr] of cases) {
      // An unreachable URL: a command that got as far as a request would fail with 1, not 2.
      const run = await runCli(args, { ...env, EPHEMAIL_URL: 'http://127.0.0.1:9' })
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' })
      expect(run.stderr).toMatch(stderr)
    }
  })

  test('--help: overall, per command and as `help COMMAND`, on stdout with exit 0', async () => {
    const overall = await runCli(['--help'], env)
    expect(overall.code).toBe(0)
    for (const command of ['new', 'wait-otp', 'wait-link', 'inbox', 'read', 'extract', 'serve', 'config'])
      expect(overall.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'))
    expect(overall.stdout).toContain('EPHEMAIL_URL')

    const waitHelp = await runCli(['wait-otp', '--help'], env)
    expect(waitHelp.code).toBe(0)
    expect(waitHelp.stdout).toStartWith('usage: ephemail wait-otp ADDRESS')
    for (const option of [
      '--timeout DURATION',
      '--from SENDER',
      '--url URL',
      '--key KEY',
      '--json',
      '--help',
    ])
      expect(waitHelp.stdout).toContain(option)
    expect((await runCli(['help', 'wait-otp'], env)).stdout).toBe(waitHelp.stdout)
    // Help wins over a missing argument: `read --help` is not a usage error.
    expect((await runCli(['read', '--help'], env)).code).toBe(0)
    expect((await runCli(['serve', '--help'], env)).stdout).toContain('--role ROLES')
  })

  test('config: the effective settings with keys, passwords in URLs and the TLS private key masked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ephemail-cli-config-'))
    try {
      const adminKey = randomBytes(18).toString('base64url')
      const apiKey = `eph_${randomBytes(18).toString('base64url')}`
      const dbPassword = randomBytes(9).toString('hex')
      const redisPassword = randomBytes(9).toString('hex')
      const settings: Record<string, string> = {
        EPHEMAIL_STATE_DIR: dir,
        EPHEMAIL_URL: 'https://mail.example.com',
        EPHEMAIL_KEY: apiKey,
        EPHEMAIL_ADMIN_KEY: adminKey,
        DATABASE_URL: `postgres://ephemail:${dbPassword}@db.internal:5432/ephemail?sslmode=require`,
        REDIS_URL: `redis://:${redisPassword}@cache.internal:6379/0`,
        EPHEMAIL_DOMAINS: 'mail.example.com,vip.example.com:premium',
        EPHEMAIL_HTTP_PORT: '8080',
      }
      const secrets = [adminKey, apiKey, dbPassword, redisPassword]
      const certificate = makeCertificate(dir)
      if (certificate) {
        settings.EPHEMAIL_SMTP_TLS_CERT = certificate.cert
        settings.EPHEMAIL_SMTP_TLS_KEY = certificate.key
        secrets.push(readFileSync(certificate.key, 'utf8').split('\n')[1] as string)
      }

      const text = await runCli(['config', '--role', 'api,worker'], settings)
      expect(text.stderr).toBe('')
      expect(text.code).toBe(0)
      for (const secret of secrets) expect(text.stdout).not.toContain(secret)
      expect(text.stdout).toMatch(/^server\.roles +api, worker$/m)
      expect(text.stdout).toMatch(/^server\.httpPort +8080$/m)
      expect(text.stdout).toMatch(/^server\.adminKey +\*{8}$/m)
      expect(text.stdout).toMatch(
        /^server\.databaseUrl +postgres:\/\/ephemail:\*{8}@db\.internal:5432\/ephemail\?sslmode=require$/m,
      )
      expect(text.stdout).toMatch(/^server\.redisUrl +redis:\/\/:\*{8}@cache\.internal:6379\/0$/m)
      expect(text.stdout).toMatch(/^client\.url +https:\/\/mail\.example\.com$/m)
      expect(text.stdout).toMatch(/^client\.key +\*{8}$/m)

      const json = await runCli(['config', '--json'], settings)
      for (const secret of secrets) expect(json.stdout).not.toContain(secret)
      const document = JSON.parse(json.stdout)
      expect(document.server).toMatchObject({
        roles: ['api', 'smtp', 'worker'],
        adminKey: '********',
        domains: [
          { name: 'mail.example.com', type: 'public' },
          { name: 'vip.example.com', type: 'premium' },
        ],
      })
      if (certificate) expect(document.server.smtpTls.key).toBe('********')
      else console.warn('openssl is not on PATH: the TLS private key masking is not checked')
      expect(document.client).toEqual({
        url: 'https://mail.example.com',
        key: '********',
        tokenFile: join(dir, 'mailboxes.json'),
      })

      const bad = await runCli(['config'], { ...settings, EPHEMAIL_HTTP_PORT: 'eighty' })
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('EPHEMAIL_HTTP_PORT="eighty" is not a whole number')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('extract --json: the per-file objects of the JSON lines, as one array', async () => {
    const corpus = join(ROOT, 'test', 'fixtures', 'extraction')
    const files = ['037-linkup-code-and-link.eml', '048-fitlog-magic-plus-code.eml'].map((file) =>
      join(corpus, file),
    )
    const lines = await runCli(['extract', ...files], env)
    const array = await runCli(['extract', '--json', ...files], env)
    expect(array.code).toBe(0)
    expect(JSON.parse(array.stdout)).toEqual(
      lines.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    )
    const missing = await runCli(['extract', join(corpus, 'no-such-file.eml')], env)
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stdout)).toMatchObject({ otp: null, link: null, error: expect.any(String) })
  })

  test('serve through bin/ephemail.mjs: the roles asked for, a JSON ready document, SIGTERM stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ephemail-cli-serve-'))
    const serve = Bun.spawn(
      [
        BIN,
        'serve',
        '--role',
        'api,worker',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--json',
      ],
      {
        cwd: ROOT,
        env: cleanEnv({ EPHEMAIL_ADMIN_KEY: ADMIN_KEY }),
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      },
    )
    const stderr = new Response(serve.stderr).text()
    try {
      // The ready document is the first line; the server keeps running after it.
      const reader = serve.stdout.getReader()
      let output = ''
      while (!output.includes('\n')) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`serve ended before it was ready: ${await stderr}`)
        output += new TextDecoder().decode(value)
      }
      const ready = JSON.parse(output)
      expect({ ...ready }).toMatchObject({ roles: ['api', 'worker'], storage: 'pglite', smtp: null })
      expect(ready.generatedAdminKey).toBeNull()
      expect((await fetch(`${ready.http.url}/health`)).status).toBe(200)
      const mailbox = await runCli(['new', '--url', ready.http.url, '--key', ADMIN_KEY], env)
      expect(mailbox.stdout).toMatch(/@ephemail\.test\n$/)

      // The signal goes to the Node wrapper, which passes it on: the server stops, nothing is orphaned.
      serve.kill('SIGTERM')
      expect(await serve.exited).toBe(0)
      expect(await stderr).toContain('SIGTERM received, stopping')
      const rest = await reader.read()
      expect(rest.done).toBe(true)
    } finally {
      serve.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

/** A self-signed certificate and its key (paths) made with openssl, or null when openssl is not installed. */
function makeCertificate(dir: string): { cert: string; key: string } | null {
  const openssl = Bun.which('openssl')
  if (!openssl && process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
    throw new Error('openssl is required but not on PATH')
  if (!openssl) return null
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  const made = Bun.spawnSync([
    openssl,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=mail.example.com',
  ])
  if (made.exitCode !== 0) throw new Error(`openssl req failed: ${made.stderr.toString()}`)
  return { cert, key }
}
