// SMTP ingest with real mail clients: nodemailer and swaks against a running Ephemail, checking that
// what they sent is what the API then shows was stored.

import { describe, expect, test } from 'bun:test'
import { Transform } from 'node:stream'
import nodemailer from 'nodemailer'
import { forEachSmtpServer, latin1, UUID, useServer } from './support/smtp-session.ts'
import { swaksAvailable } from './support/swaks.ts'

forEachSmtpServer((smtpServer) => {
  describe('SMTP ingest', () => {
    const server = useServer({ EPHEMAIL_SMTP_SERVER: smtpServer })

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
  })
})
