// One server with every ingest source on (EPHEMAIL_INGEST=smtp,http,imap): one message through each at the same time,
// by nodemailer over SMTP, fetch to POST /v1/inbound with the secret, and a real Dovecot polled over IMAP; all three
// are read back through the API with their source.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Dovecot, startDovecot } from './support/dovecot.ts'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { sendMail } from './support/ephemail-process.ts'

const INBOUND_SECRET = 'sources-test-inbound-secret-0123'
const dovecot = await startDovecot()
if (!dovecot) console.warn('ingest-sources: no Dovecot here, so the three-source test is skipped (see above)')

/** A message as a sending server writes it, unique per call. */
function mail(to: string, subject: string, code: string): string {
  return [
    'Return-Path: <no-reply@acme.example>',
    `Delivered-To: ${to}`,
    'From: Acme Accounts <no-reply@acme.example>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${crypto.randomUUID()}@acme.example>`,
    'Date: Wed, 02 Dec 2026 09:30:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Your Acme sign-in code is ${code}.`,
    '',
  ].join('\r\n')
}

interface Listed {
  id: string
  subject: string | null
  source: string
  otp: string | null
}

describe.skipIf(!dovecot)('SMTP, HTTP and IMAP at once into one server', () => {
  const server = dovecot as Dovecot
  let ephemail: TestEphemail
  beforeAll(async () => {
    server.createFolder('sources')
    ephemail = await startTestEphemail({
      EPHEMAIL_INGEST: 'smtp,http,imap',
      EPHEMAIL_INBOUND_SECRET: INBOUND_SECRET,
      EPHEMAIL_IMAP_URL: server.url({ mailbox: 'sources', name: 'catchall' }),
    })
  })
  afterAll(async () => {
    await ephemail?.stop()
    await dovecot?.close()
  })

  test('one message through each source reaches the mailbox, each with its source', async () => {
    const { address } = await ephemail.createMailbox(`sources-${crypto.randomUUID().slice(0, 8)}`)
    const run = crypto.randomUUID().slice(0, 8)
    const sent = { smtp: '311402', http: '522613', imap: '733824' }
    await Promise.all([
      sendMail({
        port: ephemail.smtpPort,
        to: address,
        from: 'no-reply@acme.example',
        subject: `${run} via smtp`,
        body: `Your Acme sign-in code is ${sent.smtp}.`,
      }).then((result) => expect(result.accepted).toEqual([address])),
      fetch(
        `http://127.0.0.1:${ephemail.httpPort}/v1/inbound?to=${encodeURIComponent(address)}&from=no-reply@acme.example`,
        {
          method: 'POST',
          headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${INBOUND_SECRET}` },
          body: mail(address, `${run} via http`, sent.http),
        },
      ).then((response) => expect(response.status).toBe(202)),
      Promise.resolve(server.deliver(mail(address, `${run} via imap`, sent.imap), 'sources')),
    ])

    // Read back through the API: each message, processed (its code extracted), with the source that took it.
    let listed: Listed[] = []
    const deadline = Date.now() + 30_000
    for (;;) {
      const response = await ephemail.api(`/v1/mailboxes/${encodeURIComponent(address)}/messages`)
      expect(response.status).toBe(200)
      listed = ((await response.json()) as { items: Listed[] }).items.filter((item) =>
        item.subject?.startsWith(run),
      )
      if (listed.length === 3 && listed.every((item) => item.otp !== null)) break
      if (Date.now() > deadline) throw new Error(`after 30 s: ${JSON.stringify(listed)}\n${server.log()}`)
      await Bun.sleep(100)
    }
    const bySubject = Object.fromEntries(listed.map((item) => [item.subject, item]))
    expect(bySubject[`${run} via smtp`]).toMatchObject({ source: 'smtp', otp: sent.smtp })
    expect(bySubject[`${run} via http`]).toMatchObject({ source: 'http:raw', otp: sent.http })
    expect(bySubject[`${run} via imap`]).toMatchObject({ source: 'imap:catchall', otp: sent.imap })
    // Each message read alone shows the same source.
    for (const item of listed) {
      const detail = (await (await ephemail.api(`/v1/messages/${item.id}`)).json()) as { source: string }
      expect(detail.source).toBe(item.source)
    }
    // The IMAP source removed its copy from the server once stored (EPHEMAIL_IMAP_AFTER's default, delete).
    const deadlineGone = Date.now() + 10_000
    while (server.files('sources').length > 0) {
      if (Date.now() > deadlineGone)
        throw new Error(`still on the server: ${JSON.stringify(server.files('sources'))}`)
      await Bun.sleep(100)
    }
  }, 60_000)
})
