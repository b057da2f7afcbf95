// Shared domain types: what a mailbox and a message are, independent of storage and transport.

import type { MailAddress, ParsedMail } from './mail.ts'

export interface Mailbox {
  id: string
  address: string
  localPart: string
  domain: string
  createdAt: Date
  expiresAt: Date
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
  receivedAt: Date
  seen: boolean
  size: number
  hasAttachments: boolean
  /** The one-time code found by processing; null when none (or not processed yet). */
  otp: string | null
  /** The verification / sign-in / reset link found by processing. */
  link: string | null
  processing: ProcessingState
}

/** pending: stored, job not done yet; failed: the job gave up (the message stays readable). */
export type ProcessingState =
  | { state: 'pending' }
  | { state: 'processed'; at: Date }
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
}

/** SPF, DKIM, DMARC and ARC verdicts as mailauth reports them (`pass`, `fail`, `none`, ...). */
export interface AuthenticationResult {
  spf: string
  dkim: string
  dmarc: string
  arc: string
  /** The Authentication-Results header value mailauth produced. */
  header: string | null
}

export interface RankedCandidate {
  value: string
  confidence: number
  reasons: string[]
}

export interface MessageExtraction {
  otpCandidates: RankedCandidate[]
  linkCandidates: RankedCandidate[]
}

/** What the process-message job found. */
export interface ProcessingResult {
  otp: string | null
  link: string | null
  extraction: MessageExtraction
  authentication: AuthenticationResult | null
  safeHtml: string | null
}
