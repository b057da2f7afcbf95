// Ingest contract: a source of mail (SMTP, inbound HTTP, IMAP poll) and the one funnel every source hands messages to.

import type { Envelope, Mailbox } from '#lib/types.ts'
import type { RateLimiter } from './rate-limit.ts'

/**
 * A source of mail. It hands every message to the funnel and answers its peer (250, 202) only once
 * the funnel has stored it. A source that receives over HTTP (an inbound webhook) contributes its
 * routes: a scoped Elysia instance with its own body parser and size limit, mounted on the API
 * beside the JSON routes and outside their 64 KB JSON-only body rule.
 */
export interface IngestSource {
  readonly name: string
  /** Routes for the API process, with the paths they own and the largest body they accept. */
  readonly http?: IngestHttpRoutes
  /** The port it listens on once started, for a source with a listener of its own (SMTP). */
  port?(): number
  /** The port of its implicit-TLS listener (SMTPS), when it has one. */
  tlsPort?(): number | null
  start(): Promise<void>
  stop(): Promise<void>
}

export interface IngestHttpRoutes {
  /** A named Elysia instance (typed loosely here so contracts do not depend on the web framework). */
  readonly routes: unknown
  /** Paths under this prefix are this source's: the API's JSON body rule does not apply to them. */
  readonly pathPrefix: string
  /** Largest request body accepted on those paths (413 past it). */
  readonly maxBodyBytes: number
  /** Its OpenAPI tag and the security schemes its operations name (they authenticate their own way). */
  readonly openapi?: {
    readonly tag: { readonly name: string; readonly description: string }
    readonly securitySchemes: Readonly<Record<string, unknown>>
  }
}

/** What every ingest source is created with. */
export interface IngestContext {
  funnel: IngestFunnel
  /** Counters for per-client limits (shared by every process when they share Redis); none: no such limits. */
  limiter?: RateLimiter
}

/** Every ingest plugin exports `create` of this type. */
export type IngestSourceFactory<Options> = (options: Options, context: IngestContext) => IngestSource

export type RecipientVerdict =
  | { accepted: true; mailbox: Mailbox }
  | {
      accepted: false
      /** `mailbox-full`: it holds its plan's messagesPerMailbox; a temporary refusal (space may free up). */
      reason: 'invalid-address' | 'unknown-domain' | 'no-such-mailbox' | 'mailbox-full'
    }

/**
 * Which source delivered a message, stored on it and shown in the API: `smtp`, `http:raw`,
 * `http:mailgun`, `http:sendgrid`, `http:postmark`, `http:cloudflare`, `imap:NAME`.
 */
export type IngestSourceName = string

export interface IngestInput {
  raw: Uint8Array
  envelope: Envelope
  /** Which source delivered it; the funnel stores it (and writes it into the envelope's `source`). */
  source: IngestSourceName
  /**
   * What makes a redelivery of this message recognisable (a provider's message id, an IMAP
   * UIDVALIDITY+UID, else Message-ID): a message whose (mailbox, dedupeKey) is already stored is not
   * stored again. Absent: every delivery is stored (SMTP).
   */
  dedupeKey?: string
}

export interface StoredCopy {
  messageId: string
  mailboxId: string
  address: string
  /** True: this (mailbox, dedupeKey) was stored earlier; `messageId` is that earlier message's id. */
  duplicate: boolean
}

export interface IngestResult {
  /** One entry per live recipient mailbox, newly stored or already there (duplicate). */
  stored: StoredCopy[]
  /** Recipients with no live mailbox at the time of storing. */
  rejected: string[]
}

/** Thrown by `ingestMessage` for a message past the size limit; the source answers 552/413. */
export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError'
}

export interface IngestFunnel {
  /** Asked at RCPT time: is there a live mailbox behind this address? */
  checkRecipient(address: string): Promise<RecipientVerdict>
  /**
   * Stores one copy per live recipient mailbox (none again where its dedupeKey is already stored);
   * resolves only once they are committed. Throws MessageTooLargeError past the size limit.
   */
  ingestMessage(input: IngestInput): Promise<IngestResult>
}
