// What the core operations need: settings, storage, events and clock, passed in by whoever composes Ephemail.

import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import type { DomainType, ReceivingDomain } from '#lib/address.ts'
import type { Mailbox } from '#lib/types.ts'
import type { MxResolver } from './domain-check.ts'
import type { ServedDomain } from './domains.ts'

/** A named rate-limit plan: what a key on it (or, `anonymous`, a client IP without a key) may use. */
export interface Plan {
  /** Requests per window, every route together. */
  readonly requests: number
  readonly windowSeconds: number
  /** Mailboxes created per rolling hour. */
  readonly mailboxesPerHour: number
  /** Messages one mailbox holds at once (more mail is refused until some are deleted); null: no limit. */
  readonly messagesPerMailbox: number | null
  /** Whether answers with an error status count against `requests` (some services count only successes). */
  readonly countFailed: boolean
  /** Domain types its mailboxes may use. */
  readonly domainTypes: readonly DomainType[]
}

/** The part of the configuration the operations read (the server's Config satisfies it). */
export interface CoreSettings {
  readonly domains: readonly ReceivingDomain[]
  readonly ttl: { readonly defaultSeconds: number; readonly minSeconds: number; readonly maxSeconds: number }
  /** Whether mailboxes may be created without a credential. */
  readonly anonymous: boolean
  readonly webhooks: { readonly maxPerMailbox: number }
  /** Plans by name; `anonymous`, `default` and `admin` always exist. */
  readonly plans: Readonly<Record<string, Plan>>
  /** Where a registered domain's MX must point (EPHEMAIL_MX_HOSTS). */
  readonly domainChecks: { readonly mxHosts: readonly string[] }
}

/** Live mailboxes by address, possibly remembered for a moment (the funnel shares the same memory). */
export interface MailboxLookup {
  findOne(address: string, at: Date): Promise<Mailbox | null>
  /** Drops what is remembered about a mailbox that was renamed, extended or deleted. */
  forget(mailboxId: string): void
}

/** The domains this deployment receives mail for, configured and registered (kept current in every process). */
export interface DomainCatalog {
  list(): Promise<ServedDomain[]>
  find(name: string): Promise<ServedDomain | null>
  /**
   * Reloads now, after this process changed a registered domain, so its next request sees the change;
   * other processes hear the domains.changed event.
   */
  refresh(): Promise<void>
}

export interface CoreDeps {
  settings: CoreSettings
  domains: DomainCatalog
  storage: Storage
  pubsub: PubSub
  mailboxes: MailboxLookup
  /**
   * Throws a 422 ProblemError when deliveries could not or must not reach `url` (loopback, private,
   * metadata, unresolvable). An effect (DNS), so it is passed in rather than imported.
   */
  checkWebhookUrl(url: string): Promise<void>
  /** DNS for the MX check of registered domains; an effect, so passed in. */
  mxResolver: MxResolver
  now: () => Date
}
