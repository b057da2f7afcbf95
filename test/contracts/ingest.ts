// Shared contract suite for ingest sources (plugins/ingest/*): mail through any source lands in the one funnel, or is refused and stored nowhere; the funnel records the source and stores a redelivery once.

import { afterAll, beforeAll, describe, expect } from 'bun:test'
import type { IngestContext, IngestSource } from '#contracts/ingest.ts'
import type { Storage } from '#contracts/storage.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createPostgresStorage } from '#plugins/storage/postgres/index.ts'
import { loadConfig } from '#server/config.ts'
import { createCore, type EphemailCore } from '#server/core.ts'
import { inThreadMailWork } from '#server/pipeline/mail-offload.ts'
import { createTestDatabase, postgresAvailable } from '../support/postgres.ts'
import { type ContractOptions, contractTest } from './known-gaps.ts'

export interface SendOutcome {
  /** The source told its peer the message was taken (SMTP 250, HTTP 2xx). */
  accepted: boolean
  /** The peer-facing answer, for failure messages. */
  answer: string
}

export interface IngestFixture {
  make(context: IngestContext): IngestSource
  /** The `source` its messages are stored with (`smtp`, `http:raw`, `imap:NAME`, ...). */
  source: string
  /**
   * Whether the source gives a resend of the same message (same Message-ID, same recipient) a dedupeKey,
   * so that it is stored once; SMTP does not (each delivery is a message).
   */
  dedupesResend: boolean
  /** Delivers `raw` from `from` to `to` through the running source, as a real peer would. */
  send(
    core: EphemailCore,
    source: IngestSource,
    mail: { from: string; to: string; raw: string },
  ): Promise<SendOutcome>
}

const ADMIN_KEY = 'ingest-contract-admin-key-01234'

const rawMail = (to: string, subject: string) =>
  [
    'From: Sender <sender@example.org>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${crypto.randomUUID()}@example.org>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your verification code is 731904.',
    '',
  ].join('\r\n')

interface StorageUnderTest {
  storage: Storage
  teardown(): Promise<void>
}

/**
 * Registers the suite on embedded PGlite at once, then on PostgreSQL when it answers (a printed skip
 * otherwise): await it at the top of the test file for the PostgreSQL run to be registered.
 */
export function runIngestContract(
  name: string,
  fixture: IngestFixture,
  options: ContractOptions = {},
): Promise<void> {
  const { test, checkSkips } = contractTest(`ingest contract: ${name}`, options)
  registerSuite(name, 'pglite', fixture, test, async () => ({
    storage: createPgliteStorage(),
    teardown: async () => {},
  }))
  return (async () => {
    if (await postgresAvailable())
      registerSuite(name, 'postgres', fixture, test, async () => {
        const database = await createTestDatabase()
        return {
          storage: createPostgresStorage({ url: database.url, poolSize: 4 }),
          teardown: database.drop,
        }
      })
    checkSkips()
  })()
}

