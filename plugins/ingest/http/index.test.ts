// The HTTP inbound source: the shared ingest contract over POST /v1/inbound, then curl, fetch and the Cloudflare worker against a listening server.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import worker from '../../../docs/cloudflare-email-worker.js'
import { runIngestContract } from '../../../test/contracts/ingest.ts'
import {
  INBOUND_SECRET,
  type InboundServer,
  sampleMail,
  startInboundServer,
} from '../../../test/support/inbound.ts'
import { create, name } from './index.ts'

const OPTIONS = {
  secret: INBOUND_SECRET,
  mailgunSigningKey: null,
  sendgridPublicKey: null,
  postmark: null,
  maxBodyBytes: 4 * 1024 * 1024,
  maxRecipients: 10,
}

await runIngestContract(name, {
  source: 'http:raw',
  dedupesResend: true,
  make: (context) => create(OPTIONS, context),
  async send(core, _source, { from, to, raw }) {
    const query = new URLSearchParams({ to, from })
    const response = await core.buildApp().handle(
      new Request(`http://localhost/v1/inbound?${query}`, {
        method: 'POST',
        body: raw,
        headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${INBOUND_SECRET}` },
      }),
    )
    return { accepted: response.status === 202, answer: `${response.status} ${await response.text()}` }
  },
})

describe('POST /v1/inbound on a listening server', () => {
  let server: InboundServer
  let address: string
  const post = (query: string, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/v1/inbound?${query}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${INBOUND_SECRET}`, ...headers },
    })
  const problemOf = async (response: Response) => {
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    return (await response.json()) as { type: string; detail: string }
  }

  beforeAll(async () => {
    server = await startInboundServer()
    address = await server.mailbox('inbound')
  }, 60_000)
  afterAll(async () => server?.close())

  test('the curl command of the README stores the message (202), shown in the API with source http:raw', async () => {
    const curl = Bun.which('curl')
    if (!curl) {
      console.warn('curl is not installed: the curl case is skipped')
      return
    }
    const dir = mkdtempSync(join(tmpdir(), 'inbound-'))
    writeFileSync(join(dir, 'mail.eml'), sampleMail(address, 'via curl'))
    const run = Bun.spawn(
      [
        curl,
        '-sS',
        '-w',
        '\n%{http_code}',
        '--data-binary',
        '@mail.eml',
        '-H',
        'content-type: message/rfc822',
        '-H',
        `authorization: Bearer ${INBOUND_SECRET}`,
        `${server.url}/v1/inbound?to=${address}`,
      ],
      { cwd: dir, stdout: 'pipe', stderr: 'pipe' },
    )
    const output = await new Response(run.stdout).text()
    expect(await run.exited).toBe(0)
    const [body, status] = [
      output.slice(0, output.lastIndexOf('\n')),
      output.slice(output.lastIndexOf('\n') + 1),
    ]
    expect(status).toBe('202')
    const accepted = JSON.parse(body) as { messages: { id: string; address: string; duplicate: boolean }[] }
    expect(accepted.messages).toEqual([{ id: expect.any(String), address, duplicate: false }])
    const read = await server.read(accepted.messages[0]?.id as string)
    expect(read).toMatchObject({ source: 'http:raw', subject: 'via curl', envelope: { source: 'http:raw' } })
  })

  test('fetch: envelope from the query (to repeatable, from, ip, helo) reaches the stored envelope', async () => {
    const other = await server.mailbox('inbound-two')
    const query = `to=${address}&to=${other}&from=bounce@example.org&ip=198.51.100.7&helo=mail.example.org`
    const response = await post(query, sampleMail(address, 'two recipients'))
    expect(response.status).toBe(202)
    const { messages } = (await response.json()) as { messages: { id: string; address: string }[] }
    expect(messages.map((message) => message.address).sort()).toEqual([address, other].sort())
    const read = await server.read(messages[0]?.id as string)
    expect(read.envelope).toEqual({
      mailFrom: 'bounce@example.org',
      rcptTo: [address, other],
      remoteAddress: '198.51.100.7',
      helo: 'mail.example.org',
      source: 'http:raw',
    })
  })

  test('a retried POST of the same message is stored once and answers 202 with the same id', async () => {
    const raw = sampleMail(address, 'retried')
    const first = await post(`to=${address}`, raw)
    const second = await post(`to=${address}`, raw)
    expect([first.status, second.status]).toEqual([202, 202])
    const [a, b] = [(await first.json()) as never, (await second.json()) as never] as {
      messages: { id: string; duplicate: boolean }[]
    }[]
    expect(b?.messages[0]).toEqual({ ...a?.messages[0], duplicate: true } as never)
    const page = await server.core.storage.listMessages(
      (await server.core.storage.findLiveMailboxByAddress(address, new Date()))?.id as string,
      { limit: 100 },
    )
    expect(page.items.filter((message) => message.subject === 'retried')).toHaveLength(1)
  })

  test('no secret, a wrong secret: 401 problem+json, nothing stored', async () => {
    const none = await fetch(`${server.url}/v1/inbound?to=${address}`, {
      method: 'POST',
      body: sampleMail(address, 'no secret'),
      headers: { 'content-type': 'message/rfc822' },
    })
    expect(none.status).toBe(401)
    expect((await problemOf(none)).detail).toContain('Authorization: Bearer')
    const wrong = await post(`to=${address}`, sampleMail(address, 'wrong'), {
      authorization: 'Bearer not-the-secret',
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toContain('ephemail-inbound')
    expect((await problemOf(wrong)).detail).toBe('The inbound secret is wrong')
  })

  test('an unknown recipient is 422 unknown-recipient naming it and why; no recipient at all is 400', async () => {
    const unknown = await post('to=nobody@ephemail.test', sampleMail('nobody@ephemail.test', 'unknown'))
    expect(unknown.status).toBe(422)
    const problem = await problemOf(unknown)
    expect(problem.type).toEndWith('/unknown-recipient')
    expect(problem.detail).toContain('nobody@ephemail.test (no-such-mailbox)')
    const elsewhere = await post('to=x@elsewhere.example', sampleMail('x@elsewhere.example', 'elsewhere'))
    expect((await problemOf(elsewhere)).detail).toContain('(unknown-domain)')
    const none = await post('', sampleMail(address, 'nobody'))
    expect(none.status).toBe(400)
    expect((await problemOf(none)).detail).toContain('no recipient')
  })

  test('oversize: past the message limit 413, and past the body limit 413 before any read', async () => {
    const big = `${sampleMail(address, 'big')}${'x'.repeat(300 * 1024)}\r\n`
    const response = await post(`to=${address}`, big)
    expect(response.status).toBe(413)
    expect((await problemOf(response)).detail).toContain('too large')
    const huge = await post(`to=${address}`, 'x'.repeat(server.core.config.inbound.maxBodyBytes + 1))
    expect(huge.status).toBe(413)
  })

  test('a body that is not message/rfc822 is 415', async () => {
    const response = await post(`to=${address}`, '{}', { 'content-type': 'application/json' })
    expect(response.status).toBe(415)
  })

  test('the Cloudflare Email Worker in docs/ stores with source http:cloudflare, rejects for a dead address, retries on a wrong secret', async () => {
    const raw = sampleMail(address, 'via cloudflare')
    const rejections: string[] = []
    const message = (to: string) => ({
      from: 'accounts@example.org',
      to,
      raw: new Response(raw).body,
      rawSize: raw.length,
      headers: new Headers(),
      setReject: (reason: string) => rejections.push(reason),
    })
    const env = { EPHEMAIL_URL: `${server.url}/`, EPHEMAIL_INBOUND_SECRET: INBOUND_SECRET }
    await worker.email(message(address), env)
    expect(rejections).toEqual([])
    const mailboxId = (await server.core.storage.findLiveMailboxByAddress(address, new Date()))?.id as string
    const page = await server.core.storage.listMessages(mailboxId, { limit: 100 })
    const stored = page.items.filter((item) => item.subject === 'via cloudflare')
    expect(stored.map((item) => item.source)).toEqual(['http:cloudflare'])
    await worker.email(message('gone@ephemail.test'), env)
    expect(rejections).toHaveLength(1)
    expect(rejections[0]).toContain('gone@ephemail.test')
    // A wrong secret is the operator's mistake, not the message's: a temporary failure, never a bounce.
    await expect(
      worker.email(message(address), { ...env, EPHEMAIL_INBOUND_SECRET: 'wrong-secret' }),
    ).rejects.toThrow('The inbound secret is wrong')
    expect(rejections).toHaveLength(1)
  })
})
