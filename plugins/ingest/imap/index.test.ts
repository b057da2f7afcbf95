// The IMAP source against the shared ingest contract: each message is delivered into a real Dovecot's Maildir and polled from there.

import { afterAll, test } from 'bun:test'
import type { IngestSource } from '#contracts/ingest.ts'
import { runIngestContract } from '../../../test/contracts/ingest.ts'
import { startDovecot } from '../../../test/support/dovecot.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import { create, name } from './index.ts'
import { parseImapUrls } from './settings.ts'

const dovecot = await startDovecot()
afterAll(() => dovecot?.close())

if (!dovecot) test.skip('ingest contract: imap (dovecot is not installed)', () => {})
else {
  const server = dovecot
  /** Each suite (PGlite, PostgreSQL) polls a folder of its own, so neither sees the other's mail. */
  const folders = new Map<IngestSource, string>()
  let suites = 0

  await runIngestContract(name, {
    source: 'imap:contract',
    dedupesResend: true,
    make(context) {
      const folder = `contract-${++suites}`
      server.createFolder(folder)
      const source = create(
        {
          accounts: parseImapUrls(server.url({ mailbox: folder, name: 'contract' })),
          after: { action: 'delete' },
          pollIntervalMs: 60_000,
          idle: true,
          maxMessageBytes: 1_000_000,
          maxRecipients: 10,
          tlsCa: null,
        },
        context,
      )
      folders.set(source, folder)
      return source
    },
    /**
     * Taken: the file leaves the Maildir (deleted once stored). Refused: it is still there once a
     * later message to `probe@`, which the source reaches after it (UID order), has gone.
     */
    async send(core, source, { to, raw }) {
      const folder = folders.get(source) as string
      const file = server.deliver(raw, folder)
      const present = () => server.files(folder).some((entry) => entry.name.startsWith(file))
      const probeAddress = `probe-${suites}@ephemail.test`
      if (!(await core.funnel.checkRecipient(probeAddress)).accepted)
        await core.storage.insertMailbox({
          id: crypto.randomUUID(),
          localPart: `probe-${suites}`,
          domain: 'ephemail.test',
          address: probeAddress,
          createdAt: new Date(),
          expiresAt: new Date(Date.now() + 3_600_000),
          tokenHash: `probe-${suites}`,
        })
      const probe = server.deliver(
        `From: probe@example.org\nTo: ${probeAddress}\nSubject: probe\nMessage-ID: <${crypto.randomUUID()}@example.org>\n\nprobe\n`,
        folder,
      )
      const probeGone = () => !server.files(folder).some((entry) => entry.name.startsWith(probe))
      await waitFor(probeGone, `the probe after the message to ${to} to be taken`, 15_000)
      return present()
        ? { accepted: false, answer: 'left on the server' }
        : { accepted: true, answer: 'stored and deleted' }
    },
  })
}
