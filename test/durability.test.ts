// The embedded default's 250 survives power loss: checked as an operator would, with strace around
// a delivery (the WAL's fsync lands between the DATA and the 250), plus PGlite's settings on disk.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openPglite } from '#plugins/storage/pglite/index.ts'
import { cleanEnv, freePorts } from './support/ephemail-process.ts'
import { dataPayload, SmtpTestClient } from './support/smtp-client.ts'

const PROJECT_DIR = resolve(import.meta.dir, '..')
const STRACE = Bun.which('strace')
const START_TIMEOUT_MS = 30_000

describe('PGlite on a data directory', () => {
  async function settings(dataDir: string | undefined) {
    const client = openPglite(dataDir)
    try {
      const { rows } = await client.query<{ name: string; setting: string }>(
        "select name, setting from pg_settings where name in ('fsync', 'wal_sync_method', 'synchronous_commit') order by name",
      )
      return Object.fromEntries(rows.map((row) => [row.name, row.setting]))
    } finally {
      await client.close()
    }
  }

  test('runs with fsync on and flushes the WAL with fsync() (Emscripten has no fdatasync)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ephemail-durable-'))
    try {
      expect(await settings(dataDir)).toEqual({
        fsync: 'on',
        synchronous_commit: 'on',
        wal_sync_method: 'fsync',
      })
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  test('in memory it keeps PGlite defaults (there is no disk to reach)', async () => {
    expect((await settings(undefined)).fsync).toBe('off')
  })
})

describe.skipIf(!STRACE)('a 250 on the embedded default reaches the disk first (strace)', () => {
  if (!STRACE) console.log('skip: strace is not installed, so the fsync-before-250 trace cannot be taken')
  let tempDir: string
  let trace: string
  let server: ReturnType<typeof Bun.spawn> | undefined
  let smtpPort: number
  let httpPort: number

  beforeAll(async () => {
    tempDir = mkdtempSync(join(tmpdir(), 'ephemail-strace-'))
    trace = join(tempDir, 'trace.txt')
    ;[httpPort, smtpPort] = (await freePorts(2)) as [number, number]
    server = Bun.spawn(
      [
        STRACE as string,
        '-f',
        '-qq',
        '-y',
        '-e',
        'trace=fsync,fdatasync,write,writev,sendto,sendmsg',
        '-s',
        '64',
        '-o',
        trace,
      ].concat([process.execPath, 'src/main.ts']),
      {
        cwd: PROJECT_DIR,
        env: cleanEnv({
          EPHEMAIL_HOST: '127.0.0.1',
          EPHEMAIL_HTTP_PORT: String(httpPort),
          EPHEMAIL_SMTP_PORT: String(smtpPort),
          EPHEMAIL_DATA_DIR: join(tempDir, 'data'),
          EPHEMAIL_ADMIN_KEY: 'durability-admin-key-0123456789',
        }),
        stdout: 'pipe',
        stderr: 'pipe',
      },
    )
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${httpPort}/ready`).then(
        (response) => response.ok,
        () => false,
      )
      if (up) break
      if (Date.now() > deadline) throw new Error('the traced server did not become ready')
      await Bun.sleep(200)
    }
  }, START_TIMEOUT_MS + 10_000)

  afterAll(async () => {
    // Killing strace leaves its tracee running: stop the server under it first (its children, by /proc).
    if (server) {
      const children = (() => {
        try {
          return readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(/\s+/)
        } catch {
          return []
        }
      })()
      for (const child of children.filter(Boolean)) {
        try {
          process.kill(Number(child), 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
      server.kill('SIGKILL')
      await server.exited
    }
    rmSync(tempDir, { recursive: true, force: true })
  })

  test('between the end of DATA and the 250 the server fsyncs the PGlite WAL segment', async () => {
    const created = await fetch(`http://127.0.0.1:${httpPort}/v1/mailboxes`, { method: 'POST' })
    expect(created.status).toBe(201)
    const { address } = (await created.json()) as { address: string }

    const smtp = await SmtpTestClient.connect(smtpPort)
    try {
      await smtp.readReply()
      await smtp.command('EHLO durability.test')
      await smtp.command('MAIL FROM:<sender@durability.test>')
      await smtp.command(`RCPT TO:<${address}>`)
      expect((await smtp.command('DATA')).code).toBe(354)
      smtp.write(
        dataPayload(
          'From: Sender <sender@durability.test>\r\nTo: <' +
            address +
            '>\r\nSubject: Your code is 482913\r\nMessage-ID: <durable-1@durability.test>\r\n\r\nUse 482913 to sign in.\r\n',
        ),
      )
      const stored = await smtp.readReply()
      expect(stored.code).toBe(250)
      await smtp.command('QUIT')
    } finally {
      await smtp.abort()
    }
    // strace writes each line as the call returns; give it a moment to flush the last ones.
    await Bun.sleep(300)
    const lines = readFileSync(trace, 'utf8').split('\n')
    const replyAt = lines.findIndex((line) => /"250 2\.0\.0 Stored as /.test(line))
    const dataAt = lines.findLastIndex((line, i) => i < replyAt && /"354 /.test(line))
    expect(replyAt).toBeGreaterThan(0)
    expect(dataAt).toBeGreaterThanOrEqual(0)
    const between = lines.slice(dataAt + 1, replyAt)
    const fsyncs = between.filter((line) => /\bfsync\(\d+<[^>]*\/pg_wal\/[0-9A-F]{24}>\)\s+= 0/.test(line))
    // The WAL write is a pwrite that strace is not asked for; its fsync returning 0 before the 250 is the proof.
    expect(fsyncs.length).toBeGreaterThan(0)
  }, 30_000)
})
