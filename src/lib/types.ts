// Shared domain types: what a mailbox and a message are, independent of storage and transport.

import type { MailAddress, ParsedMail } from './mail.ts'

export interface Mailbox {
  id: string
  address: string
  localPart: string
  domain: string
  createdAt: Date
  expiresAt: Date
  /** The API key that created it; null for anonymous and admin-created mailboxes. */
  ownerKeyId: string | null
}

/** What the SMTP session (or another ingest source) knew about the delivery. */
export interface Envelope {
  mailFrom: string | null
  rcptTo: string[]
  remoteAddress: string | null
  helo: string | null
  /** Which ingest source delivered the message: smtp, http, imap. */
  source: string
}

export interface MessageSummary {
  id: string
  mailboxId: string
  from: MailAddress | null
  subject: string | null
  /** ISO 8601 in UTC with milliseconds, as the API shows it (storage formats it, once). */
  receivedAt: string
  seen: boolean
  size: number
  hasAttachments: boolean
  /** The one-time code found by processing; null when none (or not processed yet). */
  otp: string | null
  /** The verification / sign-in / reset link found by processing. */
  link: string | null
  processing: ProcessingState
  /** Which ingest source delivered it: `smtp`, `http:raw`, `http:mailgun`, `imap:NAME`, ... */
  source: string
}

/** pending: stored, job not done yet; failed: the job gave up (the message stays readable). */
export type ProcessingState =
  | { state: 'pending' }
  | { state: 'processed' /** ISO 8601, like receivedAt */; at: string }
  | { state: 'failed'; error: string }

export interface StoredMessage extends MessageSummary {
  envelope: Envelope
  /** Null only when the raw message could not be parsed; `parseError` says why. */
  parsed: ParsedMail | null
  parseError: string | null
  extraction: MessageExtraction | null
  authentication: AuthenticationResult | null
  /** HTML safe to display: no scripts, handlers, forms, frames or javascript: URLs. */
  safeHtml: string | null
  /** What processing skipped or gave up on (a stage past its limit), each with the limit; empty normally. */
  processingNotes: string[]
}

/** SPF, DKIM, DMARC and ARC verdicts as mailauth reports them (`pass`, `fail`, `none`, ...). */
export interface AuthenticationResult {
  spf: string
  dkim: string
  dmarc: string
  arc: string
  /** The Authentication-Results header value mailauth produced. */
  header: string | null
  /** Why the checks were not run (the message is past a limit); the verdicts then say `skipped`. */
  skipped?: string
}

/** A possible one-time code or link, with its confidence (0 to 1) and the reasons that scored it. */
export interface Candidate {
  value: string
  confidence: number
  reasons: string[]
}

export interface MessageExtraction {
  otpCandidates: Candidate[]
  linkCandidates: Candidate[]
}

/** What the process-message job found. */
export interface ProcessingResult {
  otp: string | null
  link: string | null
  extraction: MessageExtraction
  authentication: AuthenticationResult | null
  safeHtml: string | null
  /** Stages skipped or given up on, each with the limit that stopped it. */
  notes: string[]
}

/** Which mail a webhook wants; every field given must match (an absent field matches everything). */
export interface WebhookFilter {
  /** Sender address (`alice@example.com`) or domain (`example.com`), case-insensitive. */
  from?: string
  /** Case-insensitive substring of the subject. */
  subjectContains?: string
  /** true: only mail with a code; false: only mail without one. */
  hasOtp?: boolean
}

export interface Webhook {
  id: string
  /** null: every mailbox (admin key), or every mailbox of `ownerKeyId` (an API key). */
  mailboxId: string | null
  /** The API key that registered it; null for the admin key and mailbox tokens. */
  ownerKeyId: string | null
  /** The mailbox's address, null for an all-mail webhook. */
  address: string | null
  url: string
  filter: WebhookFilter
  /** Body format of its deliveries: `standard` (Standard Webhooks), or a compatibility layer's name. */
  format: string
  createdAt: Date
}

/** pending: not tried yet; retrying: failed, will try again; delivered: a 2xx came back; dead: gave up. */
export type WebhookDeliveryState = 'pending' | 'retrying' | 'delivered' | 'dead'

export interface WebhookAttempt {
  at: string
  /** HTTP status of the answer, null when none came (timeout, refused, blocked). */
  status: number | null
  latencyMs: number
  error: string | null
}

export interface WebhookDelivery {
  id: string
  webhookId: string
  messageId: string
  eventType: string
  state: WebhookDeliveryState
  attempts: WebhookAttempt[]
  createdAt: Date
  updatedAt: Date
}

/** What a credential may do: read, change (create and delete mailboxes, messages, webhooks), administer. */
export type Scope = 'read' | 'write' | 'admin'
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin']

/** An API key as stored, without its secret (only its SHA-256 is kept). */
export interface ApiKey {
  id: string
  name: string
  /** The first characters of the key (`eph_` and 8 more), to recognise it in lists. */
  prefix: string
  scopes: Scope[]
  /** A rate-limit plan name from the configuration. */
  plan: string
  /** Domains its mailboxes may use; null: every domain its plan allows. */
  allowedDomains: string[] | null
  createdAt: Date
  expiresAt: Date | null
  lastUsedAt: Date | null
}

/** A receiving domain registered through the admin API, with the outcome of its last MX check. */
export interface RegisteredDomain {
  name: string
  type: 'public' | 'custom' | 'premium'
  /** null: usable by every caller allowed its type; else only by these key ids. */
  privateToKeys: string[] | null
  status: 'pending' | 'verified'
  /** What the last check found wrong (empty when verified). */
  problems: string[]
  /** The MX hosts the last check saw. */
  mxHosts: string[]
  createdAt: Date
  checkedAt: Date | null
  verifiedAt: Date | null
}
