// SMTP rates per client address: connections per minute refused at the greeting, messages per hour at MAIL FROM, both 421 and closed.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import nodemailer from 'nodemailer'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { SmtpTestClient } from './support/smtp-client.ts'
import { forEachSmtpServer } from './support/smtp-session.ts'

forEachSmtpServer((smtpServer) => {
  const CONNECTIONS_PER_MINUTE = 4
  const MESSAGES_PER_HOUR = 3

  describe('SMTP rates per client address', () => {
    let eph: TestEphemail
    let address: string

    beforeAll(async () => {
      eph = await startTestEphemail({
        EPHEMAIL_SMTP_SERVER: smtpServer,
        EPHEMAIL_SMTP_CONNECTIONS_PER_MINUTE_PER_IP: String(CONNECTIONS_PER_MINUTE),
        EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP: String(MESSAGES_PER_HOUR),
      })
      address = (await eph.createMailbox('rate-target')).address
    }, 60_000)
    afterAll(() => eph?.stop())

    async function greeted(localAddress: string) {
      const client = await SmtpTestClient.connect(eph.smtpPort, '127.0.0.1', localAddress)
      return { client, greeting: await client.readReply() }
    }

    test('connections past the per-minute rate get 421 4.7.0 naming the limit, then the close; another address still gets in', async () => {
      // One after another, each closed before the next: the concurrent cap is not what refuses them.
      for (let i = 0; i < CONNECTIONS_PER_MINUTE; i++) {
        const { client, greeting } = await greeted('127.0.0.11')
        expect(greeting.code).toBe(220)
        await client.command('QUIT')
        await client.waitClosed()
      }
      const refused = await greeted('127.0.0.11')
      expect(refused.greeting.code).toBe(421)
      expect(refused.greeting.enhanced).toBe('4.7.0')
      expect(refused.greeting.text).toContain(`at most ${CONNECTIONS_PER_MINUTE} per minute`)
      expect(refused.greeting.text).toContain('127.0.0.11')
      await refused.client.waitClosed()
      const other = await greeted('127.0.0.12')
      expect(other.greeting.code).toBe(220)
      await other.client.command('QUIT')
    })

    test('messages past the per-hour rate: 421 at MAIL FROM and the close; what was accepted before is stored', async () => {
      const { client } = await greeted('127.0.0.21')
      await client.command('EHLO rate.test')
      for (let i = 0; i < MESSAGES_PER_HOUR; i++) {
        expect((await client.command('MAIL FROM:<sender@example.org>')).code).toBe(250)
        expect((await client.command(`RCPT TO:<${address}>`)).code).toBe(250)
        expect((await client.command('DATA')).code).toBe(354)
        client.write(`Subject: rate ${i}\r\nFrom: sender@example.org\r\n\r\nNumber ${i}.\r\n.\r\n`)
        expect((await client.readReply()).code).toBe(250)
      }
      const refused = await client.command('MAIL FROM:<sender@example.org>')
      expect(refused.code).toBe(421)
      expect(refused.enhanced).toBe('4.7.0')
      expect(refused.text).toContain(`at most ${MESSAGES_PER_HOUR} per hour`)
      await client.waitClosed()
      const stored = await eph.listMessages(address)
      expect(stored.map((message) => message.subject).sort()).toEqual(['rate 0', 'rate 1', 'rate 2'])
    })

    test('nodemailer from an address over its hourly rate gets an error it can retry on (4xx), not a bounce', async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: eph.smtpPort,
        ignoreTLS: true,
        localAddress: '127.0.0.31',
        // One connection for every message: it is the message rate that refuses, not the connection rate.
        pool: true,
        maxConnections: 1,
      })
      try {
        for (let i = 0; i < MESSAGES_PER_HOUR; i++)
          await transport.sendMail({ from: 'a@example.org', to: address, subject: `nm ${i}`, text: 'hi' })
        const error = (await transport
          .sendMail({ from: 'a@example.org', to: address, subject: 'one too many', text: 'hi' })
          .then(
            () => null,
            (failure: Error & { responseCode?: number }) => failure,
          )) as (Error & { responseCode?: number }) | null
        expect(error?.responseCode).toBe(421)
        expect(error?.message).toContain(`at most ${MESSAGES_PER_HOUR} per hour`)
      } finally {
        transport.close()
      }
      const subjects = (await eph.listMessages(address)).map((message) => message.subject)
      expect(subjects).not.toContain('one too many')
      expect(subjects.filter((subject) => subject?.startsWith('nm '))).toHaveLength(MESSAGES_PER_HOUR)
    })
  })
})
