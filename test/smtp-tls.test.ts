// SMTP over TLS with a configured certificate: STARTTLS on the SMTP port and implicit TLS on its own port,
// tried with nodemailer, openssl s_client and swaks.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { ConfigError, loadConfig } from '#server/config.ts'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { SmtpTestClient } from './support/smtp-client.ts'
import { forEachSmtpServer } from './support/smtp-session.ts'
import { swaksAvailable } from './support/swaks.ts'

forEachSmtpServer((smtpServer) => {
  const HOSTNAME = 'mx.ephemail.test'

  /** A self-signed certificate made with openssl, or null (with the reason printed) when it is missing. */
  function makeCertificate(dir: string): { cert: string; key: string } | null {
    const openssl = Bun.which('openssl')
    if (!openssl) {
      if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
        throw new Error('openssl is required but not on PATH')
      console.warn(
        'openssl is not on PATH: the SMTP TLS tests are skipped (they need it to make a certificate)',
      )
      return null
    }
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    const made = Bun.spawnSync([
      openssl,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=${HOSTNAME}`,
    ])
    if (made.exitCode !== 0) throw new Error(`openssl req failed: ${made.stderr.toString()}`)
    return { cert, key }
  }

  const dir = mkdtempSync(join(tmpdir(), 'ephemail-tls-'))
  const files = makeCertificate(dir)

  describe.skipIf(!files)('SMTP with TLS', () => {
    let eph: TestEphemail
    let address: string

    beforeAll(async () => {
      eph = await startTestEphemail({
        EPHEMAIL_SMTP_SERVER: smtpServer,
        EPHEMAIL_SMTP_TLS_CERT: files?.cert ?? '',
        EPHEMAIL_SMTP_TLS_KEY: files?.key ?? '',
        EPHEMAIL_SMTPS_PORT: '0',
        EPHEMAIL_SMTP_HOSTNAME: HOSTNAME,
      })
      address = (await eph.createMailbox('tls')).address
    }, 60_000)
    afterAll(async () => {
      await eph?.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    const send = async (options: { port: number; secure: boolean }, subject: string) => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: options.port,
        secure: options.secure,
        requireTLS: !options.secure,
        tls: { rejectUnauthorized: false, servername: HOSTNAME },
      })
      try {
        return await transport.sendMail({
          from: 'tls@example.org',
          to: address,
          subject,
          text: 'Code 246810',
        })
      } finally {
        transport.close()
      }
    }

    test('EHLO on the SMTP port offers STARTTLS', async () => {
      const client = await SmtpTestClient.connect(eph.smtpPort)
      try {
        await client.readReply()
        const ehlo = await client.command('EHLO tls.test')
        expect(ehlo.lines.some((line) => /^250[- ]STARTTLS$/.test(line))).toBe(true)
      } finally {
        await client.abort()
      }
    })

    test('nodemailer with STARTTLS required delivers, and the message is stored', async () => {
      const sent = await send({ port: eph.smtpPort, secure: false }, 'over starttls')
      expect(sent.response).toMatch(/^250 2\.0\.0 Stored as /)
      expect((await eph.listMessages(address)).some((message) => message.subject === 'over starttls')).toBe(
        true,
      )
    })

    test('nodemailer over implicit TLS delivers on the SMTPS port', async () => {
      const smtpsPort = eph.running.smtpsPort
      expect(smtpsPort).toBeGreaterThan(0)
      const sent = await send({ port: smtpsPort as number, secure: true }, 'over implicit tls')
      expect(sent.response).toMatch(/^250 2\.0\.0 Stored as /)
      expect(
        (await eph.listMessages(address)).some((message) => message.subject === 'over implicit tls'),
      ).toBe(true)
    })

    test('openssl s_client -starttls smtp completes the handshake with the configured certificate', async () => {
      const run = Bun.spawn(
        [
          'openssl',
          's_client',
          '-starttls',
          'smtp',
          '-connect',
          `127.0.0.1:${eph.smtpPort}`,
          '-servername',
          HOSTNAME,
        ],
        { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' },
      )
      run.stdin.write('QUIT\r\n')
      run.stdin.end()
      const [out, err] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()])
      await run.exited
      const transcript = out + err
      expect(transcript).toMatch(new RegExp(`subject=.*CN\\s*=\\s*${HOSTNAME.replace(/\./g, '\\.')}`))
      expect(transcript).toMatch(/New, TLSv1\.[23]/)
    })

    const swaks = swaksAvailable()
    test.skipIf(!swaks)(
      'swaks --tls delivers',
      async () => {
        // Not spawnSync: the server answering swaks runs in this process.
        const run = Bun.spawn(
          [
            swaks as string,
            '--server',
            `127.0.0.1:${eph.smtpPort}`,
            '--tls',
            '--timeout',
            '20',
            '--from',
            'swaks@example.org',
            '--to',
            address,
            '--header',
            'Subject: over swaks tls',
            '--body',
            'Code 135790',
          ],
          { stdout: 'pipe', stderr: 'pipe' },
        )
        const output = (await new Response(run.stdout).text()) + (await new Response(run.stderr).text())
        const exitCode = await run.exited
        expect({ exitCode, output }).toMatchObject({ exitCode: 0 })
        expect(output).toContain('TLS started')
        expect(output).toMatch(/<~ +250 2\.0\.0 Stored as/)
        expect(
          (await eph.listMessages(address)).some((message) => message.subject === 'over swaks tls'),
        ).toBe(true)
      },
      60_000,
    )
  })

  test('TLS settings: cert and key together, SMTPS only with them, files must be PEM', () => {
    expect(() => loadConfig({ EPHEMAIL_SMTP_TLS_CERT: '/nonexistent.pem' }, [])).toThrow(ConfigError)
    expect(() => loadConfig({ EPHEMAIL_SMTPS_PORT: '465' }, [])).toThrow('EPHEMAIL_SMTPS_PORT needs')
    const scratch = mkdtempSync(join(tmpdir(), 'ephemail-pem-'))
    try {
      writeFileSync(join(scratch, 'not.pem'), 'hello')
      expect(() =>
        loadConfig(
          {
            EPHEMAIL_SMTP_TLS_CERT: join(scratch, 'not.pem'),
            EPHEMAIL_SMTP_TLS_KEY: join(scratch, 'not.pem'),
          },
          [],
        ),
      ).toThrow('is not a PEM file')
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })
})
