// SMTP ingest end to end: real clients (nodemailer, swaks, a bare TCP conversation) against a
// running Ephemail, checking every reply code and what the API then shows was stored.

import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import { Transform } from 'node:stream'
import nodemailer from 'nodemailer'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { dataPayload, type SmtpReply, SmtpTestClient } from './support/smtp-client.ts'
import { swaksAvailable } from './support/swaks.ts'

const MAX_MESSAGE_BYTES = 20_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Checks code and enhanced code; the whole reply is in the diff when it fails. Ephemail's own
 * replies open with an enhanced code; smtp-server's built-in ones carry none (its enhanced codes
 * are off), so `null` is asserted for those: turning them on would double the ones Ephemail writes.
 */
function expectReply(reply: SmtpReply, code: number, enhanced: string | null = null): SmtpReply {
  expect({ code: reply.code, enhanced: reply.enhanced, lines: reply.lines }).toMatchObject({ code, enhanced })
  return reply
}

/** The message ids the server names in its 250 after DATA ("2.0.0 Stored as <id>, <id>"). */
function storedIds(reply: SmtpReply): string[] {
  expectReply(reply, 250, '2.0.0')
  const match = /^Stored as (.+)$/.exec(reply.text)
  expect(match).not.toBeNull()
  const ids = (match?.[1] ?? '').split(', ')
  for (const id of ids) expect(id).toMatch(UUID)
  return ids
}

/** The one message id of a single-mailbox delivery. */
function storedId(reply: SmtpReply): string {
  const ids = storedIds(reply)
  expect(ids).toHaveLength(1)
  return ids[0] as string
}

