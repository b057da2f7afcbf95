// SMTP abuse: per-address connection caps, command and text line limits, RCPT floods, guessing, oversize DATA.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { MAX_REFUSED_RECIPIENTS } from '#plugins/ingest/smtp/index.ts'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { dataPayload, SmtpTestClient } from './support/smtp-client.ts'
import { forEachSmtpServer } from './support/smtp-session.ts'

forEachSmtpServer((smtpServer) => {
  const PER_ADDRESS = 5
  const MAX_MESSAGE_BYTES = 20_000 // testEnv's EPHEMAIL_MAX_MESSAGE_BYTES
  const MAX_RECIPIENTS = 3 // testEnv's EPHEMAIL_MAX_RECIPIENTS

  describe('SMTP abuse', () => {
    let eph: TestEphemail
    let address: string

    beforeAll(async () => {
      eph = await startTestEphemail({
        EPHEMAIL_SMTP_SERVER: smtpServer,
        EPHEMAIL_SMTP_MAX_CLIENTS_PER_IP: String(PER_ADDRESS),
      })
      address = (await eph.createMailbox('flood-target')).address
    }, 60_000)
    afterAll(() => eph?.stop())

    async function greeted(localAddress?: string) {
      const client = await SmtpTestClient.connect(eph.smtpPort, '127.0.0.1', localAddress)
      return { client, greeting: await client.readReply() }
    }

    async function inTransaction() {
      const { client } = await greeted()
      await client.command('EHLO abuse.test')
      expect((await client.command('MAIL FROM:<a@example.org>')).code).toBe(250)
      return client
    }

    test('one address holding its share of connections gets 421; another address still gets in', async () => {
      const held = await Promise.all(Array.from({ length: PER_ADDRESS }, () => greeted()))
      try {
        expect(held.map(({ greeting }) => greeting.code)).toEqual(Array(PER_ADDRESS).fill(220))
        const extra = await greeted()
        expect(extra.greeting.code).toBe(421)
        expect(extra.greeting.enhanced).toBe('4.7.0')
        await extra.client.waitClosed()
        const other = await greeted('127.0.0.2')
        expect(other.greeting.code).toBe(220)
        await other.client.abort()
        // A slot freed is a slot again.
        await held.pop()?.client.abort()
        await Bun.sleep(100)
        const again = await greeted()
        expect(again.greeting.code).toBe(220)
        await again.client.abort()
      } finally {
        for (const { client } of held) await client.abort()
      }
    })

    test('a command line over 512 octets is answered 421 and the connection closed', async () => {
      const { client } = await greeted()
      const reply = await client.command(`EHLO ${'a'.repeat(600)}`)
      expect(reply.code).toBe(421)
      await client.waitClosed()
    })

    test('a command line of 510 octets (512 with CRLF) is still a command', async () => {
      const { client } = await greeted()
      const helo = `EHLO ${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.test`
      const noop = `NOOP ${'n'.repeat(510 - 5)}`
      try {
        expect((await client.command(helo)).code).toBe(250)
        expect((await client.command(noop)).code).toBe(250)
      } finally {
        await client.abort()
      }
    })

    test('a message line over 998 octets gets 552; a line of exactly 998 is stored', async () => {
      const client = await inTransaction()
      try {
        expect((await client.command(`RCPT TO:<${address}>`)).code).toBe(250)
        expect((await client.command('DATA')).code).toBe(354)
        client.write(dataPayload(`Subject: ${'s'.repeat(1200)}\r\n\r\nbody\r\n`))
        const refused = await client.readReply()
        expect({ code: refused.code, text: refused.text }).toMatchObject({ code: 552 })
        expect(refused.text).toContain('998')

        expect((await client.command('MAIL FROM:<a@example.org>')).code).toBe(250)
        expect((await client.command(`RCPT TO:<${address}>`)).code).toBe(250)
        expect((await client.command('DATA')).code).toBe(354)
        client.write(dataPayload(`Subject: edge\r\n\r\n${'b'.repeat(998)}\r\n`))
        expect((await client.readReply()).code).toBe(250)
      } finally {
        await client.abort()
      }
    })

    test('RCPT commands past twice the recipient limit get 452, repeats of one address included', async () => {
      const client = await inTransaction()
      try {
        const codes: number[] = []
        for (let i = 0; i < MAX_RECIPIENTS * 2 + 3; i++)
          codes.push((await client.command(`RCPT TO:<${address}>`)).code)
        expect(codes).toEqual([...Array(MAX_RECIPIENTS * 2).fill(250), 452, 452, 452])
      } finally {
        await client.abort()
      }
    })

    test(`after ${MAX_REFUSED_RECIPIENTS} unknown recipients the session is closed with 421`, async () => {
      const client = await inTransaction()
      const codes: number[] = []
      for (let i = 0; i < MAX_REFUSED_RECIPIENTS; i++) {
        // A new transaction keeps the RCPT-per-message limit out of the way: guessing spans messages.
        if (i % 4 === 0) await client.command('RSET').then(() => client.command('MAIL FROM:<a@example.org>'))
        codes.push((await client.command(`RCPT TO:<guess${i}@ephemail.test>`)).code)
      }
      expect(codes).toEqual(Array(MAX_REFUSED_RECIPIENTS).fill(550))
      const closing = await client.readReply()
      expect(closing.code).toBe(421)
      await client.waitClosed()
    })

    test('DATA past the size limit with no SIZE declared is answered 552 before its end, and closed', async () => {
      const client = await inTransaction()
      expect((await client.command(`RCPT TO:<${address}>`)).code).toBe(250)
      expect((await client.command('DATA')).code).toBe(354)
      client.write(
        `Subject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(Math.ceil((MAX_MESSAGE_BYTES * 1.5) / 90)),
      )
      // No final dot: the server must not wait for the end of an oversize message.
      const reply = await client.readReply()
      expect(reply.code).toBe(552)
      await client.waitClosed()
      expect((await eph.listMessages(address)).some((message) => message.subject === 'big')).toBe(false)
    })
  })

  describe('SMTP abuse: a 60 MB DATA at the default 10 MB limit', () => {
    let eph: TestEphemail
    beforeAll(async () => {
      eph = await startTestEphemail({
        EPHEMAIL_SMTP_SERVER: smtpServer,
        EPHEMAIL_MAX_MESSAGE_BYTES: String(10 * 1024 * 1024),
      })
    }, 60_000)
    afterAll(() => eph?.stop())

    test('is refused with 552 once it crosses the limit, without reading the rest or holding it in memory', async () => {
      const address = (await eph.createMailbox('sixty-mb')).address
      const client = await SmtpTestClient.connect(eph.smtpPort)
      await client.readReply()
      await client.command('EHLO big.test')
      expect((await client.command('MAIL FROM:<a@example.org>')).code).toBe(250)
      expect((await client.command(`RCPT TO:<${address}>`)).code).toBe(250)
      expect((await client.command('DATA')).code).toBe(354)
      Bun.gc(true)
      const before = process.memoryUsage().rss
      let peak = before
      const chunk = new TextEncoder().encode(`${'x'.repeat(1022)}\r\n`.repeat(1024)) // 1 MiB of 1,024-octet lines
      let sent = 0
      client.write('Subject: sixty\r\n\r\n')
      // 60 MiB offered, no SIZE declared and no final dot; the client stops when the server hangs up.
      while (sent < 60 && !client.closed) {
        client.write(chunk)
        sent++
        peak = Math.max(peak, process.memoryUsage().rss)
        await Bun.sleep(0)
      }
      const reply = await client.readReply()
      expect(reply.code).toBe(552)
      await client.waitClosed()
      peak = Math.max(peak, process.memoryUsage().rss)
      const grownMiB = (peak - before) / 1024 / 1024
      // Client and server share this process, so the figure includes the client's own send buffers.
      console.log(
        `60 MB DATA: ${sent} MiB written before the hang-up; RSS grew by at most ${grownMiB.toFixed(1)} MiB`,
      )
      expect(grownMiB).toBeLessThan(60)
      expect((await eph.listMessages(address)).length).toBe(0)
    }, 60_000)
  })
})
