// SMTP ingest end to end over a bare TCP conversation: greeting, RCPT replies, command order, PIPELINING,
// several recipients and sub-addressing, expired mailboxes, and what the API then shows was stored.

import { describe, expect, test } from 'bun:test'
import { dataPayload } from './support/smtp-client.ts'
import {
  expectReply,
  forEachSmtpServer,
  latin1,
  MAX_MESSAGE_BYTES,
  simpleMessage,
  storedId,
  storedIds,
  useServer,
} from './support/smtp-session.ts'

forEachSmtpServer((smtpServer) => {
  describe('SMTP ingest', () => {
    const server = useServer({ EPHEMAIL_SMTP_SERVER: smtpServer })

    test('greets, advertises SIZE and PIPELINING but not STARTTLS or AUTH, and says goodbye', async () => {
      const client = await server.connect()
      const greeting = expectReply(await client.readReply(), 220)
      expect(greeting.lines).toEqual(['220 ephemail.test ESMTP Ephemail ready'])

      const ehlo = expectReply(await client.command('EHLO client.test'), 250)
      expect(ehlo.lines[0]).toStartWith('250-ephemail.test ')
      expect(ehlo.lines).toContain('250-PIPELINING')
      expect(ehlo.lines).toContain(`250 SIZE ${MAX_MESSAGE_BYTES}`)
      expect(ehlo.lines.some((line) => /STARTTLS|AUTH/.test(line))).toBe(false)

      // Disabled commands are unknown commands.
      expectReply(await client.command('STARTTLS'), 500)
      expectReply(await client.command('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), 500)

      expectReply(await client.command('QUIT'), 221)
      await client.waitClosed()
    })

    test('RCPT: unknown mailbox 550 5.1.1, foreign domain 550 5.1.2, malformed addresses 501 / 553 5.1.3', async () => {
      const { address } = await server.eph.createMailbox('rcpt-live')
      const client = await server.session()
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)

      const unknown = expectReply(await client.command('RCPT TO:<nobody-here@ephemail.test>'), 550, '5.1.1')
      expect(unknown.text).toBe('No such mailbox here (it may have expired)')
      // A domain we serve, but a mailbox that lives on the other one.
      expectReply(await client.command('RCPT TO:<rcpt-live@other.test>'), 550, '5.1.1')
      const foreign = expectReply(await client.command('RCPT TO:<rcpt-live@example.com>'), 550, '5.1.2')
      expect(foreign.text).toBe('This server does not receive mail for that domain')

      // Rejected by the SMTP parser itself: no @, empty local part, consecutive dots, no brackets.
      expectReply(await client.command('RCPT TO:<no-at-sign>'), 501)
      expectReply(await client.command('RCPT TO:<@ephemail.test>'), 501)
      expectReply(await client.command('RCPT TO:<a..b@ephemail.test>'), 501)
      expectReply(await client.command('RCPT TO:rcpt-live@ephemail.test'), 501)
      // Parsed by SMTP, but no address a mailbox could ever have.
      const odd = expectReply(await client.command('RCPT TO:<bad!name@ephemail.test>'), 553, '5.1.3')
      expect(odd.text).toBe('Recipient address is not a valid mailbox address')
      expectReply(await client.command('RCPT TO:<"rcpt-live"@ephemail.test>'), 553, '5.1.3')

      // No recipient was accepted, so there is nothing to send.
      expectReply(await client.command('DATA'), 503)
      // The live one still works on the same transaction, and is the only one that gets the message.
      expectReply(await client.command(`RCPT TO:<${address}>`), 250)
      expectReply(await client.command('DATA'), 354)
      client.write(dataPayload(simpleMessage(address, 'After the refusals')))
      const id = storedId(await client.readReply())
      expect((await server.eph.listMessages(address)).map((item) => item.id)).toEqual([id as string])
      expectReply(await client.command('QUIT'), 221)
    })

    test('a client that talks before the greeting gets 421 and is disconnected', async () => {
      const client = await server.connect()
      client.send('EHLO early.test') // well inside the 100 ms the server waits before greeting
      const reply = expectReply(await client.readReply(), 421)
      expect(reply.text).toBe('ephemail.test You talk too soon')
      await client.waitClosed()
      // The greeting never came.
      expect(client.transcript.filter((line) => line.startsWith('S: '))).toEqual([
        'S: 421 ephemail.test You talk too soon',
      ])
    })

    test('commands out of order or unknown are refused: 500 and 503', async () => {
      const { address } = await server.eph.createMailbox('sequence')
      const client = await server.connect()
      expectReply(await client.readReply(), 220)
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 503) // before EHLO
      expectReply(await client.command('EHLO client.test'), 250)

      const unknown = expectReply(await client.command('FROBNICATE now'), 500)
      expect(unknown.text).toBe('Error: command not recognized')
      const rcpt = expectReply(await client.command(`RCPT TO:<${address}>`), 503)
      expect(rcpt.text).toBe('Error: need MAIL command')
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 503) // nested MAIL
      const data = expectReply(await client.command('DATA'), 503)
      expect(data.text).toBe('Error: need RCPT command')
      expectReply(await client.command('RSET'), 250)
      expectReply(await client.command('DATA'), 503) // RSET dropped the sender too
      expectReply(await client.command(`RCPT TO:<${address}>`), 503)
      expectReply(await client.command('NOOP'), 250)
      expectReply(await client.command('QUIT'), 221)
      await client.waitClosed()
      expect(await server.eph.listMessages(address)).toEqual([])
    })

    test('PIPELINING: MAIL, RCPT and DATA in one write get their three replies in order', async () => {
      const { address } = await server.eph.createMailbox('piped')
      const client = await server.session()
      client.write(`MAIL FROM:<raw@example.org>\r\nRCPT TO:<${address}>\r\nDATA\r\n`, 'MAIL, RCPT, DATA')
      expectReply(await client.readReply(), 250)
      expectReply(await client.readReply(), 250)
      expectReply(await client.readReply(), 354)
      client.write(dataPayload(simpleMessage(address, 'Pipelined')))
      const id = storedId(await client.readReply())

      // A second transaction and QUIT pipelined whole, body and all.
      client.write(
        `MAIL FROM:<raw@example.org>\r\nRCPT TO:<${address}>\r\nDATA\r\n` +
          `${dataPayload(simpleMessage(address, 'Pipelined twice'))}QUIT\r\n`,
        'MAIL, RCPT, DATA, message, QUIT',
      )
      expect(
        [await client.readReply(), await client.readReply(), await client.readReply()].map((r) => r.code),
      ).toEqual([250, 250, 354])
      const second = storedId(await client.readReply())
      expectReply(await client.readReply(), 221)
      await client.waitClosed()

      const listed = await server.eph.listMessages(address)
      expect(listed.map((item) => [item.id, item.subject])).toEqual([
        [second, 'Pipelined twice'],
        [id, 'Pipelined'],
      ])
    })

    test('one message to two mailboxes is stored once in each', async () => {
      const { eph } = server
      const first = (await eph.createMailbox('twin-a')).address
      const second = (await eph.createMailbox('twin-b', { domain: 'other.test' })).address
      const client = await server.session()
      const message = simpleMessage(`${first}, ${second}`, 'For both of you')
      const ids = storedIds(await server.deliver(client, [first, second], message))
      expect(ids).toHaveLength(2)
      expect(new Set(ids).size).toBe(2)

      const listedFirst = await eph.listMessages(first)
      const listedSecond = await eph.listMessages(second)
      expect(listedFirst.map((item) => item.subject)).toEqual(['For both of you'])
      expect(listedSecond.map((item) => item.subject)).toEqual(['For both of you'])
      expect(new Set([listedFirst[0]?.id, listedSecond[0]?.id])).toEqual(new Set(ids))
      for (const id of ids) {
        expect(latin1(await eph.getRaw(id))).toBe(message)
        expect((await eph.getMessage(id)).envelope.rcptTo).toEqual([first, second])
      }
      expectReply(await client.command('QUIT'), 221)
    })

    test('sub-addressing and case: local+tag@ and LOCAL@ reach local@, and one copy is stored', async () => {
      const { eph } = server
      const { address } = await eph.createMailbox('tagged')
      const client = await server.session()

      const tagged = storedId(
        await server.deliver(client, ['tagged+newsletter@ephemail.test'], simpleMessage(address, 'Tagged')),
      )
      expect((await eph.getMessage(tagged)).envelope.rcptTo).toEqual(['tagged+newsletter@ephemail.test'])

      // Three spellings of one mailbox in one transaction: a single stored copy.
      const single = storedId(
        await server.deliver(
          client,
          ['TAGGED@EPHEMAIL.TEST', 'tagged+a@ephemail.test', 'tagged@ephemail.test'],
          simpleMessage(address, 'Three spellings'),
        ),
      )
      expect((await eph.listMessages(address)).map((item) => [item.id, item.subject])).toEqual([
        [single, 'Three spellings'],
        [tagged, 'Tagged'],
      ])
      // A tag on an address with no mailbox behind it is still unknown.
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      expectReply(await client.command('RCPT TO:<untagged+x@ephemail.test>'), 550, '5.1.1')
      expectReply(await client.command('QUIT'), 221)
    })
  })

  describe('SMTP ingest: expired mailboxes', () => {
    const server = useServer({ EPHEMAIL_SMTP_SERVER: smtpServer, EPHEMAIL_TTL_MIN_SECONDS: '1' })

    async function shortLivedMailbox(localPart: string) {
      const created = await server.eph.createMailbox(localPart, { ttlSeconds: 1 })
      return {
        ...created,
        waitUntilExpired: () => Bun.sleep(Date.parse(created.expiresAt) - Date.now() + 200),
      }
    }

    test('RCPT to a mailbox past its expiry gets 550 5.1.1', async () => {
      const mailbox = await shortLivedMailbox('brief')
      const client = await server.session()
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      expectReply(await client.command(`RCPT TO:<${mailbox.address}>`), 250) // still live
      expectReply(await client.command('RSET'), 250)

      await mailbox.waitUntilExpired()
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      const reply = expectReply(await client.command(`RCPT TO:<${mailbox.address}>`), 550, '5.1.1')
      expect(reply.text).toBe('No such mailbox here (it may have expired)')
      expectReply(await client.command('QUIT'), 221)
    })

    test('a mailbox that expires between RCPT and the dot: 550 5.1.1 after DATA and nothing stored', async () => {
      const mailbox = await shortLivedMailbox('fleeting')
      const client = await server.session()
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      expectReply(await client.command(`RCPT TO:<${mailbox.address}>`), 250)
      expectReply(await client.command('DATA'), 354)

      await mailbox.waitUntilExpired()
      client.write(dataPayload(simpleMessage(mailbox.address, 'Too late')))
      const reply = expectReply(await client.readReply(), 550, '5.1.1')
      expect(reply.text).toBe('None of the recipients has a mailbox here any more')
      expect((await server.eph.running.storage.listMessages(mailbox.id, { limit: 10 })).items).toEqual([])
      expectReply(await client.command('QUIT'), 221)
    })
  })
})
