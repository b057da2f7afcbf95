// SMTP ingest limits over a bare TCP conversation: recipients per message, message size, clients that
// vanish in the middle of DATA, and the idle and session time limits.

import { describe, expect, spyOn, test } from 'bun:test'
import { dataPayload, type SmtpReply } from './support/smtp-client.ts'
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

    test('the fourth RCPT gets 452 and the message goes to the first three only', async () => {
      const { eph } = server
      const boxes = await Promise.all(['fan-1', 'fan-2', 'fan-3', 'fan-4'].map((l) => eph.createMailbox(l)))
      const [a, b, c, d] = boxes.map((box) => box.address) as [string, string, string, string]
      const client = await server.session()
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      for (const address of [a, b, c]) expectReply(await client.command(`RCPT TO:<${address}>`), 250)
      const fourth = expectReply(await client.command(`RCPT TO:<${d}>`), 452)
      expect(fourth.text).toBe('Error: too many recipients')
      // Repeating an accepted recipient is not a new one.
      expectReply(await client.command(`RCPT TO:<${a}>`), 250)

      expectReply(await client.command('DATA'), 354)
      client.write(dataPayload(simpleMessage(a, 'Fan-out')))
      const ids = storedIds(await client.readReply())
      expect(ids).toHaveLength(3)
      for (const address of [a, b, c])
        expect((await eph.listMessages(address)).map((item) => item.subject)).toEqual(['Fan-out'])
      expect(await eph.listMessages(d)).toEqual([])
      expectReply(await client.command('QUIT'), 221)
    })

    test('MAIL FROM with SIZE above the limit gets 552', async () => {
      const client = await server.session()
      const reply = expectReply(await client.command('MAIL FROM:<raw@example.org> SIZE=999999'), 552)
      expect(reply.text).toBe(`Error: message exceeds fixed maximum message size ${MAX_MESSAGE_BYTES}`)
      // At the limit is fine.
      expectReply(await client.command(`MAIL FROM:<raw@example.org> SIZE=${MAX_MESSAGE_BYTES}`), 250)
      expectReply(await client.command('QUIT'), 221)
    })

    test('a DATA body over the limit gets 552 before its end, the connection is closed, nothing is stored', async () => {
      const { address } = await server.eph.createMailbox('too-big')
      const client = await server.session()
      const line = `${'x'.repeat(76)}\r\n`
      const oversized = simpleMessage(address, 'Too big', line.repeat(Math.ceil(MAX_MESSAGE_BYTES / 78) + 10))
      expect(oversized.length).toBeGreaterThan(MAX_MESSAGE_BYTES)

      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      expectReply(await client.command(`RCPT TO:<${address}>`), 250)
      expectReply(await client.command('DATA'), 354)
      // Without the final dot: reading on to the end of an oversize message only to refuse it would let
      // one client hold that much memory and time.
      client.write(oversized)
      const reply = expectReply(await client.readReply(), 552, '5.3.4')
      expect(reply.text).toBe('Message exceeds the size limit, closing connection')
      await client.waitClosed()
      expect(await server.eph.listMessages(address)).toEqual([])

      // A new connection delivers normally.
      const next = await server.session()
      const id = storedId(await server.deliver(next, [address], simpleMessage(address, 'Small enough')))
      expect((await server.eph.listMessages(address)).map((item) => [item.id, item.subject])).toEqual([
        [id, 'Small enough'],
      ])
      expectReply(await next.command('QUIT'), 221)
    })

    test('a message of exactly the size limit is stored byte for byte, one byte more is refused', async () => {
      const { address } = await server.eph.createMailbox('at-limit')
      const head = simpleMessage(address, 'Exactly at the limit', '.A line that starts with a dot\r\n')
      // Lines of 98 octets and a shorter last one: every line stays within RFC 5322's 998.
      const filler = (length: number) =>
        `${`${'y'.repeat(96)}\r\n`.repeat(Math.floor((length - 2) / 98))}${'y'.repeat((length - 2) % 98)}\r\n`
      const exact = head + filler(MAX_MESSAGE_BYTES - head.length)
      expect(exact.length).toBe(MAX_MESSAGE_BYTES)
      // One byte over: refused at once and the connection closed, so the exact one goes on a new one.
      const over = await server.session()
      expectReply(await server.deliver(over, [address], `${exact.slice(0, -2)}z\r\n`), 552, '5.3.4')
      await over.waitClosed()
      const client = await server.session()
      const id = storedId(await server.deliver(client, [address], exact))
      const raw = await server.eph.getRaw(id)
      expect(raw.byteLength).toBe(MAX_MESSAGE_BYTES)
      expect(latin1(raw)).toBe(exact) // dot-stuffing undone, nothing added or trimmed
      expect((await server.eph.listMessages(address)).map((item) => [item.id, item.size])).toEqual([
        [id, MAX_MESSAGE_BYTES],
      ])
      expectReply(await client.command('QUIT'), 221)
    })

    /** Starts a message, sends part of it and drops the connection; then delivers one complete message. */
    async function abandonDataThenDeliver(localPart: string) {
      const { address } = await server.eph.createMailbox(localPart)
      const client = await server.session()
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      expectReply(await client.command(`RCPT TO:<${address}>`), 250)
      expectReply(await client.command('DATA'), 354)
      client.write(
        simpleMessage(address, 'Never finished', 'first line\r\nsecond line, then the client vanishes'),
      )
      await Bun.sleep(100) // let the server read the partial body before the socket goes
      await client.abort()
      const afterAbort = await server.eph.listMessages(address)

      const next = await server.session()
      const id = storedId(await server.deliver(next, [address], simpleMessage(address, 'Complete')))
      expectReply(await next.command('QUIT'), 221)
      return { address, afterAbort, id }
    }

    test('a client that disconnects in the middle of DATA leaves nothing stored', async () => {
      const { address, afterAbort, id } = await abandonDataThenDeliver('cut-off')
      expect(afterAbort).toEqual([])
      // The later complete delivery is the only message the mailbox holds.
      expect((await server.eph.listMessages(address)).map((item) => [item.id, item.subject])).toEqual([
        [id, 'Complete'],
      ])
    })

    // smtp-server ends the stream with ECONNECTION when the client goes away; that is not a
    // storage failure and must not be logged as one.
    test('a client that disconnects in the middle of DATA is not logged as a storage failure', async () => {
      const errors = spyOn(console, 'error').mockImplementation(() => {})
      try {
        await abandonDataThenDeliver('cut-off-quiet')
        expect(errors.mock.calls.map((call) => String(call[0]))).not.toContain(
          'smtp: storing a message failed',
        )
      } finally {
        errors.mockRestore()
      }
    })
  })

  describe('SMTP ingest: connection time limits', () => {
    const server = useServer({
      EPHEMAIL_SMTP_SERVER: smtpServer,
      EPHEMAIL_SMTP_SOCKET_TIMEOUT_MS: '1000',
      EPHEMAIL_SMTP_SESSION_TIMEOUT_MS: '1500',
    })

    test('a client that keeps sending NOOP is still cut off at the session deadline with 421 4.4.2', async () => {
      const client = await server.session()
      let answered = 0
      let last: SmtpReply
      for (;;) {
        await Bun.sleep(300)
        // The 421 may already be waiting (or the socket gone); read it rather than talk over it.
        if (client.unreadLines === 0 && !client.closed) client.send('NOOP')
        last = await client.readReply()
        if (last.code !== 250) break
        answered++
        if (answered > 20) throw new Error(`never cut off\n${client.dump()}`)
      }
      expectReply(last, 421, '4.4.2')
      expect(last.text).toBe('Session time limit exceeded, closing connection')
      await client.waitClosed()
      // It was busy all along (NOOPs three times as often as the idle timeout), so this was the deadline.
      expect(answered).toBeGreaterThanOrEqual(3)
    })

    test('an idle client is disconnected with 421 after the socket timeout', async () => {
      const client = await server.connect()
      expectReply(await client.readReply(), 220)
      const reply = expectReply(await client.readReply(3_000), 421)
      expect(reply.text).toBe('Timeout - closing connection')
      await client.waitClosed()
    })
  })

  describe('SMTP ingest: a full mailbox', () => {
    const server = useServer({
      EPHEMAIL_SMTP_SERVER: smtpServer,
      EPHEMAIL_RATE_PLANS: '{"anonymous":{"messagesPerMailbox":1}}',
    })

    test('a mailbox holding its plan’s messagesPerMailbox gets 452 4.2.2 at RCPT, and 250 again once one is deleted', async () => {
      const { eph } = server
      // Anonymous: the anonymous plan (one message) applies, not the admin's (no limit).
      const created = await fetch(`http://127.0.0.1:${eph.httpPort}/v1/mailboxes`, { method: 'POST' })
      const box = (await created.json()) as { address: string; token: string }
      const deliver = async (expected: number) => {
        const client = await server.session()
        expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
        const reply = await client.command(`RCPT TO:<${box.address}>`)
        expect(reply.code).toBe(expected)
        if (expected === 250) {
          expectReply(await client.command('DATA'), 354)
          client.write(dataPayload(simpleMessage(box.address, 'Fills it')))
          storedId(await client.readReply())
        }
        expectReply(await client.command('QUIT'), 221)
        return reply
      }
      await deliver(250)
      const full = await deliver(452)
      expect(full.enhanced).toBe('4.2.2')
      expect(full.text).toBe('Mailbox full: it holds as many messages as its plan allows')
      const [stored] = await eph.listMessages(box.address)
      const removed = await eph.api(`/v1/messages/${stored?.id}`, { method: 'DELETE' })
      expect(removed.status).toBe(204)
      await deliver(250)
    })
  })
})
