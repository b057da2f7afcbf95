// Split roles across processes sharing PostgreSQL and Redis: SMTP + API in one, the worker in another. The job crosses
// through BullMQ and the long-poll in the API process wakes on the worker's event through Redis pub/sub.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { cleanEnv, type EphemailProcess, freePorts, spawnNpmStart } from './support/ephemail-process.ts'
import { createTestDatabase, postgresAvailable } from './support/postgres.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'

const ADMIN_KEY = 'multi-process-admin-key-0123'
const root = join(import.meta.dir, '..')

const ready = (await postgresAvailable()) && (await redisAvailable())

describe.skipIf(!ready)(
  'split roles: api+smtp process and worker process on PostgreSQL, BullMQ and Redis pub/sub',
  () => {
    const processes: EphemailProcess[] = []
    let database: Awaited<ReturnType<typeof createTestDatabase>>
    let httpPort = 0
    let smtpPort = 0

    beforeAll(async () => {
      database = await createTestDatabase()
      ;[httpPort, smtpPort] = (await freePorts(2)) as [number, number]
      const shared = {
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
        EPHEMAIL_HOST: '127.0.0.1',
        EPHEMAIL_HTTP_PORT: String(httpPort),
        EPHEMAIL_SMTP_PORT: String(smtpPort),
      }
      const front = spawnNpmStart(root, cleanEnv({ ...shared, EPHEMAIL_ROLES: 'api,smtp' }))
      processes.push(front)
      await front.waitForStdout(/SMTP on/, 30_000)
      const worker = spawnNpmStart(root, cleanEnv({ ...shared, EPHEMAIL_ROLES: 'worker' }))
      processes.push(worker)
      await worker.waitForStdout(/roles worker/, 30_000)
    }, 60_000)

    afterAll(async () => {
      for (const child of processes) child.killAll()
      await Bun.sleep(200)
      await database?.drop()
    })

    test('a code sent to the SMTP process is extracted by the worker process and wakes a waiting request', async () => {
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${httpPort}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        })
      const mailbox = await (await api('/v1/mailboxes', { method: 'POST', body: '{}' })).json()
      const waiting = api(`/v1/mailboxes/${mailbox.address}/otp?wait=30`).then((response) => response.json())
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
      const otp = await waiting
      expect(otp.otp).toBe('731904')
      const message = await (await api(`/v1/messages/${otp.messageId}`)).json()
      expect(message.processing.state).toBe('processed')
      expect(message.authentication).not.toBeNull()
    }, 40_000)
  },
)
