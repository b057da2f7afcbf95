// One mailbox's live feed for a stream client: replay from a resume point, then live events, in order, each once.

import type { Storage } from '#contracts/storage.ts'
import type { MailboxEvent, MailboxExpiredEvent, StreamEventData, StreamEventName } from '#lib/events.ts'
import { loggableError } from '#lib/loggable-error.ts'
import type { Mailbox } from '#lib/types.ts'
import type { EventHub } from './event-hub.ts'

export type FeedEvent = MailboxEvent | MailboxExpiredEvent

export interface MailboxFeed {
  /** The number of the last event handed to `onEvent` (or the starting point). */
  lastSeq(): number
  close(): void
}

/**
 * Subscribes first and reads storage second, so nothing committed in between is missed; events that
 * arrive during the replay wait, and anything at or below the last number sent is dropped.
 * Resolves null when the mailbox is gone.
 */
export async function openMailboxFeed({
  hub,
  storage,
  mailbox,
  now,
  resumeAfter,
  onEvent,
  onClose,
  keyId = null,
}: {
  hub: EventHub
  storage: Storage
  mailbox: Mailbox
  now: () => Date
  /** Last-Event-ID: replay everything numbered after it. Null: only what happens from now. */
  resumeAfter: number | null
  /** `replayed`: read from storage for a resume, as opposed to happening now. */
  onEvent(event: FeedEvent, replayed: boolean): void
  /**
   * The server is shutting down, or the API key the feed was opened with was revoked: end the stream so
   * the client reconnects (and resumes elsewhere, or learns its key is gone).
   */
  onClose(): void
  /** The API key the feed is opened with, if any. */
  keyId?: string | null
}): Promise<MailboxFeed | null> {
  const mailboxId = mailbox.id
  let last = -1
  let replaying = true
  let closed = false
  const held: FeedEvent[] = []
  const forward = (event: FeedEvent, replayed = false) => {
    if (closed) return
    if (event.type === 'mailbox.expired')
      closed = true // the last event: nothing follows it
    else {
      if (event.seq <= last) return
      last = event.seq
    }
    onEvent(event, replayed)
  }
  const subscription = await hub.subscribe(
    mailboxId,
    (event) => {
      if (replaying) held.push(event)
      else forward(event)
    },
    () => {
      if (closed) return
      closed = true
      onClose()
    },
    keyId,
  )
  if (!subscription) return null
  const baseline = subscription.baselineSeq
  try {
    if (resumeAfter !== null && resumeAfter < baseline) {
      last = resumeAfter
      for (const event of await storage.listMailboxEvents(mailboxId, resumeAfter, baseline))
        forward(event, true)
    }
  } catch (error) {
    subscription.unsubscribe()
    throw error
  }
  // Past the replay, the hub's order takes over: everything after the baseline, each once.
  last = Math.max(last, baseline)
  replaying = false
  for (const event of held.splice(0)) forward(event)
  // The sweeper announces expiry only when it deletes; a timer says it when the time is up.
  const expiry = watchExpiry(storage, mailbox, now, () =>
    forward({ type: 'mailbox.expired', mailboxId, reason: 'expired' }),
  )
  return {
    lastSeq: () => last,
    close() {
      closed = true
      expiry.stop()
      subscription.unsubscribe()
    },
  }
}

/** setTimeout's ceiling (about 24.8 days); a longer TTL is re-checked when it fires. */
const MAX_TIMER_MS = 2_147_483_647

/** Calls `onExpired` once the mailbox is no longer live, re-reading it in case its TTL was extended. */
function watchExpiry(storage: Storage, mailbox: Mailbox, now: () => Date, onExpired: () => void) {
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false
  const arm = (expiresAt: Date) => {
    const delay = Math.min(Math.max(expiresAt.getTime() - now().getTime(), 0) + 5, MAX_TIMER_MS)
    timer = setTimeout(check, delay)
  }
  const check = async () => {
    if (stopped) return
    try {
      const live = await storage.findLiveMailboxById(mailbox.id, now())
      if (stopped) return
      if (live) arm(live.expiresAt)
      else onExpired()
    } catch (error) {
      console.error(`checking mailbox expiry failed: ${loggableError(error)}`)
      if (!stopped) timer = setTimeout(check, 1000)
    }
  }
  arm(mailbox.expiresAt)
  return {
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}

/** The JSON body of an event as clients see it (SSE `data:`, WebSocket `data`, webhook `data`). */
export function eventData(event: FeedEvent, address: string): StreamEventData[StreamEventName] {
  // One key order whether the event came live or from storage, so replays are byte-identical.
  const from =
    event.type === 'mailbox.expired' || !event.from
      ? null
      : { address: event.from.address, name: event.from.name }
  switch (event.type) {
    case 'message.received':
      return {
        id: event.messageId,
        address: event.address,
        from,
        subject: event.subject,
        receivedAt: event.receivedAt,
      }
    case 'message.processed':
      return {
        id: event.messageId,
        address,
        from,
        subject: event.subject,
        otp: event.otp,
        link: event.link,
        receivedAt: event.receivedAt,
        processedAt: event.processedAt,
      }
    case 'mailbox.expired':
      return { address, reason: event.reason }
  }
}

const encoder = new TextEncoder()

/**
 * Encodes SSE frames. Frames of message events are cached per event object and mailbox address,
 * so a fan-out to thousands of streams encodes once (the cache lets go of an event with it).
 */
export function createSseEncoder() {
  const cache = new WeakMap<FeedEvent, { address: string; bytes: Uint8Array }>()
  return function sseFrame(event: FeedEvent, address: string, lastSeq: number): Uint8Array {
    const cached = cache.get(event)
    if (cached && cached.address === address) return cached.bytes
    // mailbox.expired has no number of its own: it repeats the last one, so a resume asks for nothing old.
    const id = event.type === 'mailbox.expired' ? lastSeq : event.seq
    const bytes = encoder.encode(
      `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(eventData(event, address))}\n\n`,
    )
    if (event.type !== 'mailbox.expired') cache.set(event, { address, bytes })
    return bytes
  }
}

export const SSE_HEARTBEAT = encoder.encode(': keep-alive\n\n')

/** Parses Last-Event-ID: a whole number we sent earlier. */
export function parseEventId(value: string): number | null {
  return /^\d{1,10}$/.test(value) ? Number(value) : null
}
