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
}

export interface StoredMessage extends MessageSummary {
  envelope: Envelope
  /** Null only when the raw message could not be parsed; `parseError` says why. */
  parsed: ParsedMail | null
  parseError: string | null
}