function registerSuite(
  name: string,
  driver: string,
  fixture: IngestFixture,
  it: ReturnType<typeof contractTest>['test'],
  makeStorage: () => Promise<StorageUnderTest>,
) {
  describe(`ingest contract: ${name} on ${driver}`, () => {
    let core: EphemailCore
    let source: IngestSource
    let address: string
    let mailboxId: string
    let storage: StorageUnderTest | null = null

    beforeAll(async () => {
      storage = await makeStorage()
      const config = loadConfig(
        { EPHEMAIL_ADMIN_KEY: ADMIN_KEY, EPHEMAIL_HOST: '127.0.0.1', EPHEMAIL_SMTP_PORT: '0' },
        [],
      )
      core = await createCore(config, {
        plugins: { storage: storage.storage, ingest: [{ name, make: fixture.make }] },
        mail: inThreadMailWork,
        resolver: async () => {
          throw Object.assign(new Error('no DNS in tests'), { code: 'ENOTFOUND' })
        },
        version: 'test',
      })
      source = core.ingestSources[0] as IngestSource
      await source.start()
      const mailbox = await core.storage.insertMailbox({
        id: crypto.randomUUID(),
        localPart: 'contract',
        domain: 'ephemail.test',
        address: 'contract@ephemail.test',
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 3_600_000),
        tokenHash: 'unused',
      })
      expect(mailbox).toBe('created')
      address = 'contract@ephemail.test'
      mailboxId = (await core.storage.findLiveMailboxByAddress(address, new Date()))?.id as string
    }, 60_000)

    afterAll(async () => {
      await source?.stop()
      await core?.close()
      await storage?.teardown()
    })

    it('is named after its plugin and built on the funnel it was given', () => {
      expect(source.name).toBe(name)
    })

    it('a message to a live mailbox is taken only once stored, exactly once, bytes intact', async () => {
      const raw = rawMail(address, 'contract: stored')
      const outcome = await fixture.send(core, source, { from: 'sender@example.org', to: address, raw })
      expect(outcome).toMatchObject({ accepted: true })
      const page = await core.storage.listMessages(mailboxId, { limit: 50 })
      const stored = page.items.filter((message) => message.subject === 'contract: stored')
      expect(stored).toHaveLength(1)
      const bytes = await core.storage.getRawMessage(stored[0]?.id as string, new Date())
      expect(new TextDecoder().decode(bytes?.raw)).toContain('Your verification code is 731904.')
    })

    it('a message to an address with no mailbox is refused and stored nowhere', async () => {
      const to = 'nobody-here@ephemail.test'
      const outcome = await fixture.send(core, source, {
        from: 'sender@example.org',
        to,
        raw: rawMail(to, 'x'),
      })
      expect(outcome.accepted).toBe(false)
      const page = await core.storage.listMessages(mailboxId, { limit: 50 })
      expect(page.items.filter((message) => message.subject === 'x')).toHaveLength(0)
    })

    it('a message to a domain not served here is refused', async () => {
      const to = 'someone@elsewhere.example'
      const outcome = await fixture.send(core, source, {
        from: 'sender@example.org',
        to,
        raw: rawMail(to, 'x'),
      })
      expect(outcome.accepted).toBe(false)
    })

    it('the message is stored with the source that delivered it, shown on its summary and its read', async () => {
      const raw = rawMail(address, 'contract: source')
      const outcome = await fixture.send(core, source, { from: 'sender@example.org', to: address, raw })
      expect(outcome).toMatchObject({ accepted: true })
      const page = await core.storage.listMessages(mailboxId, { limit: 50 })
      const summary = page.items.find((message) => message.subject === 'contract: source')
      expect(summary?.source).toBe(fixture.source)
      const read = await core.storage.getMessage(summary?.id as string, new Date())
      expect(read).toMatchObject({ source: fixture.source, envelope: { source: fixture.source } })
    })

    it('the same message sent again is stored once when the source dedupes resends, else twice', async () => {
      const raw = rawMail(address, 'contract: resend')
      for (const _ of [1, 2]) {
        const outcome = await fixture.send(core, source, { from: 'sender@example.org', to: address, raw })
        expect(outcome).toMatchObject({ accepted: true })
      }
      const page = await core.storage.listMessages(mailboxId, { limit: 50 })
      const copies = page.items.filter((message) => message.subject === 'contract: resend')
      expect(copies).toHaveLength(fixture.dedupesResend ? 1 : 2)
    })

    it('the funnel stores a dedupeKey once per mailbox and answers the redelivery with the first id', async () => {
      const raw = new TextEncoder().encode(rawMail(address, 'contract: dedupe'))
      const envelope = { mailFrom: null, rcptTo: [address], remoteAddress: null, helo: null, source: name }
      const input = { raw, envelope, source: fixture.source, dedupeKey: `contract:${crypto.randomUUID()}` }
      const first = await core.funnel.ingestMessage(input)
      const again = await core.funnel.ingestMessage(input)
      expect(first.stored).toEqual([expect.objectContaining({ mailboxId, duplicate: false })])
      expect(again.stored).toEqual([
        { messageId: first.stored[0]?.messageId as string, mailboxId, address, duplicate: true },
      ])
      const page = await core.storage.listMessages(mailboxId, { limit: 50 })
      expect(page.items.filter((message) => message.subject === 'contract: dedupe')).toHaveLength(1)
    })

    it('concurrent redeliveries store one copy, all answer its id, and leave no hole in the event numbers', async () => {
      const raw = new TextEncoder().encode(rawMail(address, 'contract: race'))
      const envelope = { mailFrom: null, rcptTo: [address], remoteAddress: null, helo: null, source: name }
      const input = { raw, envelope, source: fixture.source, dedupeKey: `contract:${crypto.randomUUID()}` }
      const results = await Promise.all(Array.from({ length: 6 }, () => core.funnel.ingestMessage(input)))
      const ids = new Set(results.map((result) => result.stored[0]?.messageId))
      expect(ids.size).toBe(1)
      expect(results.filter((result) => result.stored[0]?.duplicate === false)).toHaveLength(1)
      // Every number up to the counter is one event: a refused insert gave its numbers back.
      const upTo = (await core.storage.currentEventSeq(mailboxId)) as number
      const events = await core.storage.listMailboxEvents(mailboxId, 0, upTo)
      expect(events.map((event) => event.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: upTo }, (_, index) => index + 1),
      )
    })

    it('a dedupeKey is per mailbox: another mailbox still gets its copy', async () => {
      const other = 'contract-other@ephemail.test'
      await core.storage.insertMailbox({
        id: crypto.randomUUID(),
        localPart: 'contract-other',
        domain: 'ephemail.test',
        address: other,
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 3_600_000),
        tokenHash: 'unused-other',
      })
      const raw = new TextEncoder().encode(rawMail(address, 'contract: per mailbox'))
      const dedupeKey = `contract:${crypto.randomUUID()}`
      const deliver = (to: string[]) =>
        core.funnel.ingestMessage({
          raw,
          envelope: { mailFrom: null, rcptTo: to, remoteAddress: null, helo: null, source: name },
          source: fixture.source,
          dedupeKey,
        })
      await deliver([address])
      const both = await deliver([address, other])
      const copies = both.stored.map((copy) => [copy.address, copy.duplicate])
      expect(copies.sort()).toEqual(
        [
          [address, true],
          [other, false],
        ].sort(),
      )
    })
  })
}
