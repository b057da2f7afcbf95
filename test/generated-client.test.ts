// An independent generator's client works: orval 8 (fetch mode) generates from the committed openapi.yaml, strict tsc checks it with a flow script that uses only its functions and types, and the flow runs a mailbox's whole life against a real server on embedded PGlite.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import nodemailer from 'nodemailer'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import { ADMIN_KEY, startTestEphemail, type TestEphemail } from './support/ephemail.ts'

const REPO = resolve(import.meta.dir, '..')
// The tools/codegen workspace: `npm ci` at the root installs it, with the TypeScript 5 and orval it pins.
const ORVAL = join(REPO, 'tools', 'codegen', 'node_modules', '.bin', 'orval')
const TSC = join(REPO, 'node_modules', '.bin', 'tsc')

/** The orval binary, or null (saying so) when the codegen workspace is not installed; EPHEMAIL_REQUIRE_SERVICES=1 makes absence a failure. */
function orvalAvailable(): string | null {
  if (existsSync(ORVAL)) return ORVAL
  if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
    throw new Error(`orval is required but ${ORVAL} is absent (npm ci installs the tools/codegen workspace)`)
  console.warn(`orval is not installed at ${ORVAL}: the generated-client test is skipped`)
  return null
}

const orval = orvalAvailable()

/** Runs a command to its end; its exit code and everything it printed. */
async function run(command: string[], cwd: string) {
  const proc = Bun.spawn(command, { cwd, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, output: `${stdout}${stderr}` }
}

// The flow a user of the generated client writes: only './client.ts' is imported, and every
// answer is narrowed by its status to the generated type before a field is read.
const FLOW = `
import {
  createMailbox,
  deleteMailbox,
  deleteMessage,
  getLatestOtp,
  getMailbox,
  getMessage,
  getRawMessage,
  listMessages,
  updateMessage,
  type CreateMailbox201,
  type GetLatestOtp200,
  type GetMessage200,
  type ListMessages200,
  type Problem,
  type UpdateMessage200,
} from './client.ts'

export interface FlowInput {
  localPart: string
  domain: string
  adminKey: string
  /** Delivers the verification mail to the address over SMTP. */
  sendMail(address: string): Promise<void>
}

export interface FlowResult {
  created: CreateMailbox201
  code: GetLatestOtp200
  listed: ListMessages200
  message: GetMessage200
  raw: { contentType: string | null; bytes: Uint8Array }
  marked: UpdateMessage200
  listedAfterSeen: ListMessages200
  deletedMessageStatus: number
  messageGone: Problem
  rawGone: Problem
  badLimit: Problem
  deletedMailboxStatus: number
  mailboxGone: Problem
}

/** The answer, narrowed to the one status the step expects; anything else stops the flow with what came back. */
function expectStatus<R extends { status: number; data: unknown }, S extends R['status']>(
  response: R,
  status: S,
  step: string,
): Extract<R, { status: S }> {
  if (response.status !== status)
    throw new Error(step + ': expected ' + status + ', got ' + response.status + ' ' + JSON.stringify(response.data))
  return response as Extract<R, { status: S }>
}

/**
 * A binary operation's answer is a Blob whatever its status (orval reads the body with res.blob() for
 * a format: binary response), so its problem+json error arrives as a Blob typed as Problem: parse it.
 */
async function problemOf(data: Problem | Blob): Promise<Problem> {
  return data instanceof Blob ? (JSON.parse(await data.text()) as Problem) : data
}

export async function runFlow(input: FlowInput): Promise<FlowResult> {
  const created = expectStatus(
    await createMailbox({ localPart: input.localPart, domain: input.domain, ttlSeconds: 3600 }),
    201,
    'create mailbox',
  ).data
  const auth: RequestInit = { headers: { authorization: 'Bearer ' + created.token } }
  const admin: RequestInit = { headers: { authorization: 'Bearer ' + input.adminKey } }

  // The long-poll is asked before the mail is sent; it answers once the code is extracted.
  const waiting = getLatestOtp(created.address, { wait: 60 }, auth)
  await input.sendMail(created.address)
  const code = expectStatus(await waiting, 200, 'wait for the code').data
  if (code.messageId === null) throw new Error('the wait ended without a message: ' + JSON.stringify(code))
  const messageId = code.messageId

  const listed = expectStatus(await listMessages(created.address, { limit: 10 }, auth), 200, 'list').data
  const message = expectStatus(await getMessage(messageId, auth), 200, 'read').data

  const rawAnswer = expectStatus(await getRawMessage(messageId, auth), 200, 'raw')
  const raw = {
    contentType: rawAnswer.headers.get('content-type'),
    bytes: new Uint8Array(await rawAnswer.data.arrayBuffer()),
  }

  const marked = expectStatus(await updateMessage(messageId, { seen: true }, auth), 200, 'mark seen').data
  const listedAfterSeen = expectStatus(await listMessages(created.address, {}, auth), 200, 'list again').data

  const deletedMessageStatus = expectStatus(await deleteMessage(messageId, auth), 204, 'delete message').status
  const messageGone = expectStatus(await getMessage(messageId, auth), 404, 'read deleted message').data
  const rawGone = await problemOf(expectStatus(await getRawMessage(messageId, auth), 404, 'raw of deleted').data)
  const badLimit = expectStatus(await listMessages(created.address, { limit: 0 }, auth), 400, 'limit 0').data

  const deletedMailboxStatus = expectStatus(await deleteMailbox(created.address, auth), 204, 'delete mailbox').status
  const mailboxGone = expectStatus(await getMailbox(created.address, admin), 404, 'read deleted mailbox').data

  return {
    created,
    code,
    listed,
    message,
    raw,
    marked,
    listedAfterSeen,
    deletedMessageStatus,
    messageGone,
    rawGone,
    badLimit,
    deletedMailboxStatus,
    mailboxGone,
  }
}
`

// A misuse the strict check must refuse, so a passing check is not a check that reads nothing.
const MISUSE = `
import { getLatestOtp } from './client.ts'

export async function misuse(): Promise<number> {
  const answer = await getLatestOtp('someone@ephemail.test')
  if (answer.status !== 200) return 0
  const code: number = answer.data.otp
  return code
}
`

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'bundler',
    lib: ['ES2024', 'DOM', 'DOM.Iterable'],
    types: [],
    allowImportingTsExtensions: true,
  },
  files: ['client.ts', 'flow.ts'],
}

