// What the core operations need: settings, storage, events and clock, passed in by whoever composes Ephemail.

import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import type { ReceivingDomain } from '#lib/address.ts'
import type { Mailbox } from '#lib/types.ts'

/** The part of the configuration the operations read (the server's Config satisfies it). */
export interface CoreSettings {
  readonly domains: readonly ReceivingDomain[]
  readonly ttl: { readonly defaultSeconds: number; readonly minSeconds: number; readonly maxSeconds: number }
  /** Whether mailboxes may be created without a credential. */
  readonly anonymous: boolean
  readonly webhooks: { readonly maxPerMailbox: number }
}

/** Live mailboxes by address, possibly remembered for a moment (the funnel shares the same memory). */
export interface MailboxLookup {
  findOne(address: string, at: Date): Promise<Mailbox | null>
  /** Drops what is remembered about a mailbox that was renamed, extended or deleted. */
  forget(mailboxId: string): void
}

export interface CoreDeps {
  settings: CoreSettings
  storage: Storage
  pubsub: PubSub
  mailboxes: MailboxLookup
  /**
   * Throws a 422 ProblemError when deliveries could not or must not reach `url` (loopback, private,
   * metadata, unresolvable). An effect (DNS), so it is passed in rather than imported.
   */
  checkWebhookUrl(url: string): Promise<void>
  now: () => Date
}
