// One WebSocket connection's subscriptions: JSON commands in, the mailboxes' events out, one feed per mailbox.

import type { Principal } from '#contracts/auth.ts'
import type { Storage } from '#contracts/storage.ts'
import { loggableError } from '#lib/loggable-error.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { EventHub } from './event-hub.ts'
import { eventData, type MailboxFeed, openMailboxFeed } from './live-feed.ts'

/** Client → server. */
export type ClientCommand =
  | { type: 'subscribe'; address: string; token?: string; lastEventId?: number }
  | { type: 'unsubscribe'; address: string }
  | { type: 'ping' }

/** Server → client. */
export type ServerMessage =
  | { type: 'subscribed'; address: string; lastEventId: number }
  | { type: 'unsubscribed'; address: string; reason: 'requested' | 'expired' | 'deleted' }
  | { type: 'event'; event: string; address: string; id: number; data: Record<string, unknown> }
  | { type: 'error'; status: number; detail: string; address?: string }
  | { type: 'pong' }

export interface WebSocketSession {
  receive(message: unknown): void
  close(): void
}

function parseCommand(message: unknown): ClientCommand | string {
  let value = message
  if (typeof message === 'string') {
    try {
      value = JSON.parse(message)
    } catch {
      return 'the message is not JSON'
    }
  }
  if (!value || typeof value !== 'object') return 'the message must be a JSON object with a "type"'
  const command = value as Record<string, unknown>
  switch (command.type) {
    case 'ping':
      return { type: 'ping' }
    case 'unsubscribe':
      if (typeof command.address !== 'string') return 'unsubscribe needs "address" (a string)'
      return { type: 'unsubscribe', address: command.address }
    case 'subscribe': {
      if (typeof command.address !== 'string') return 'subscribe needs "address" (a string)'
      if (command.token !== undefined && typeof command.token !== 'string') return '"token" must be a string'
      const lastEventId = command.lastEventId
      if (lastEventId !== undefined && !(Number.isInteger(lastEventId) && (lastEventId as number) >= 0))
        return '"lastEventId" must be a whole number this server sent'
      return {
        type: 'subscribe',
        address: command.address,
        ...(command.token === undefined ? {} : { token: command.token as string }),
        ...(lastEventId === undefined ? {} : { lastEventId: lastEventId as number }),
      }
    }
    default:
      return `unknown "type" ${JSON.stringify(command.type)}: use subscribe, unsubscribe or ping`
  }
}

/** What a subscribe needs to know: who a token stands for, and which mailbox that principal may follow. */
export interface SubscriptionAccess {
  principalOf(token: string): Promise<Principal>
  /** A live mailbox the principal may use, or a 404 ProblemError. */
  findMailbox(principal: Principal, address: string): Promise<Mailbox>
}

export function createWebSocketSession({
  principal,
  send,
  shutDown,
  access,
  hub,
  storage,
  maxSubscriptions,
  now,
}: {
  /** Who connected (header or access_token at the upgrade); null: each subscribe brings a token. */
  principal: Principal | null
  /** `replayed`: part of a resume's replay (sent at once), not a live event. */
  send(message: ServerMessage, replayed?: boolean): void
  /** The server is stopping: close the connection (1001) so the client reconnects elsewhere. */
  shutDown(): void
  access: SubscriptionAccess
  hub: EventHub
  storage: Storage
  maxSubscriptions: number
  now: () => Date
}): WebSocketSession {
  /** By normalized address; a pending subscribe holds its place so a repeat cannot race it. */
  const feeds = new Map<string, MailboxFeed | 'opening'>()
  let closed = false

  async function subscribe(command: Extract<ClientCommand, { type: 'subscribe' }>): Promise<void> {
    const address = command.address.trim().toLowerCase()
    if (feeds.has(address)) throw new ProblemError(409, 'conflict', `Already subscribed to ${address}`)
    if (feeds.size >= maxSubscriptions)
      throw new ProblemError(
        429,
        'limit-exceeded',
        `At most ${maxSubscriptions} mailboxes per connection (EPHEMAIL_WS_MAX_SUBSCRIPTIONS)`,
      )
    feeds.set(address, 'opening')
    try {
      const who = command.token !== undefined ? await access.principalOf(command.token) : principal
      if (!who)
        throw new ProblemError(
          401,
          'unauthorized',
          'Send "token" (the mailbox token or admin key) with subscribe, or connect with a credential',
        )
      const mailbox = await access.findMailbox(who, address)
      // Events may flow while the feed opens (the replay), before `opened` is set.
      let opened: MailboxFeed | null = null
      const feed = await openMailboxFeed({
        hub,
        storage,
        mailbox,
        now,
        resumeAfter: command.lastEventId ?? null,
        onEvent(event, replayed) {
          if (event.type === 'mailbox.expired') {
            send({
              type: 'event',
              event: event.type,
              address,
              id: opened?.lastSeq() ?? 0,
              data: eventData(event, address),
            })
            send({ type: 'unsubscribed', address, reason: event.reason })
            opened?.close()
            feeds.delete(address)
            return
          }
          send(
            { type: 'event', event: event.type, address, id: event.seq, data: eventData(event, address) },
            replayed,
          )
        },
        onClose: shutDown,
        keyId: who.kind === 'key' ? who.keyId : null,
      })
      opened = feed
      if (!feed) throw new ProblemError(404, 'not-found', `No mailbox ${address} (it may have expired)`)
      if (closed || feeds.get(address) !== 'opening') {
        feed.close()
        return
      }
      feeds.set(address, feed)
      send({ type: 'subscribed', address, lastEventId: feed.lastSeq() })
    } catch (error) {
      if (feeds.get(address) === 'opening') feeds.delete(address)
      throw error
    }
  }

  function fail(error: unknown, address?: string): void {
    if (closed) return
    if (error instanceof ProblemError)
      send({ type: 'error', status: error.status, detail: error.message, ...(address ? { address } : {}) })
    else {
      console.error(`websocket command failed: ${loggableError(error)}`)
      send({ type: 'error', status: 500, detail: 'Internal error', ...(address ? { address } : {}) })
    }
  }

  return {
    receive(message) {
      if (closed) return
      const command = parseCommand(message)
      if (typeof command === 'string') {
        send({ type: 'error', status: 400, detail: command })
        return
      }
      switch (command.type) {
        case 'ping':
          send({ type: 'pong' })
          return
        case 'subscribe':
          subscribe(command).catch((error) => fail(error, command.address))
          return
        case 'unsubscribe': {
          const address = command.address.trim().toLowerCase()
          const feed = feeds.get(address)
          if (!feed) {
            send({ type: 'error', status: 404, detail: `Not subscribed to ${address}`, address })
            return
          }
          if (feed !== 'opening') feed.close()
          feeds.delete(address)
          send({ type: 'unsubscribed', address, reason: 'requested' })
        }
      }
    },
    close() {
      closed = true
      for (const feed of feeds.values()) if (feed !== 'opening') feed.close()
      feeds.clear()
    },
  }
}
