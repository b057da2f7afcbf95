// The events that side effects hang off: published after the fact, never required for correctness.

import type { MailAddress } from './mail.ts'

/**
 * Every event of a mailbox carries `seq`: a per-mailbox counter allocated in the same transaction
 * that stores the change, under the mailbox row's lock. So a mailbox's events commit in `seq`
 * order with no holes, which is what lets a stream resume from Last-Event-ID and fill any gap
 * left by events published out of order.
 */
export interface MessageReceivedEvent {
  type: 'message.received'
  mailboxId: string
  seq: number
  messageId: string
  address: string
  from: MailAddress | null
  subject: string | null
  receivedAt: string
}

export interface MessageProcessedEvent {
  type: 'message.processed'
  mailboxId: string
  seq: number
  messageId: string
  from: MailAddress | null
  subject: string | null
  otp: string | null
  link: string | null
  receivedAt: string
  processedAt: string
}

/** The mailbox is gone: its time ran out (`expired`) or its owner deleted it (`deleted`). Not persisted. */
export interface MailboxExpiredEvent {
  type: 'mailbox.expired'
  mailboxId: string
  reason: 'expired' | 'deleted'
}

/** The mailbox's address or lifetime changed: caches of it must let go. Not persisted, not streamed. */
export interface MailboxChangedEvent {
  type: 'mailbox.changed'
  mailboxId: string
}

/** A webhook was registered or deleted (for one mailbox, or null: an all-mail one): caches let go. */
export interface WebhooksChangedEvent {
  type: 'webhooks.changed'
  mailboxId: string | null
}

/** An API key was changed or revoked: live sessions opened with it check it again. Not persisted. */
export interface KeyChangedEvent {
  type: 'key.changed'
  keyId: string
}

/** A registered domain was added, verified, lost its verification or deleted: domain catalogs reload. */
export interface DomainsChangedEvent {
  type: 'domains.changed'
  name: string
}

export type MailboxEvent = MessageReceivedEvent | MessageProcessedEvent
export type EphemailEvent =
  | MailboxEvent
  | MailboxExpiredEvent
  | MailboxChangedEvent
  | WebhooksChangedEvent
  | KeyChangedEvent
  | DomainsChangedEvent

/** The events a mailbox's stream carries (SSE `event:`, WebSocket `event`), in the order of the API docs. */
export const STREAM_EVENT_NAMES = ['message.received', 'message.processed', 'mailbox.expired'] as const
export type StreamEventName = (typeof STREAM_EVENT_NAMES)[number]

/** The JSON body (`data`) of each streamed event, as clients see it: message ids, not mailbox ids. */
export interface StreamEventData {
  'message.received': {
    id: string
    address: string
    from: MailAddress | null
    subject: string | null
    receivedAt: string
  }
  'message.processed': StreamEventData['message.received'] & {
    otp: string | null
    link: string | null
    processedAt: string
  }
  'mailbox.expired': { address: string; reason: MailboxExpiredEvent['reason'] }
}

/** One event of a mailbox stream: its number (`id:`, what Last-Event-ID resumes after), name and body. */
export type StreamEvent = {
  [Name in StreamEventName]: { seq: number; event: Name; data: StreamEventData[Name] }
}[StreamEventName]

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Reads one SSE frame (its `id:`, `event:` and `data:`) into a StreamEvent; null for anything that is
 * not one (an unknown name, a body that is not the event's JSON), so a client ignores what it cannot use.
 */
export function parseStreamEvent(name: string, id: string, data: string): StreamEvent | null {
  if (!(STREAM_EVENT_NAMES as readonly string[]).includes(name) || !/^\d{1,10}$/.test(id)) return null
  let body: unknown
  try {
    body = JSON.parse(data)
  } catch {
    return null
  }
  if (!isObject(body) || typeof body.address !== 'string') return null
  if (name !== 'mailbox.expired' && (typeof body.id !== 'string' || typeof body.receivedAt !== 'string'))
    return null
  return { seq: Number(id), event: name, data: body } as StreamEvent
}