function simpleMessage(to: string, subject: string, body = 'Hello from the raw client.'): string {
  return [
    'From: Raw Sender <raw@example.org>',
    `To: ${to}`,
    `Subject: ${subject}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n')
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')

/** Starts a server for the enclosing describe block and hands out SMTP conversations on it. */
function useServer(overrides: Record<string, string> = {}) {
  const state = { eph: undefined as unknown as TestEphemail }
  const clients: SmtpTestClient[] = []

  beforeAll(async () => {
    state.eph = await startTestEphemail(overrides)
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) if (!client.closed) await client.abort()
  })
  afterAll(async () => {
    for (const client of clients.splice(0)) if (!client.closed) await client.abort()
    await state.eph?.stop()
  })

  return {
    get eph() {
      return state.eph
    },
    /** A bare TCP connection; nothing read yet. */
    async connect(): Promise<SmtpTestClient> {
      const client = await SmtpTestClient.connect(state.eph.smtpPort)
      clients.push(client)
      return client
    },
    /** Connected, greeted (220) and introduced with EHLO (250). */
    async session(helo = 'client.test'): Promise<SmtpTestClient> {
      const client = await this.connect()
      expectReply(await client.readReply(), 220)
      expectReply(await client.command(`EHLO ${helo}`), 250)
      return client
    },
    /** MAIL, one RCPT per address (each must get 250), DATA, the message and the dot; returns the final reply. */
    async deliver(client: SmtpTestClient, recipients: string[], message: string): Promise<SmtpReply> {
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      for (const recipient of recipients) expectReply(await client.command(`RCPT TO:<${recipient}>`), 250)
      expectReply(await client.command('DATA'), 354)
      client.write(dataPayload(message), `<message, ${message.length} bytes, and the dot>`)
      return client.readReply()
    },
  }
}

describe('SMTP ingest', () => {
  const server = useServer()

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

  test('nodemailer: multipart mail with HTML, a UTF-8 subject and an attachment is stored as sent', async () => {
    const { eph } = server
    const { address } = await eph.createMailbox('nodemailer-rcpt')
    const attachment = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256))
    const subject = 'Grüße aus Köln — 你好 ✉'

    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: eph.smtpPort,
      secure: false,
      ignoreTLS: true,
      name: 'nodemailer.test',
    })
    // Record the exact bytes nodemailer puts on the wire (before dot-stuffing).
    const sent: Buffer[] = []
    transport.use('stream', (mail, done) => {
      mail.message.processFunc((input) =>
        input.pipe(
          new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              sent.push(Buffer.from(chunk))
              callback(null, chunk)
            },
          }),
        ),
      )
      done()
    })
    let info: { response: string; accepted: unknown[]; rejected: unknown[] }
    try {
      info = await transport.sendMail({
        from: '"Zoë Sender" <zoe@example.org>',
        to: address,
        subject,
        text: 'Plain part: grüße.\r\nSecond line.',
        html: '<p>HTML part: <b>grüße</b></p>',
        attachments: [
          { filename: 'données.bin', content: attachment, contentType: 'application/octet-stream' },
        ],
      })
    } finally {
      transport.close()
    }
    expect(info.accepted).toEqual([address])
    expect(info.rejected).toEqual([])
    const match = /^250 2\.0\.0 Stored as (\S+)$/.exec(info.response)
    expect(match?.[1]).toMatch(UUID)
    const id = match?.[1] as string

    const listed = await eph.listMessages(address)
    expect(listed).toHaveLength(1)
    const sentBytes = Buffer.concat(sent)
    expect(listed[0]).toMatchObject({
      id,
      from: { address: 'zoe@example.org', name: 'Zoë Sender' },
      subject,
      hasAttachments: true,
      seen: false,
      size: sentBytes.byteLength,
    })

    const message = await eph.getMessage(id)
    expect(message.to).toEqual([{ address, name: '' }])
    // postal-mime gives line breaks as LF and keeps the one that belongs to the next MIME boundary.
    expect(message.text?.trimEnd()).toBe('Plain part: grüße.\nSecond line.')
    expect(message.html?.trimEnd()).toBe('<p>HTML part: <b>grüße</b></p>')
    expect(message.attachments).toEqual([
      {
        id: '1',
        filename: 'données.bin',
        contentType: 'application/octet-stream',
        size: attachment.byteLength,
        disposition: 'attachment',
        contentId: null,
      },
    ])
    expect(message.envelope).toEqual({
      mailFrom: 'zoe@example.org',
      rcptTo: [address],
      remoteAddress: '127.0.0.1',
      helo: 'nodemailer.test',
      source: 'smtp',
    })
    expect(message.parseError).toBeNull()

    const raw = await eph.getRaw(id)
    expect(sentBytes.byteLength).toBeGreaterThan(attachment.byteLength)
    expect(latin1(raw)).toBe(sentBytes.toString('latin1'))

    const download = await eph.api(`/v1/messages/${id}/attachments/1`)
    expect(download.status).toBe(200)
    expect(download.headers.get('content-type')).toBe('application/octet-stream')
    expect(download.headers.get('content-disposition')).toContain("filename*=UTF-8''donn%C3%A9es.bin")
    expect(Buffer.from(await download.arrayBuffer()).equals(attachment)).toBe(true)
    expect((await eph.api(`/v1/messages/${id}/attachments/2`)).status).toBe(404)
  })

  describe('swaks', () => {
    // swaks is what these prove interoperates, so without it they skip rather than use another client.
    const swaks = swaksAvailable()

    async function runSwaks(args: string[]) {
      const proc = Bun.spawn([swaks as string, '--server', `127.0.0.1:${server.eph.smtpPort}`, ...args], {
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [stdout, stderr, exitCode] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ])
      return { output: stdout + stderr, exitCode }
    }

    test.skipIf(!swaks)('delivers a message that the API then lists', async () => {
      const { address } = await server.eph.createMailbox('swaks-rcpt')
      const { output, exitCode } = await runSwaks([
        '--helo',
        'swaks.test',
        '--from',
        'swaks@example.org',
        '--to',
        address,
        '--header',
        'Subject: Sent by swaks',
        '--body',
        'Hello from swaks',
      ])
      expect({ exitCode, output }).toMatchObject({ exitCode: 0 })
      expect(output).toContain(' -> RCPT TO:<swaks-rcpt@ephemail.test>\n<-  250 Accepted')
      const match = /^<- {2}250 2\.0\.0 Stored as (\S+)$/m.exec(output)
      expect(match?.[1]).toMatch(UUID)

      const listed = await server.eph.listMessages(address)
      expect(listed.map((item) => [item.id, item.subject, item.from?.address])).toEqual([
        [match?.[1], 'Sent by swaks', 'swaks@example.org'],
      ])
      const message = await server.eph.getMessage(match?.[1] as string)
      expect(message.text?.trim()).toBe('Hello from swaks')
      expect(message.envelope.helo).toBe('swaks.test')
    })

    test.skipIf(!swaks)('is refused at RCPT for an address with no mailbox', async () => {
      const { output, exitCode } = await runSwaks([
        '--from',
        'swaks@example.org',
        '--to',
        'ghost@ephemail.test',
      ])
      expect(output).toContain('<** 550 5.1.1 No such mailbox here (it may have expired)')
      expect(output).not.toMatch(/^<- {2}354/m)
      expect(exitCode).toBe(24) // swaks: the recipient was refused
    })
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
      `${'y'.repeat(96)}\r\n`.repeat(Math.floor((length - 2) / 98)) + `${'y'.repeat((length - 2) % 98)}\r\n`
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
      expect(errors.mock.calls.map((call) => String(call[0]))).not.toContain('smtp: storing a message failed')
    } finally {
      errors.mockRestore()
    }
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
  const server = useServer({ EPHEMAIL_TTL_MIN_SECONDS: '1' })

  async function shortLivedMailbox(localPart: string) {
    const created = await server.eph.createMailbox(localPart, { ttlSeconds: 1 })
    return { ...created, waitUntilExpired: () => Bun.sleep(Date.parse(created.expiresAt) - Date.now() + 200) }
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

describe('SMTP ingest: connection time limits', () => {
  const server = useServer({
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
