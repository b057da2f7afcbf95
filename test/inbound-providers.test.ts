// The HTTP inbound provider adapters, each with payloads in its provider's documented shape and a good and a bad signature: Mailgun, SendGrid, Postmark.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sign } from 'node:crypto'
import { mailgunSignature } from '#plugins/ingest/http/mailgun.ts'
import { ConfigError, loadConfig } from '#server/config.ts'
import {
  INBOUND_SECRET,
  type InboundServer,
  MAILGUN_KEY,
  POSTMARK,
  sampleMail,
  startInboundServer,
} from './support/inbound.ts'

let server: InboundServer
let address: string
beforeAll(async () => {
  server = await startInboundServer()
  address = await server.mailbox('providers')
}, 60_000)
afterAll(async () => server?.close())

type Accepted = { messages: { id: string; address: string; duplicate: boolean }[]; rejected: string[] }
const problemOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toContain('application/problem+json')
  return (await response.json()) as { type: string; detail: string }
}
const nowSeconds = () => String(Math.floor(Date.now() / 1000))

describe('config: EPHEMAIL_INGEST', () => {
  test('defaults to smtp alone, takes a list, and refuses http without its secret, naming the variable', () => {
    expect(loadConfig({}, []).ingest).toEqual(['smtp'])
    expect(
      loadConfig({ EPHEMAIL_INGEST: 'smtp,http', EPHEMAIL_INBOUND_SECRET: INBOUND_SECRET }, []).ingest,
    ).toEqual(['smtp', 'http'])
    expect(() => loadConfig({ EPHEMAIL_INGEST: 'smtp,http' }, [])).toThrow(ConfigError)
    expect(() => loadConfig({ EPHEMAIL_INGEST: 'smtp,http' }, [])).toThrow(/EPHEMAIL_INBOUND_SECRET/)
    expect(() => loadConfig({ EPHEMAIL_INGEST: 'smtp,fax' }, [])).toThrow(/EPHEMAIL_INGEST: "fax"/)
  })
})

describe('Mailgun route forward (body-mime, signed with the webhook signing key)', () => {
  /** What a Mailgun route's forward("https://host/v1/inbound/mailgun?mime") posts: a multipart form. */
  function mailgunForm(raw: string, signature?: string) {
    const timestamp = nowSeconds()
    const token = crypto.randomUUID().replace(/-/g, '')
    const form = new FormData()
    form.set('recipient', address)
    form.set('sender', 'bounce+abc@example.org')
    form.set('from', 'Example Accounts <accounts@example.org>')
    form.set('subject', 'Mailgun route')
    form.set('body-mime', raw)
    form.set('timestamp', timestamp)
    form.set('token', token)
    form.set('signature', signature ?? mailgunSignature(MAILGUN_KEY, timestamp, token))
    return form
  }
  const post = (form: FormData) =>
    fetch(`${server.url}/v1/inbound/mailgun?mime`, { method: 'POST', body: form })

  test('a good signature: 202, stored with source http:mailgun and the envelope sender', async () => {
    const response = await post(mailgunForm(sampleMail(address, 'via mailgun')))
    expect(response.status).toBe(202)
    const { messages } = (await response.json()) as Accepted
    const read = await server.read(messages[0]?.id as string)
    expect(read).toMatchObject({ source: 'http:mailgun', subject: 'via mailgun' })
    expect(read.envelope).toMatchObject({ mailFrom: 'bounce+abc@example.org', rcptTo: [address] })
  })

  test('a bad signature (another key): 401 invalid-signature, nothing stored', async () => {
    const forged = mailgunForm(sampleMail(address, 'forged mailgun'), 'f'.repeat(64))
    const response = await post(forged)
    expect(response.status).toBe(401)
    expect((await problemOf(response)).type).toEndWith('/invalid-signature')
  })

  test('a resent post of the same message is stored once and answers the same id', async () => {
    const raw = sampleMail(address, 'mailgun retry')
    const [first, second] = [await post(mailgunForm(raw)), await post(mailgunForm(raw))]
    const [a, b] = [(await first.json()) as Accepted, (await second.json()) as Accepted]
    expect(b.messages).toEqual([{ ...(a.messages[0] as Accepted['messages'][0]), duplicate: true }])
  })

  test('a form without body-mime (route not ending in "mime") is 400 saying so', async () => {
    const form = mailgunForm('x')
    form.delete('body-mime')
    const response = await post(form)
    expect(response.status).toBe(400)
    expect((await problemOf(response)).detail).toContain('body-mime')
  })
})

