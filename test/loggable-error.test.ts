// Logs never carry message data: a failed query's parameters are withheld, its statement and cause kept.

import { expect, spyOn, test } from 'bun:test'
import { loggableError } from '#lib/loggable-error.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'

const SECRET = 'Subject: your code is 481516 SECRET-BODY-BYTES'

test('a storage failure with message data in its parameters logs the statement and cause, not the data', async () => {
  const storage = createPgliteStorage()
  await storage.migrate()
  try {
    // A webhook of a mailbox that does not exist: a foreign-key violation inside a query whose
    // parameters hold the secret (in the URL and the filter).
    const failure = await storage
      .insertWebhook({
        id: crypto.randomUUID(),
        mailboxId: crypto.randomUUID(),
        url: `https://hooks.example/${encodeURIComponent(SECRET)}`,
        filter: { subjectContains: SECRET },
        createdAt: new Date(),
        secret: 'whsec_x',
      })
      .then(
        () => null,
        (error: unknown) => error,
      )
    expect(failure).toBeInstanceOf(Error)
    expect(String((failure as Error).message)).toContain(SECRET) // what would have been logged
    const logged = loggableError(failure)
    expect(logged).not.toContain(SECRET)
    expect(logged).toContain('insert into "webhooks"')
    expect(logged).toContain('parameters withheld')
    expect(logged).toMatch(/caused by .*foreign key/i)
  } finally {
    await storage.close()
  }
})

test('causes are followed, frames kept, non-errors named without their content', () => {
  const inner = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })
  const outer = new Error(`Failed query: select 1\nparams: ${SECRET}`, { cause: inner })
  const logged = loggableError(outer)
  expect(logged).not.toContain(SECRET)
  expect(logged).toContain('Error [ECONNREFUSED]: connection refused')
  expect(logged).toMatch(/\n\s+at /)
  expect(loggableError({ raw: SECRET })).toBe('non-error value of type object')
})

test('the SMTP source logs a failed store without the message', async () => {
  const { createSmtpIngest } = await import('#plugins/ingest/smtp/index.ts')
  const { SmtpTestClient, dataPayload } = await import('./support/smtp-client.ts')
  const source = createSmtpIngest({
    funnel: {
      checkRecipient: async () => ({
        accepted: true,
        mailbox: {
          id: crypto.randomUUID(),
          localPart: 'a',
          domain: 'ephemail.test',
          address: 'a@ephemail.test',
          createdAt: new Date(),
          expiresAt: new Date(Date.now() + 60_000),
          ownerKeyId: null,
        },
      }),
      ingestMessage: async (input) => {
        throw new Error(
          `Failed query: insert into "messages"\nparams: ${new TextDecoder().decode(input.raw)}`,
        )
      },
    },
    host: '127.0.0.1',
    port: 0,
    hostname: 'mx.ephemail.test',
    maxMessageBytes: 100_000,
    maxRecipients: 5,
    maxClients: 10,
    maxClientsPerAddress: 10,
    socketTimeoutMs: 10_000,
    sessionTimeoutMs: 60_000,
  })
  await source.start()
  const errors = spyOn(console, 'error').mockImplementation(() => {})
  try {
    const client = await SmtpTestClient.connect(source.port())
    await client.readReply()
    await client.command('HELO log.test')
    await client.command('MAIL FROM:<a@example.org>')
    await client.command('RCPT TO:<a@ephemail.test>')
    await client.command('DATA')
    client.write(dataPayload(`${SECRET}\r\n\r\nbody\r\n`))
    expect((await client.readReply()).code).toBe(451)
    await client.abort()
    const text = errors.mock.calls.map((call) => call.join(' ')).join('\n')
    expect(text).toContain('smtp: storing a message failed')
    expect(text).not.toContain('SECRET-BODY-BYTES')
  } finally {
    errors.mockRestore()
    await source.stop()
  }
})