interface Problem {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  errors?: { path: string; message: string }[]
}

/** What the test reads of the flow's result (the flow itself is checked against the generated types). */
interface FlowResult {
  created: { id: string; address: string; token: string; expiresAt: string }
  code: { otp: string | null; link: string | null; messageId: string | null; subject: string | null }
  listed: {
    items: {
      id: string
      subject: string | null
      seen: boolean
      otp: string | null
      size: number
      from: { address: string; name: string } | null
    }[]
    nextCursor: string | null
  }
  message: {
    id: string
    subject: string | null
    text: string | null
    html: string | null
    to: { address: string }[]
    envelope: { mailFrom: string | null; rcptTo: string[]; source: string }
    messageId: string | null
    size: number
    processing: { state: string }
  }
  raw: { contentType: string | null; bytes: Uint8Array }
  marked: { id: string; seen: boolean }
  listedAfterSeen: { items: { id: string; seen: boolean }[] }
  deletedMessageStatus: number
  messageGone: Problem
  rawGone: Problem
  badLimit: Problem
  deletedMailboxStatus: number
  mailboxGone: Problem
}

/**
 * A verification mail as a real sender composes it (text and HTML alternatives), with a fresh code and
 * link each run, in its wire form: SMTP lines end in CRLF, and nodemailer's transport turns the bare LFs
 * MailComposer leaves in 7bit parts into CRLF, so these are the bytes the server receives.
 */