describe('SendGrid Inbound Parse, raw mode', () => {
  /** Raw mode's fields: the full MIME message in `email`, the SMTP envelope as JSON. */
  function parseForm(raw: string) {
    const form = new FormData()
    form.set('email', raw)
    form.set('envelope', JSON.stringify({ to: [address], from: 'bounce@example.org' }))
    form.set('sender_ip', '198.51.100.7')
    form.set('to', address)
    form.set('from', 'Example Accounts <accounts@example.org>')
    form.set('subject', 'SendGrid')
    form.set('charsets', JSON.stringify({ to: 'UTF-8', subject: 'UTF-8', from: 'UTF-8' }))
    form.set('SPF', 'pass')
    return form
  }
  /** The signed variant: ECDSA over the timestamp header followed by the exact body bytes. */
  async function signedPost(form: FormData, tamper = false) {
    const request = new Request(`${server.url}/v1/inbound/sendgrid`, { method: 'POST', body: form })
    const contentType = request.headers.get('content-type') as string
    const body = new Uint8Array(await request.arrayBuffer())
    const timestamp = nowSeconds()
    const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), body]), server.sendgridKey)
    if (tamper) body.set([(body.at(-10) as number) ^ 1], body.length - 10)
    return fetch(request.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': contentType,
        'x-twilio-email-event-webhook-signature': signature.toString('base64'),
        'x-twilio-email-event-webhook-timestamp': timestamp,
      },
    })
  }

  test('a good signature: 202, stored with source http:sendgrid, the envelope and sender IP', async () => {
    const response = await signedPost(parseForm(sampleMail(address, 'via sendgrid')))
    expect(response.status).toBe(202)
    const { messages } = (await response.json()) as Accepted
    const read = await server.read(messages[0]?.id as string)
    expect(read).toMatchObject({ source: 'http:sendgrid', subject: 'via sendgrid' })
    expect(read.envelope).toMatchObject({ mailFrom: 'bounce@example.org', remoteAddress: '198.51.100.7' })
  })

  test('a body changed after signing, or no signature: 401 invalid-signature', async () => {
    const tampered = await signedPost(parseForm(sampleMail(address, 'tampered')), true)
    expect(tampered.status).toBe(401)
    expect((await problemOf(tampered)).type).toEndWith('/invalid-signature')
    const unsigned = await fetch(`${server.url}/v1/inbound/sendgrid`, {
      method: 'POST',
      body: parseForm(sampleMail(address, 'unsigned')),
    })
    expect(unsigned.status).toBe(401)
  })

  test('without a public key configured, the shared secret in the URL (Basic) is what authenticates', async () => {
    const plain = await startInboundServer({ EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY: '' })
    try {
      const to = await plain.mailbox('plain')
      const form = () => {
        const body = parseForm(sampleMail(to, 'sendgrid basic'))
        body.set('envelope', JSON.stringify({ to: [to], from: 'bounce@example.org' }))
        return body
      }
      const url = new URL(`${plain.url}/v1/inbound/sendgrid`)
      url.username = 'sendgrid'
      url.password = INBOUND_SECRET
      expect((await fetch(url, { method: 'POST', body: form() })).status).toBe(202)
      url.password = 'wrong-secret'
      expect((await fetch(url, { method: 'POST', body: form() })).status).toBe(401)
    } finally {
      await plain.close()
    }
  })

  test('an envelope that is not JSON is 400', async () => {
    const form = parseForm(sampleMail(address, 'bad envelope'))
    form.set('envelope', 'to=someone')
    const response = await signedPost(form)
    expect(response.status).toBe(400)
    expect((await problemOf(response)).detail).toContain('envelope')
  })
})

