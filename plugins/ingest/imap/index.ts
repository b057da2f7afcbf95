// IMAP poll ingest (imapflow): catch-all mailboxes on an existing server, each message routed through the funnel, then deleted, flagged or moved.

import type { IngestSource, IngestSourceFactory } from '#contracts/ingest.ts'
import { createImapPoller, type ImapPollerOptions } from './poller.ts'
import type { ImapAccount, ImapAfter } from './settings.ts'

export interface ImapIngestOptions {
  accounts: readonly ImapAccount[]
  after: ImapAfter
  pollIntervalMs: number
  idle: boolean
  maxMessageBytes: number
  maxRecipients: number
  tlsCa: string | null
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'imap'
export const create: IngestSourceFactory<ImapIngestOptions> = (options, { funnel }) => {
  const pollers = options.accounts.map((account) =>
    createImapPoller({ ...options, account, funnel } satisfies ImapPollerOptions),
  )
  return {
    name,
    // Connecting happens in the background: an unreachable server is retried, it does not stop the process.
    async start() {
      for (const poller of pollers) poller.start()
    },
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()))
    },
  } satisfies IngestSource
}