async function composeVerificationMail(to: string, code: string, link: string): Promise<Buffer> {
  const composed = await new MailComposer({
    from: 'Northwind Accounts <no-reply@accounts.northwind.example>',
    to,
    subject: `${code} is your Northwind verification code`,
    messageId: `<${crypto.randomUUID()}@accounts.northwind.example>`,
    text: [
      'Hi,',
      '',
      `Your verification code is ${code}. It expires in 10 minutes.`,
      '',
      `Or confirm your address with this link: ${link}`,
      '',
      "If you didn't create a Northwind account, you can ignore this email.",
      '',
      'Northwind Accounts, 1 Harbour Street, Seattle',
    ].join('\n'),
    html: `<!doctype html><html><body style="font-family:sans-serif">
<p>Hi,</p>
<p>Your verification code is <strong style="font-size:20px;letter-spacing:2px">${code}</strong>. It expires in 10 minutes.</p>
<p><a href="${link}" style="background:#0b5cff;color:#fff;padding:8px 14px">Confirm my address</a></p>
<p style="color:#666">If you didn't create a Northwind account, you can ignore this email.</p>
</body></html>`,
  })
    .compile()
    .build()
  return Buffer.from(composed.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
}

describe.skipIf(orval === null)('a client generated by orval 8 from openapi.yaml', () => {
  let eph: TestEphemail
  let workDir: string
  let generated: { code: number; output: string }
  const unique = crypto.randomUUID().slice(0, 8)
  const code = String(100_000 + ((crypto.getRandomValues(new Uint32Array(1))[0] as number) % 900_000))
  const link = `https://accounts.northwind.example/verify?token=${crypto.randomUUID().replaceAll('-', '')}`
  let sent: Buffer | undefined

  beforeAll(async () => {
    eph = await startTestEphemail()
    workDir = mkdtempSync(join(tmpdir(), 'ephemail-orval-'))
    // The config a user writes: the committed document in, one fetch-client file out, the server's URL as base.
    writeFileSync(
      join(workDir, 'orval.config.mjs'),
      `export default {
  ephemail: {
    input: { target: ${JSON.stringify(join(REPO, 'openapi.yaml'))} },
    output: {
      target: ${JSON.stringify(join(workDir, 'client.ts'))},
      client: 'fetch',
      mode: 'single',
      baseUrl: ${JSON.stringify(`http://127.0.0.1:${eph.httpPort}`)},
    },
  },
}
`,
    )
    // orval 8 wants Node >= 22.18; Bun runs it on any box this repo supports.
    generated = await run([process.execPath, orval as string, '--config', 'orval.config.mjs'], workDir)
    writeFileSync(join(workDir, 'flow.ts'), FLOW)
    writeFileSync(join(workDir, 'misuse.ts'), MISUSE)
    writeFileSync(join(workDir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
  }, 60_000)

  afterAll(async () => {
    await eph?.stop()
    if (workDir) rmSync(workDir, { recursive: true, force: true })
  })

  test('orval generates one fetch client with the document operations and the Problem type', async () => {
    expect(generated.output).not.toMatch(/\b(error|warning)\b/i)
    expect(generated.code).toBe(0)
    const client = await Bun.file(join(workDir, 'client.ts')).text()
    for (const operation of [
      'createMailbox',
      'getLatestOtp',
      'listMessages',
      'getRawMessage',
      'deleteMailbox',
    ])
      expect(client).toContain(`export const ${operation} = async (`)
    expect(client).toContain('export interface Problem {')
    // format: binary on message/rfc822 is how orval knows to read the raw download as bytes.
    expect(client).toMatch(/export type getRawMessageResponse200 = \{\s+data: Blob\b/)
  })

  test('the client and the flow type-check in strict mode; a misuse of a generated type does not', async () => {
    const checked = await run([TSC, '--noEmit', '--strict', '-p', 'tsconfig.json'], workDir)
    expect(checked.output).toBe('')
    expect(checked.code).toBe(0)

    writeFileSync(
      join(workDir, 'tsconfig.misuse.json'),
      JSON.stringify({ ...TSCONFIG, files: ['client.ts', 'misuse.ts'] }),
    )
    const refused = await run([TSC, '--noEmit', '--strict', '-p', 'tsconfig.misuse.json'], workDir)
    expect(refused.code).not.toBe(0)
    expect(refused.output).toContain('misuse.ts')
    expect(refused.output).toContain('TS2322')
  }, 60_000)

  test('the flow: create, mail over SMTP, long-poll the code, list, read, raw, seen, delete, 400 and 404 problems', async () => {
    const flow = (await import(join(workDir, 'flow.ts'))) as {
      runFlow(input: {
        localPart: string
        domain: string
        adminKey: string
        sendMail(address: string): Promise<void>
      }): Promise<FlowResult>
    }
    const result = await flow.runFlow({
      localPart: `orval-${unique}`,
      domain: 'ephemail.test',
      adminKey: ADMIN_KEY,
      async sendMail(address) {
        sent = await composeVerificationMail(address, code, link)
        const transport = nodemailer.createTransport({
          host: '127.0.0.1',
          port: eph.smtpPort,
          secure: false,
          ignoreTLS: true,
        })
        try {
          const info = await transport.sendMail({
            envelope: { from: 'bounces@accounts.northwind.example', to: [address] },
            raw: sent,
          })
          expect(info.accepted).toEqual([address])
        } finally {
          transport.close()
        }
      },
    })
    const address = `orval-${unique}@ephemail.test`
    const subject = `${code} is your Northwind verification code`

    expect(result.created.address).toBe(address)
    expect(result.created.token).toStartWith('mbt_')

    expect(result.code.otp).toBe(code)
    expect(result.code.link).toBe(link)
    expect(result.code.subject).toBe(subject)
    const messageId = result.code.messageId as string

    expect(result.listed.nextCursor).toBeNull()
    expect(result.listed.items).toHaveLength(1)
    const [summary] = result.listed.items
    expect(summary).toMatchObject({ id: messageId, subject, seen: false, otp: code, size: sent?.length })
    expect(summary?.from).toEqual({
      address: 'no-reply@accounts.northwind.example',
      name: 'Northwind Accounts',
    })

    expect(result.message.id).toBe(messageId)
    expect(result.message.subject).toBe(subject)
    expect(result.message.to.map((to) => to.address)).toEqual([address])
    expect(result.message.text).toContain(`Your verification code is ${code}.`)
    expect(result.message.html).toContain(`href="${link}"`)
    expect(result.message.envelope).toMatchObject({
      mailFrom: 'bounces@accounts.northwind.example',
      rcptTo: [address],
      source: 'smtp',
    })
    expect(result.message.processing.state).toBe('processed')

    // The raw download is the very bytes nodemailer sent.
    expect(result.raw.contentType).toStartWith('message/rfc822')
    expect(Buffer.from(result.raw.bytes).equals(sent as Buffer)).toBe(true)

    expect(result.marked).toMatchObject({ id: messageId, seen: true })
    expect(result.listedAfterSeen.items.map(({ id, seen }) => ({ id, seen }))).toEqual([
      { id: messageId, seen: true },
    ])

    expect(result.deletedMessageStatus).toBe(204)
    for (const gone of [result.messageGone, result.rawGone]) {
      expect(gone.status).toBe(404)
      expect(gone.type).toMatch(/not-found$/)
      expect(gone.detail).toContain(messageId)
    }
    expect(result.badLimit.status).toBe(400)
    expect(result.badLimit.errors?.map((error) => error.path)).toContain('query.limit')

    expect(result.deletedMailboxStatus).toBe(204)
    expect(result.mailboxGone.status).toBe(404)
    expect(result.mailboxGone.detail).toContain(address)
  }, 90_000)
})
