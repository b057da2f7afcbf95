// Roles split across four processes sharing PostgreSQL and Redis: two API processes, one SMTP process and one
// worker. Mail enters through the SMTP process, is processed by the worker through BullMQ, and reaches an SSE
// client on one API process, a WebSocket client on the other, a long-poll, and a webhook, through Redis pub/sub.
// A domain registered on one API process (its MX checked on a loopback DNS server) is served by the SMTP process.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { Webhook } from 'standardwebhooks'
import { startTestDnsServer, type TestDnsServer } from './support/dns-server.ts'
import { cleanEnv, type EphemailProcess, freePorts, spawnNpmStart } from './support/ephemail-process.ts'
import { openEventStream, openWebSocket } from './support/live-clients.ts'
import { createTestDatabase, postgresAvailable } from './support/postgres.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'
import { SmtpTestClient } from './support/smtp-client.ts'

const ADMIN_KEY = 'multi-process-admin-key-0123'
const MX_HOST = 'mx.multi-process.example'
const root = join(import.meta.dir, '..')

const ready = (await postgresAvailable()) && (await redisAvailable())

describe.skipIf(!ready)(
  'four processes: api, api, smtp, worker on PostgreSQL, BullMQ and Redis pub/sub',
  () => {
    const processes: EphemailProcess[] = []
    let database: Awaited<ReturnType<typeof createTestDatabase>>
    let apiPorts: [number, number] = [0, 0]
    let smtpPort = 0
    let dns: TestDnsServer
    const prefix = `ephemail-mp-${Date.now()}`

    beforeAll(async () => {
      database = await createTestDatabase()
      // Registered domains are checked against this DNS server on loopback.
      dns = await startTestDnsServer(new Map([['acme-mp.example', [{ exchange: MX_HOST, priority: 10 }]]]))
      const [api1, api2, smtp, unused] = (await freePorts(4)) as [number, number, number, number]
      apiPorts = [api1, api2]
      smtpPort = smtp
      const shared = {
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
        EPHEMAIL_HOST: '127.0.0.1',
        EPHEMAIL_SMTP_PORT: String(smtp),
        EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32',
        EPHEMAIL_WEBHOOK_BACKOFF_MS: '50',
        // A run of its own: queues and the pub/sub channel do not meet other test runs on the same Redis.
        EPHEMAIL_REDIS_PREFIX: prefix,
        EPHEMAIL_MX_HOSTS: MX_HOST,
        EPHEMAIL_DOMAIN_DNS_SERVERS: dns.address,
      }
      const start = async (roles: string, httpPort: number, banner: RegExp) => {
        const child = spawnNpmStart(
          root,
          cleanEnv({ ...shared, EPHEMAIL_ROLES: roles, EPHEMAIL_HTTP_PORT: String(httpPort) }),
        )
        processes.push(child)
        await child.waitForStdout(banner, 30_000)
      }
      await Promise.all([
        start('api', api1, /HTTP API on/),
        start('api', api2, /HTTP API on/),
        start('smtp', unused, /SMTP on/),
        start('worker', unused, /roles worker/),
      ])
    }, 90_000)

    afterAll(async () => {
      for (const child of processes) child.killAll()
      await Bun.sleep(200)
      await database?.drop()
      await dns?.close()
    })

    const api = (port: number, path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      })

    test('mail through the SMTP process reaches SSE on one API process, WebSocket on the other, a long-poll and a webhook', async () => {
      const [first, second] = apiPorts
      const mailbox = await (await api(first, '/v1/mailboxes', { method: 'POST', body: '{}' })).json()
      const hooks: { headers: Record<string, string>; body: string }[] = []
      const receiver = Bun.serve({
        hostname: '127.0.0.1',
        port: 0,
        async fetch(request) {
          hooks.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
          return new Response('ok')
        },
      })
      try {
        const webhook = await (
          await api(second, '/v1/webhooks', {
            method: 'POST',
            body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook`, address: mailbox.address }),
          })
        ).json()
        const stream = await openEventStream(
          `http://127.0.0.1:${first}/v1/mailboxes/${mailbox.address}/events?access_token=${mailbox.token}`,
        )
        const ws = await openWebSocket(`ws://127.0.0.1:${second}/v1/ws?access_token=${ADMIN_KEY}`)
        ws.send({ type: 'subscribe', address: mailbox.address })
        expect(await ws.next()).toMatchObject({ type: 'subscribed', address: mailbox.address })
        const waiting = api(second, `/v1/mailboxes/${mailbox.address}/otp?wait=30`).then((response) =>
          response.json(),
        )
        await Bun.sleep(100)

        const transport = nodemailer.createTransport({
          host: '127.0.0.1',
          port: smtpPort,
          secure: false,
          ignoreTLS: true,
        })
        const sent = await transport.sendMail({
          from: '"Acme Login" <login@acme.example>',
          to: mailbox.address,
          subject: 'Your Acme sign-in code',
          text: 'Hello,\n\nYour verification code is 731 904.\n\nIt expires in 10 minutes.',
        })
        transport.close()
        expect(sent.response).toStartWith('250')

        const sse = await stream.next(2, 15_000)
        expect(sse.map((event) => `${event.id} ${event.event}`)).toEqual([
          '1 message.received',
          '2 message.processed',
        ])
        expect(JSON.parse(sse[1]?.data ?? '{}').otp).toBe('731904')
        const wsEvents = [await ws.next(15_000), await ws.next(15_000)]
        expect(wsEvents.map((message) => `${message.id} ${message.event}`)).toEqual([
          '1 message.received',
          '2 message.processed',
        ])
        expect((await waiting).otp).toBe('731904')

        const deadline = Date.now() + 15_000
        while (hooks.length === 0 && Date.now() < deadline) await Bun.sleep(20)
        expect(hooks).toHaveLength(1)
        const payload = new Webhook(webhook.secret).verify(hooks[0]?.body ?? '', hooks[0]?.headers ?? {}) as {
          data: { otp: string }
        }
        expect(payload.data.otp).toBe('731904')
        const message = await (await api(first, `/v1/messages/${JSON.parse(sse[0]?.data ?? '{}').id}`)).json()
        expect(message.processing.state).toBe('processed')
        expect(message.authentication).not.toBeNull()
        stream.close()
        ws.close()
      } finally {
        receiver.stop(true)
      }
    }, 60_000)

    test('a mailbox renamed on one API process stops answering on the other (remembered lookups are dropped)', async () => {
      const [first, second] = apiPorts
      const mailbox = await (await api(first, '/v1/mailboxes', { method: 'POST', body: '{}' })).json()
      // Both processes now remember the mailbox by address.
      expect((await api(first, `/v1/mailboxes/${mailbox.address}`)).status).toBe(200)
      expect((await api(second, `/v1/mailboxes/${mailbox.address}`)).status).toBe(200)
      const renamed = await api(first, `/v1/mailboxes/${mailbox.address}`, {
        method: 'PATCH',
        body: JSON.stringify({ localPart: `moved-${crypto.randomUUID().slice(0, 8)}` }),
      })
      expect(renamed.status).toBe(200)
      const moved = await renamed.json()
      expect((await api(first, `/v1/mailboxes/${mailbox.address}`)).status).toBe(404)
      // The other process hears of it through Redis pub/sub, well within its 2 s memory.
      const deadline = Date.now() + 1_000
      let status = 200
      while (Date.now() < deadline && status !== 404) {
        status = (await api(second, `/v1/mailboxes/${mailbox.address}`)).status
        if (status !== 404) await Bun.sleep(10)
      }
      expect(status).toBe(404)
      expect((await api(second, `/v1/mailboxes/${moved.address}`)).status).toBe(200)
    })

    test('an API key revoked on one API process fails at once on the other, and its open stream there ends', async () => {
      const [first, second] = apiPorts
      const issued = await (
        await api(first, '/v1/admin/keys', { method: 'POST', body: JSON.stringify({ name: 'revoke-me' }) })
      ).json()
      const withKey = (port: number, path: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${issued.key}`, 'content-type': 'application/json' },
        })
      const mailbox = await (await withKey(second, '/v1/mailboxes', { method: 'POST', body: '{}' })).json()
      expect((await withKey(second, `/v1/mailboxes/${mailbox.address}`)).status).toBe(200)
      const stream = await openEventStream(
        `http://127.0.0.1:${second}/v1/mailboxes/${mailbox.address}/events?access_token=${issued.key}`,
      )
      expect(stream.response.status).toBe(200)
      expect((await api(first, `/v1/admin/keys/${issued.id}`, { method: 'DELETE' })).status).toBe(204)
      // No waiting: keys are looked up on every request, so the very next one fails.
      const after = await withKey(second, `/v1/mailboxes/${mailbox.address}`)
      expect(after.status).toBe(401)
      // The stream ends once the key.changed event reaches the other process through Redis.
      await stream.ended(5_000)
      expect(stream.read.ended).toBe(true)
      // The mailbox itself stays, for the admin (and its own token) until it expires.
      expect((await api(second, `/v1/mailboxes/${mailbox.address}`)).status).toBe(200)
    })

    test('a domain registered through one API process is accepted by the SMTP process, and refused once deleted through the other', async () => {
      const [first, second] = apiPorts
      /** The SMTP process's answer to RCPT TO for `address`. */
      const rcpt = async (address: string) => {
        const client = await SmtpTestClient.connect(smtpPort)
        try {
          await client.readReply()
          await client.command('EHLO client.test')
          await client.command('MAIL FROM:<sender@example.org>')
          return (await client.command(`RCPT TO:<${address}>`)).code
        } finally {
          await client.abort()
        }
      }
      /** Polls until the SMTP process answers `code` (it hears domains.changed through Redis). */
      const rcptBecomes = async (address: string, code: number) => {
        const deadline = Date.now() + 10_000
        let last = await rcpt(address)
        while (last !== code && Date.now() < deadline) {
          await Bun.sleep(50)
          last = await rcpt(address)
        }
        return last
      }
      expect(await rcpt('signup@acme-mp.example')).toBe(550)
      const registered = await api(first, '/v1/admin/domains', {
        method: 'POST',
        body: JSON.stringify({ name: 'acme-mp.example', type: 'public' }),
      })
      expect(registered.status).toBe(201)
      expect(await registered.json()).toMatchObject({ status: 'verified', mxHosts: [MX_HOST] })
      const mailbox = await api(first, '/v1/mailboxes', {
        method: 'POST',
        body: JSON.stringify({ localPart: 'signup', domain: 'acme-mp.example' }),
      })
      expect(mailbox.status).toBe(201)
      // Well inside the 30 s safety-net reload: the event did it.
      expect(await rcptBecomes('signup@acme-mp.example', 250)).toBe(250)
      const listed = await (await api(second, '/v1/domains?type=public')).json()
      expect(listed.domains).toContainEqual({ name: 'acme-mp.example', type: 'public' })

      expect((await api(second, '/v1/admin/domains/acme-mp.example', { method: 'DELETE' })).status).toBe(204)
      expect(await rcptBecomes('signup@acme-mp.example', 550)).toBe(550)
      expect((await api(first, '/v1/mailboxes/signup@acme-mp.example')).status).toBe(200)
    }, 60_000)
  },
)
