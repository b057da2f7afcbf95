// Registered domains against the real thing: MX lookups through a real resolver asking a DNS server on loopback,
// and real SMTP that starts accepting a newly verified domain without a restart and refuses it once deleted.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createMxResolver } from '#server/pipeline/mx-resolver.ts'
import { type MxTable, startTestDnsServer, type TestDnsServer } from './support/dns-server.ts'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { SmtpTestClient } from './support/smtp-client.ts'
import { expectReply, forEachSmtpServer } from './support/smtp-session.ts'

forEachSmtpServer((smtpServer) => {
  const MX = 'mx.ephemail.example'

  describe('registered domains with real DNS and real SMTP', () => {
    let dns: TestDnsServer
    let eph: TestEphemail

    beforeAll(async () => {
      dns = await startTestDnsServer(
        new Map<string, Parameters<MxTable['set']>[1]>([
          ['mail.acme.example', [{ exchange: `${MX}.`, priority: 10 }]],
          ['elsewhere.acme.example', [{ exchange: 'mx.other.example', priority: 10 }]],
          ['nodata.acme.example', []],
          ['broken.acme.example', 'servfail'],
        ]),
      )
      eph = await startTestEphemail({
        EPHEMAIL_SMTP_SERVER: smtpServer,
        EPHEMAIL_MX_HOSTS: MX,
        EPHEMAIL_DOMAIN_DNS_SERVERS: dns.address,
      })
    })
    afterAll(async () => {
      await eph?.stop()
      await dns?.close()
    })

    test('the MX resolver reads real DNS answers: records, NXDOMAIN, no records, SERVFAIL', async () => {
      const resolver = createMxResolver({ servers: [dns.address], timeoutMs: 2000 })
      expect(await resolver.resolveMx('mail.acme.example')).toEqual([{ exchange: MX, priority: 10 }])
      const codeOf = (name: string) =>
        resolver.resolveMx(name).then(
          () => 'answered',
          (error: { code?: string }) => String(error.code),
        )
      expect(await codeOf('missing.acme.example')).toBe('ENOTFOUND')
      // NOERROR without records: ENODATA in Node, ENOTFOUND in Bun; either reads as "no MX record".
      expect(['ENODATA', 'ENOTFOUND']).toContain(await codeOf('nodata.acme.example'))
      expect(await codeOf('broken.acme.example')).toBe('ESERVFAIL')
      expect(dns.queries).toContain('missing.acme.example')
    })

    test('SMTP accepts mail for a domain as soon as it is verified, and answers 550 once it is deleted', async () => {
      const json = { 'content-type': 'application/json' }
      const rcpt = async (address: string) => {
        const client = await SmtpTestClient.connect(eph.smtpPort)
        try {
          expectReply(await client.readReply(), 220)
          expectReply(await client.command('EHLO client.test'), 250)
          expectReply(await client.command('MAIL FROM:<sender@example.org>'), 250)
          return await client.command(`RCPT TO:<${address}>`)
        } finally {
          await client.abort()
        }
      }
      expectReply(await rcpt('signup@mail.acme.example'), 550, '5.1.2')

      const elsewhere = await eph.api('/v1/admin/domains', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'elsewhere.acme.example', type: 'public' }),
      })
      expect(await elsewhere.json()).toMatchObject({
        status: 'pending',
        problems: [`MX points at mx.other.example, expected one of ${MX}`],
      })
      expectReply(await rcpt('signup@elsewhere.acme.example'), 550, '5.1.2')

      const registered = await eph.api('/v1/admin/domains', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'mail.acme.example', type: 'public' }),
      })
      expect(registered.status).toBe(201)
      expect(await registered.json()).toMatchObject({ status: 'verified', mxHosts: [MX], problems: [] })

      const { address } = await eph.createMailbox('signup', { domain: 'mail.acme.example' })
      expectReply(await rcpt(address), 250)
      await eph.send({ to: address, subject: 'Welcome to Acme', text: 'Your code is 482913' })
      expect((await eph.listMessages(address)).map((message) => message.subject)).toEqual(['Welcome to Acme'])

      expect((await eph.api('/v1/admin/domains/mail.acme.example', { method: 'DELETE' })).status).toBe(204)
      const refused = expectReply(await rcpt(address), 550, '5.1.2')
      expect(refused.text).toBe('This server does not receive mail for that domain')
      // The mailbox and its mail stay until the mailbox expires.
      expect(await eph.listMessages(address)).toHaveLength(1)
    })
  })
})
