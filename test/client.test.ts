// ephemail/client against a real server (embedded PGlite, SMTP): waits, raw bytes, problems, and the Node build.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { createClient, type EphemailClient, EphemailProblem, EphemailTimeout } from '#client/index.ts'
import { ADMIN_KEY, startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { SIGN_UP_SENDER as SENDER, signUpMail } from './support/sign-up-mail.ts'

/** A mail without a code: what arrives next to a sign-up mail (a newsletter, a receipt). */
function newsletterMail(to: string) {
  const raw = [
    'From: Acme News <news@acme.example>',
    `To: <${to}>`,
    'Subject: This week at Acme',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@acme.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Three things we shipped this week, and one we are still working on.',
    '',
  ].join('\r\n')
  return new TextEncoder().encode(raw)
}

describe('ephemail/client', () => {
  let eph: TestEphemail
  let baseUrl: string
  let client: EphemailClient
  let admin: EphemailClient

  /** Sends exact bytes over SMTP (nodemailer, its own connection); resolves after the 250. */
  async function send(to: string, raw: Uint8Array, from = SENDER) {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: eph.smtpPort, ignoreTLS: true })
    try {
      await transport.sendMail({ envelope: { from, to: [to] }, raw: Buffer.from(raw) })
    } finally {
      transport.close()
    }
  }

  /**
   * A client whose wait is known to be past its look at the mailbox (on the event stream) when `listed`
   * resolves: mail sent after that can only be found by waiting, not by the first look.
   */
  function watchedClient() {
    let listed: () => void = () => {}
    const waiting = new Promise<void>((resolve) => {
      listed = resolve
    })
    const watched = createClient({
      baseUrl,
      fetch: async (input) => {
        const response = await fetch(input)
        if (input instanceof Request && new URL(input.url).pathname.endsWith('/messages')) listed()
        return response
      },
    })
    return { watched, waiting }
  }

  beforeAll(async () => {
    eph = await startTestEphemail()
    baseUrl = `http://127.0.0.1:${eph.httpPort}`
    client = createClient({ baseUrl })
    admin = createClient({ baseUrl, key: ADMIN_KEY })
  })
  afterAll(async () => {
    await eph?.stop()
  })

  test('an anonymous client creates a mailbox and reads it with the token it was given', async () => {
    const localPart = `signup-${randomBytes(3).toString('hex')}`
    const created = await client.createMailbox({ localPart, domain: 'ephemail.test', ttlSeconds: 600 })
    expect(created.address).toBe(`${localPart}@ephemail.test`)
    expect(created.token).toBeString()
    expect((await client.getMailbox(created.address)).address).toBe(created.address)
    expect((await client.listMessages(created.address)).items).toEqual([])
    // Another client has no token for it: the API's 401, as a typed problem.
    const stranger = createClient({ baseUrl })
    const refused = await stranger.getMailbox(created.address).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(EphemailProblem)
    expect((refused as EphemailProblem).status).toBe(401)
    // ...unless the token is passed for the call.
    expect((await stranger.getMailbox(created.address, { token: created.token })).id).toBe(created.id)
  })

  test('waitForOtp, waitForLink and waitForMessage find a sign-up mail already delivered', async () => {
    const { address } = await client.createMailbox()
    const mail = signUpMail(address)
    await send(address, mail.raw)
    expect(await client.waitForOtp(address)).toBe(mail.code)
    expect(await client.waitForLink(address)).toBe(mail.link)
    const message = await client.waitForMessage(address, { subject: 'Confirm', from: SENDER })
    expect(message.subject).toBe(mail.subject)
    expect(message.otp).toBe(mail.code)
    expect(message.text).toContain(`Your verification code is ${mail.code}`)
    expect(await client.getRaw(message.id)).toEqual(mail.raw)
  })

  test('a wait started before the mail arrives resolves when it does', async () => {
    const { address, token } = await client.createMailbox()
    const { watched, waiting } = watchedClient()
    const otp = watched.waitForOtp(address, { token, timeout: 20_000 })
    await waiting
    const mail = signUpMail(address)
    await send(address, mail.raw)
    expect(await otp).toBe(mail.code)

    const second = watchedClient()
    const link = second.watched.waitForLink(address, {
      token,
      timeout: 20_000,
      after: (await client.listMessages(address)).items[0]?.id,
    })
    await second.waiting
    const next = signUpMail(address, { subject: 'Reset your Acme password' })
    await send(address, next.raw)
    expect(await link).toBe(next.link)
  })

  test('waitForMessage with a filter skips the mail it does not ask for', async () => {
    const { address, token } = await client.createMailbox()
    const { watched, waiting } = watchedClient()
    const welcome = watched.waitForMessage(
      address,
      { subject: /^Confirm your/, from: 'acme.example' },
      { token, timeout: 20_000 },
    )
    await waiting
    await send(address, newsletterMail(address), 'news@acme.example')
    const mail = signUpMail(address)
    await send(address, mail.raw)
    const found = await welcome
    expect(found.subject).toBe(mail.subject)
    expect(found.link).toBe(mail.link)
    // match() sees the message in full; the newsletter is the only one it accepts.
    const newsletter = await client.waitForMessage(address, {
      match: (message) => message.text?.includes('we shipped') === true,
    })
    expect(newsletter.subject).toBe('This week at Acme')
    const seen = await client.markSeen(newsletter.id)
    expect(seen.seen).toBe(true)
    await client.deleteMessage(newsletter.id)
    const gone = await client.getMessage(newsletter.id).catch((error: unknown) => error)
    expect((gone as EphemailProblem).status).toBe(404)
  })

  test('a wait that runs out names the mailbox, what it waited for and how long; nullOnTimeout gives null', async () => {
    const { address } = await client.createMailbox()
    await send(address, newsletterMail(address), 'news@acme.example')
    const error = await client.waitForOtp(address, { timeout: 1500 }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(EphemailTimeout)
    const timeout = error as EphemailTimeout
    expect(timeout.mailbox).toBe(address)
    expect(timeout.waitedFor).toBe('one-time code')
    expect(timeout.timeoutMs).toBe(1500)
    expect(timeout.message).toBe(`no one-time code arrived at ${address} within 1.5 s`)
    expect(await client.waitForLink(address, { timeout: 1000, nullOnTimeout: true })).toBeNull()
    const filtered = await client
      .waitForMessage(address, { from: 'billing@acme.example' }, { timeout: 1000 })
      .catch((caught: unknown) => caught)
    expect((filtered as EphemailTimeout).message).toBe(
      `no message from billing@acme.example arrived at ${address} within 1 s`,
    )
  })

  test('a 404 and a 400 are EphemailProblems with the typed problem+json', async () => {
    const missing = await admin
      .getMessage('0193a1f3-0a1b-7c2d-8e3f-405162738495')
      .catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(EphemailProblem)
    const notFound = missing as EphemailProblem
    expect(notFound.status).toBe(404)
    expect(notFound.problem.status).toBe(404)
    expect(notFound.problem.type).toBe('https://ephemail.dev/problems/not-found')
    expect(notFound.slug).toBe('not-found')
    expect(notFound.problem.detail).toBeString()

    const { address } = await admin.createMailbox()
    const invalid = await admin.listMessages(address, { limit: 1000 }).catch((error: unknown) => error)
    expect(invalid).toBeInstanceOf(EphemailProblem)
    const badRequest = invalid as EphemailProblem
    expect(badRequest.status).toBe(400)
    expect(badRequest.problem.title).toBeString()
    expect(badRequest.message).toContain('400')
    expect(badRequest.problem.detail).toContain('limit')
    await admin.deleteMailbox(address)
    expect(
      ((await admin.getMailbox(address).catch((error: unknown) => error)) as EphemailProblem).status,
    ).toBe(404)
  })

  test('Node imports the built ephemail/client and waits for a code with it', async () => {
    const node = Bun.which('node')
    if (!node) {
      console.warn('skipped: no node on PATH to import the built client with')
      return
    }
    // Each step is a JSON line; `listed` says its wait is past the first look, so the mail comes mid-wait.
    const script = `
      const { createClient, EphemailProblem } = await import('ephemail/client')
      const say = (line) => process.stdout.write(JSON.stringify(line) + '\\n')
      const client = createClient({
        baseUrl: process.argv[1],
        fetch: async (request) => {
          const response = await fetch(request)
          if (new URL(request.url).pathname.endsWith('/messages')) say({ listed: true })
          return response
        },
      })
      const created = await client.createMailbox()
      const mailbox = await client.getMailbox(created.address)
      const missing = await client.getMessage('0193a1f3-0a1b-7c2d-8e3f-405162738495').catch((e) => e)
      say({ created: created.address, read: mailbox.address, problem: missing instanceof EphemailProblem, status: missing.status })
      say({ code: await client.waitForOtp(created.address, { timeout: 20000 }) })
    `
    // Asynchronously: the server answering it runs in this process.
    const run = Bun.spawn([node, '--input-type=module', '-e', script, baseUrl], {
      cwd: join(import.meta.dir, '..'),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const stderr = new Response(run.stderr).text()
    const lines: Record<string, unknown>[] = []
    let sent: ReturnType<typeof signUpMail> | null = null
    let pending = ''
    const decoder = new TextDecoder()
    for await (const chunk of run.stdout) {
      pending += decoder.decode(chunk, { stream: true })
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
        const line = JSON.parse(pending.slice(0, end)) as Record<string, unknown>
        pending = pending.slice(end + 1)
        lines.push(line)
        const created = lines.find((entry) => 'created' in entry)?.created
        if (line.listed && typeof created === 'string' && !sent) {
          sent = signUpMail(created)
          await send(created, sent.raw)
        }
      }
    }
    expect(await stderr).toBe('')
    expect(await run.exited).toBe(0)
    const summary = lines.find((entry) => 'created' in entry) as Record<string, unknown>
    expect(summary.read).toBe(summary.created)
    expect(summary.problem).toBe(true)
    expect(summary.status).toBe(401)
    expect(sent).not.toBeNull()
    expect(lines.at(-1)).toEqual({ code: sent?.code })
  })
})