describe('Postmark inbound JSON (Basic credentials in the webhook URL)', () => {
  /** The documented inbound webhook shape (https://postmarkapp.com/developer/webhooks/inbound-webhook). */
  const payload = (messageId: string) => ({
    FromName: 'Example Accounts',
    MessageStream: 'inbound',
    From: 'accounts@example.org',
    FromFull: { Email: 'accounts@example.org', Name: 'Example Accounts', MailboxHash: '' },
    To: `"Provider Test" <${address}>`,
    ToFull: [{ Email: address, Name: 'Provider Test', MailboxHash: '' }],
    Cc: '',
    CcFull: [],
    Bcc: '',
    BccFull: [],
    OriginalRecipient: address,
    Subject: 'Votre code de vérification',
    MessageID: messageId,
    ReplyTo: 'support@example.org',
    MailboxHash: '',
    Date: 'Tue, 1 Dec 2026 10:00:00 +0000',
    TextBody: 'Votre code est 482913.',
    HtmlBody: '<p>Votre code est <b>482913</b>.</p>',
    StrippedTextReply: '',
    Tag: '',
    Headers: [
      { Name: 'X-Spam-Status', Value: 'No' },
      { Name: 'Received-SPF', Value: 'pass (example.org: 198.51.100.7 is authorized)' },
      { Name: 'Message-ID', Value: `<${messageId}@mail.example.org>` },
    ],
    Attachments: [
      {
        Name: 'facture.pdf',
        Content: Buffer.from('%PDF-1.4 test document').toString('base64'),
        ContentType: 'application/pdf',
        ContentLength: 22,
      },
    ],
  })
  const post = (body: unknown, credentials = `${POSTMARK.user}:${POSTMARK.password}`) => {
    const url = new URL(`${server.url}/v1/inbound/postmark`)
    const [user, password] = credentials.split(':')
    url.username = user as string
    url.password = password as string
    return fetch(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    })
  }

  test('good credentials: 202, rebuilt with its headers, text, HTML and attachment, source http:postmark', async () => {
    const response = await post(payload(crypto.randomUUID()))
    expect(response.status).toBe(202)
    const { messages } = (await response.json()) as Accepted
    const read = (await server.read(messages[0]?.id as string)) as Record<string, unknown>
    expect(read).toMatchObject({
      source: 'http:postmark',
      subject: 'Votre code de vérification',
      from: { address: 'accounts@example.org', name: 'Example Accounts' },
      text: expect.stringContaining('Votre code est 482913.'),
      html: expect.stringContaining('<b>482913</b>'),
      attachments: [
        expect.objectContaining({ filename: 'facture.pdf', contentType: 'application/pdf', size: 22 }),
      ],
    })
    const headers = read.headers as { name: string; value: string }[]
    expect(headers).toContainEqual({ name: 'X-Spam-Status', value: 'No' })
  })

  test('wrong credentials: 401 with a Basic challenge, nothing stored', async () => {
    const response = await post(payload(crypto.randomUUID()), `${POSTMARK.user}:wrong`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toStartWith('Basic')
  })

  test('a retried webhook (same MessageID) is stored once and answers the same id', async () => {
    const body = payload(crypto.randomUUID())
    const [a, b] = [
      (await (await post(body)).json()) as Accepted,
      (await (await post(body)).json()) as Accepted,
    ]
    expect(b.messages).toEqual([{ ...(a.messages[0] as Accepted['messages'][0]), duplicate: true }])
  })

  test('JSON that is not a Postmark message is 400; an unknown recipient is 422', async () => {
    expect((await post({ hello: 'world' })).status).toBe(400)
    const stranger = { ...payload(crypto.randomUUID()), OriginalRecipient: 'ghost@ephemail.test', ToFull: [] }
    const response = await post(stranger)
    expect(response.status).toBe(422)
    expect((await problemOf(response)).detail).toContain('ghost@ephemail.test')
  })
})
