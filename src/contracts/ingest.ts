// Ingest contract: a source of mail (SMTP, inbound HTTP, IMAP poll) and the one funnel every source hands messages to.

import type { Envelope, Mailbox } from '#lib/types.ts'

export interface IngestSource {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
}

export type RecipientVerdict =
  | { accepted: true; mailbox: Mailbox }
  | { accepted: false; reason: 'invalid-address' | 'unknown-domain' | 'no-such-mailbox' }

export interface IngestInput {
  raw: Uint8Array
  envelope: Envelope
}

export interface IngestResult {
  stored: { messageId: string; mailboxId: string; address: string }[]
  /** Recipients with no live mailbox at the time of storing. */
  rejected: string[]
}

export interface IngestFunnel {
  /** Asked at RCPT time: is there a live mailbox behind this address? */
  checkRecipient(address: string): Promise<RecipientVerdict>
  /** Stores one copy per live recipient mailbox; resolves only once they are committed. */
  ingestMessage(input: IngestInput): Promise<IngestResult>
}
