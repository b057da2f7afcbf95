// The embedded default end to end, as a user runs it: `npm start` with no admin key and no
// DATABASE_URL (so PGlite under EPHEMAIL_DATA_DIR and a generated key), mail sent with nodemailer,
// read back over HTTP, then a clean stop, a restart on the same data and a crash (SIGKILL).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  cleanEnv,
  type EphemailProcess,
  freePorts,
  groupAlive,
  sendMail,
  spawnNpmStart,
} from './support/ephemail-process.ts'

const PROJECT_DIR = resolve(import.meta.dir, '..')
const STEP_TIMEOUT = 60_000
const START_TIMEOUT_MS = 30_000
const HEALTH_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 20_000
const PROBLEM_JSON = /^application\/problem\+json\b/
const ADMIN_KEY_LINE = /^\s*EPHEMAIL_ADMIN_KEY=(\S+)\s*$/m
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

interface CreatedMailbox {
  id: string
  address: string
  token: string
}

interface MessageSummary {
  id: string
  subject: string | null
  from: { address: string } | null
}

describe('embedded default end to end (npm start, PGlite, nodemailer)', () => {
  const unique = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`
  let tempDir: string | undefined
  let dataDir: string
  let httpPort: number
  let smtpPort: number
  /** Every process started, so afterAll can kill whatever is left. */
  const started: EphemailProcess[] = []
  let current: EphemailProcess | null = null

  // What earlier steps learn and later steps check.
  let adminKey: string | undefined
  let first: CreatedMailbox | undefined
  let second: CreatedMailbox | undefined
  let firstMessageId: string | undefined
  let crashMessageId: string | undefined

  const firstMail = { subject: `E2E first ${unique}`, body: `First body text ${unique}` }
  const crashMail = { subject: `E2E crash ${unique}`, body: `Written just before SIGKILL ${unique}` }

  const url = (path: string) => `http://127.0.0.1:${httpPort}${path}`
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`an earlier step did not produce ${what}`)
    return value
  }

  /** Starts `npm start` on the shared data dir and waits for the HTTP line and a healthy /health. */
  async function start(): Promise<EphemailProcess> {
    const child = spawnNpmStart(
      PROJECT_DIR,
      cleanEnv({
        EPHEMAIL_HOST: '127.0.0.1',
        EPHEMAIL_HTTP_PORT: String(httpPort),
        EPHEMAIL_SMTP_PORT: String(smtpPort),
        EPHEMAIL_DATA_DIR: dataDir,
      }),
    )
    started.push(child)
    current = child
    await child.waitForStdout(/^ephemail: HTTP API on (\S+)/m, START_TIMEOUT_MS)
    expect(child.stdout()).toContain(`ephemail: HTTP API on http://127.0.0.1:${httpPort} `)
    expect(child.stdout()).toContain(`storage PGlite in ${dataDir}`)
    await child.waitForStdout(new RegExp(`^ephemail: SMTP on 127\\.0\\.0\\.1:${smtpPort}$`, 'm'), 5_000)

    const deadline = Date.now() + HEALTH_TIMEOUT_MS
    let last = 'no answer'
    for (;;) {
      try {
        const response = await fetch(url('/health'))
        if (response.status === 200) {
          expect(await response.json()).toEqual({ status: 'ok' })
          return child
        }
        last = `HTTP ${response.status}: ${await response.text()}`
      } catch (error) {
        last = String(error)
      }
      if (Date.now() > deadline)
        throw new Error(
          `/health not 200 within ${HEALTH_TIMEOUT_MS} ms (last: ${last})\n${child.stdout()}\n${child.stderr()}`,
        )
      await Bun.sleep(100)
    }
  }

  /** The process serving now; `current` is cleared once it has been stopped or killed. */
  function running(): EphemailProcess {
    if (!current) throw new Error('Ephemail is not running (an earlier step failed)')
    return current
  }

  async function listMessages(address: string, token: string): Promise<MessageSummary[]> {
    const response = await fetch(url(`/v1/mailboxes/${encodeURIComponent(address)}/messages`), {
      headers: bearer(token),
    })
    expect(response.status).toBe(200)
    return ((await response.json()) as { items: MessageSummary[] }).items
  }

  async function createAnonymousMailbox(): Promise<CreatedMailbox> {
    const response = await fetch(url('/v1/mailboxes'), { method: 'POST' })
    const text = await response.text()
    expect({ status: response.status, text }).toMatchObject({ status: 201 })
    const created = JSON.parse(text) as CreatedMailbox
    expect(created.id).toMatch(UUID)
    expect(created.address).toMatch(/^[a-z0-9._-]+@ephemail\.test$/)
    expect(created.token.length).toBeGreaterThanOrEqual(20)
    return created
  }

  beforeAll(async () => {
    tempDir = mkdtempSync(join(tmpdir(), 'ephemail-e2e-'))
    dataDir = join(tempDir, 'data')
    ;[httpPort, smtpPort] = (await freePorts(2)) as [number, number]
  })

  afterAll(async () => {
    for (const child of started) child.killAll()
    await Promise.all(started.map((child) => child.exited(10_000).catch(() => {})))
    if (tempDir) rmSync(tempDir, { recursive: true, force: true })
  })

  test(
    'a first start on an empty data dir generates an admin key, prints it once and serves /health',
    async () => {
      const child = await start()
      const match = ADMIN_KEY_LINE.exec(child.stdout())
      expect(match).not.toBeNull()
      adminKey = match?.[1]
      expect(adminKey).toMatch(/^eak_\S{20,}$/)
      // Printed once, not once per role.
      expect(child.stdout().match(/EPHEMAIL_ADMIN_KEY=/g)).toHaveLength(1)
    },
    STEP_TIMEOUT,
  )

  test(
    'GET /openapi.json is an OpenAPI 3.1 document and GET /docs is Swagger UI',
    async () => {
      const spec = await fetch(url('/openapi.json'))
      expect(spec.status).toBe(200)
      expect(spec.headers.get('content-type')).toMatch(/^application\/json\b/)
      const document = (await spec.json()) as { openapi: string; paths: Record<string, unknown> }
      expect(document.openapi.startsWith('3.1')).toBe(true)
      expect(Object.keys(document.paths)).toContain('/v1/mailboxes')

      const docs = await fetch(url('/docs'))
      expect(docs.status).toBe(200)
      expect(docs.headers.get('content-type')).toMatch(/^text\/html\b/)
      const html = await docs.text()
      expect(html).toContain('swagger-ui')
      expect(html).toContain('/docs/swagger-init.js')
      expect(await (await fetch(url('/docs/swagger-init.js'))).text()).toContain('/openapi.json')
    },
    STEP_TIMEOUT,
  )

  test(
    'anyone can create a mailbox (POST /v1/mailboxes, no body, no credential) and gets its token',
    async () => {
      first = await createAnonymousMailbox()
      // The generated admin key is real: it sees the anonymous mailbox.
      const asAdmin = await fetch(url(`/v1/mailboxes/${encodeURIComponent(first.address)}`), {
        headers: bearer(need(adminKey, 'the admin key')),
      })
      expect(asAdmin.status).toBe(200)
      expect(((await asAdmin.json()) as { id: string }).id).toBe(first.id)
    },
    STEP_TIMEOUT,
  )

  test(
    'a message delivered over SMTP is answered 250 once it is stored',
    async () => {
      const mailbox = need(first, 'a mailbox')
      const sent = await sendMail({
        port: smtpPort,
        to: mailbox.address,
        from: 'sender@example.org',
        ...firstMail,
      })
      expect({ accepted: sent.accepted, rejected: sent.rejected }).toEqual({
        accepted: [mailbox.address],
        rejected: [],
      })
      expect(sent.response).toMatch(/^250 /)
      firstMessageId = /Stored as (\S+)/.exec(sent.response)?.[1]
      expect(firstMessageId).toMatch(UUID)
    },
    STEP_TIMEOUT,
  )

  test(
    'the mailbox token lists the message and reads its subject and body',
    async () => {
      const mailbox = need(first, 'a mailbox')
      const items = await listMessages(mailbox.address, mailbox.token)
      expect(items.map((item) => [item.id, item.subject, item.from?.address])).toEqual([
        [firstMessageId, firstMail.subject, 'sender@example.org'],
      ])

      const response = await fetch(url(`/v1/messages/${need(firstMessageId, 'a message id')}`), {
        headers: bearer(mailbox.token),
      })
      expect(response.status).toBe(200)
      const message = (await response.json()) as { subject: string; text: string | null }
      expect(message.subject).toBe(firstMail.subject)
      expect(message.text).toContain(firstMail.body)
    },
    STEP_TIMEOUT,
  )

  test(
    'a mailbox token reaches only its own mailbox (404), and no token is a 401, both problem+json',
    async () => {
      const mailbox = need(first, 'a mailbox')
      second = await createAnonymousMailbox()
      expect(second.address).not.toBe(mailbox.address)

      const otherMailbox = await fetch(url(`/v1/mailboxes/${encodeURIComponent(second.address)}/messages`), {
        headers: bearer(mailbox.token),
      })
      expect(otherMailbox.status).toBe(404)
      expect(otherMailbox.headers.get('content-type')).toMatch(PROBLEM_JSON)
      expect(await otherMailbox.json()).toMatchObject({ status: 404 })

      // And the other way round: the second token cannot read the first mailbox's message.
      const otherMessage = await fetch(url(`/v1/messages/${need(firstMessageId, 'a message id')}`), {
        headers: bearer(second.token),
      })
      expect(otherMessage.status).toBe(404)
      expect(otherMessage.headers.get('content-type')).toMatch(PROBLEM_JSON)

      const anonymous = await fetch(url(`/v1/mailboxes/${encodeURIComponent(mailbox.address)}/messages`))
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('content-type')).toMatch(PROBLEM_JSON)
      expect(await anonymous.json()).toMatchObject({ status: 401 })
    },
    STEP_TIMEOUT,
  )

  test(
    'SIGTERM stops the server cleanly: it says so and exits 0',
    async () => {
      const child = running()
      // Sent to npm alone, as a supervisor does: `npm start` execs bun, so the server gets it.
      process.kill(child.proc.pid, 'SIGTERM')
      expect(await child.exited(STOP_TIMEOUT_MS)).toBe(0)
      current = null
      expect(child.stdout()).toContain('ephemail: SIGTERM received, stopping')
      expect(child.stderr()).not.toContain('error while stopping')
      expect(groupAlive(child.proc.pid)).toBe(false)
    },
    STEP_TIMEOUT,
  )

  test(
    'a restart on the same data dir prints no new key; the old key and the stored mail still work',
    async () => {
      const mailbox = need(first, 'a mailbox')
      const child = await start()
      expect(child.stdout()).not.toContain('EPHEMAIL_ADMIN_KEY=')
      expect(child.stdout()).not.toContain('new admin key')

      const asAdmin = await fetch(url(`/v1/mailboxes/${encodeURIComponent(mailbox.address)}`), {
        headers: bearer(need(adminKey, 'the admin key')),
      })
      expect(asAdmin.status).toBe(200)
      expect(((await asAdmin.json()) as { address: string }).address).toBe(mailbox.address)

      const items = await listMessages(mailbox.address, mailbox.token)
      const messageId = need(firstMessageId, 'a message id')
      expect(items.map((item) => [item.id, item.subject])).toEqual([[messageId, firstMail.subject]])
      const message = await fetch(url(`/v1/messages/${messageId}`), { headers: bearer(mailbox.token) })
      expect(message.status).toBe(200)
      expect(((await message.json()) as { text: string | null }).text).toContain(firstMail.body)
    },
    STEP_TIMEOUT,
  )

  test(
    'a message acknowledged with 250 survives a SIGKILL right after it',
    async () => {
      const mailbox = need(first, 'a mailbox')
      const child = running()
      const serverPid = child.serverPid()
      const sent = await sendMail({
        port: smtpPort,
        to: mailbox.address,
        from: 'crash@example.org',
        ...crashMail,
      })
      process.kill(serverPid, 'SIGKILL')
      expect({ accepted: sent.accepted, rejected: sent.rejected }).toEqual({
        accepted: [mailbox.address],
        rejected: [],
      })
      expect(sent.response).toMatch(/^250 /)
      crashMessageId = /Stored as (\S+)/.exec(sent.response)?.[1]
      expect(crashMessageId).toMatch(UUID)

      // npm reports the killed server as a failure; what matters is that everything is gone.
      expect(await child.exited(STOP_TIMEOUT_MS)).not.toBe(0)
      current = null
      expect(child.stdout()).not.toContain('received, stopping')
      expect(groupAlive(child.proc.pid)).toBe(false)

      const restarted = await start()
      expect(restarted.stdout()).not.toContain('EPHEMAIL_ADMIN_KEY=')
      const items = await listMessages(mailbox.address, mailbox.token)
      expect(items.map((item) => [item.id, item.subject])).toEqual([
        [need(crashMessageId, 'the crash message id'), crashMail.subject],
        [need(firstMessageId, 'a message id'), firstMail.subject],
      ])
      const message = await fetch(url(`/v1/messages/${crashMessageId}`), { headers: bearer(mailbox.token) })
      expect(message.status).toBe(200)
      expect(((await message.json()) as { text: string | null }).text).toContain(crashMail.body)

      const asAdmin = await fetch(url(`/v1/mailboxes/${encodeURIComponent(mailbox.address)}`), {
        headers: bearer(need(adminKey, 'the admin key')),
      })
      expect(asAdmin.status).toBe(200)
    },
    STEP_TIMEOUT,
  )
})
