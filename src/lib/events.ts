// The events that side effects hang off: published after the fact, never required for correctness.

import type { MailAddress } from './mail.ts'

export interface MessageStoredEvent {
  type: 'message.stored'
  mailboxId: string
  messageId: string
  address: string
  from: MailAddress | null
  subject: string | null
  receivedAt: string
}

export interface MessageProcessedEvent {
  type: 'message.processed'
  mailboxId: string
  messageId: string
  from: MailAddress | null
  subject: string | null
  otp: string | null
  link: string | null
  processedAt: string
}

export interface MailboxExpiredEvent {
  type: 'mailbox.expired'
  mailboxId: string
}

export type EphemailEvent = MessageStoredEvent | MessageProcessedEvent | MailboxExpiredEvent
