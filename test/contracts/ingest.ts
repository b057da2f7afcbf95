// Shared contract suite for ingest sources (plugins/ingest/*): mail through any source lands in the one funnel, or is refused and stored nowhere.

import { afterAll, beforeAll, describe, expect } from 'bun:test'
import type { IngestContext, IngestSource } from '#contracts/ingest.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { loadConfig } from '#server/config.ts'
import { createCore, type EphemailCore } from '#server/core.ts'
import { inThreadMailWork } from '#server/pipeline/mail-offload.ts'
import { type ContractOptions, contractTest } from './known-gaps.ts'

export interface SendOutcome {
  /** The source told its peer the message was taken (SMTP 250, HTTP 2xx). */
  accepted: boolean
  /** The peer-facing answer, for failure messages. */
  answer: string
}

export interface IngestFixture {
  make(context: IngestContext): IngestSource
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
    'Message-ID: <contract-1@example.org>',
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your verification code is 731904.',
    '',
  ].join('\r\n')

export function runIngestContract(name: string, fixture: IngestFixture, options: ContractOptions = {}) {
  const { test: it, checkSkips } = contractTest(`ingest contract: ${name}`, options)

  describe(`ingest contract: ${name}`, () => {
    let core: EphemailCore
    let source: IngestSource
    let address: string
    let mailboxId: string

    beforeAll(async () => {
      const config = loadConfig(
        { EPHEMAIL_ADMIN_KEY: ADMIN_KEY, EPHEMAIL_HOST: '127.0.0.1', EPHEMAIL_SMTP_PORT: '0' },
        [],
      )
      core = await createCore(config, {
        plugins: { storage: createPgliteStorage(), ingest: [{ name, make: fixture.make }] },
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
    checkSkips()
  })
}
