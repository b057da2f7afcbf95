// Event hub: one pub/sub subscription per API process, fanned out by mailbox, in each mailbox's event order.

import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import type { EphemailEvent, MailboxEvent, MailboxExpiredEvent } from '#lib/events.ts'
import { loggableError } from '#lib/loggable-error.ts'

export type HubListener = (event: MailboxEvent | MailboxExpiredEvent) => void

export interface HubSubscription {
  /**
   * The mailbox's last event number when listening began: every later event reaches the
   * listener in order, each once; anything up to this number is in storage (replay).
   */
  baselineSeq: number
  unsubscribe(): void
}

export interface EventHub {
  /**
   * Null when the mailbox does not exist (any more). `onClose` is called if the hub shuts down
   * first (the process is stopping): streams end, and their clients resume elsewhere.
   */
  subscribe(
    mailboxId: string,
    listener: HubListener,
    onClose?: () => void,
    /** The API key the listener's stream was opened with: revoking it calls `onClose`. */
    keyId?: string | null,
  ): Promise<HubSubscription | null>
  /** Listeners across all mailboxes (metrics, tests). */
  listenerCount(): number
  close(): void
}

interface Channel {
  mailboxId: string
  /** Each listener with its onClose and the API key it was opened with. */
  listeners: Map<HubListener, { onClose: (() => void) | undefined; keyId: string | null }>
  /** Last event number delivered; null while the baseline is being read. */
  delivered: number | null
  ready: Promise<number | null>
  /** Events that came early (a lower number is still missing), by number. */
  early: Map<number, MailboxEvent>
  gapTimer: ReturnType<typeof setTimeout> | null
  filling: boolean
}

/**
 * Events of one mailbox can reach this process out of order (several SMTP processes and workers
 * publish independently). Numbers have no holes, so a missing one is known to be committed: the
 * hub waits `gapWaitMs` for it to arrive and then reads it from storage, once for all listeners.
 */
export function createEventHub({
  pubsub,
  storage,
  gapWaitMs = 50,
}: {
  pubsub: PubSub
  storage: Storage
  gapWaitMs?: number
}): EventHub {
  const channels = new Map<string, Channel>()
  let listeners = 0

  function deliver(channel: Channel, event: MailboxEvent | MailboxExpiredEvent): void {
    for (const listener of channel.listeners.keys()) {
      try {
        listener(event)
      } catch (error) {
        console.error(`event listener failed: ${loggableError(error)}`)
      }
    }
  }

  /** Delivers every early event that is now next in line. */
  function flush(channel: Channel): void {
    if (channel.delivered === null) return
    for (
      let next = channel.early.get(channel.delivered + 1);
      next;
      next = channel.early.get(channel.delivered + 1)
    ) {
      channel.early.delete(next.seq)
      channel.delivered = next.seq
      deliver(channel, next)
    }
    if (channel.early.size === 0 && channel.gapTimer) {
      clearTimeout(channel.gapTimer)
      channel.gapTimer = null
    }
    if (channel.early.size > 0 && !channel.gapTimer && !channel.filling)
      channel.gapTimer = setTimeout(() => fillGap(channel), gapWaitMs)
  }

  async function fillGap(channel: Channel): Promise<void> {
    channel.gapTimer = null
    const { mailboxId } = channel
    if (channels.get(mailboxId) !== channel || channel.delivered === null || channel.early.size === 0) return
    const upTo = Math.max(...channel.early.keys())
    channel.filling = true
    try {
      for (const event of await storage.listMailboxEvents(mailboxId, channel.delivered, upTo))
        if (!channel.early.has(event.seq)) channel.early.set(event.seq, event)
    } catch (error) {
      console.error(`reading missed events failed: ${loggableError(error)}`)
    } finally {
      channel.filling = false
    }
    // Numbers storage does not have belong to messages deleted meanwhile: nothing to deliver.
    const missing = channel.delivered
    for (let seq = missing + 1; seq <= upTo && channel.delivered !== null; seq++) {
      const event = channel.early.get(seq)
      channel.early.delete(seq)
      channel.delivered = seq
      if (event) deliver(channel, event)
    }
    flush(channel)
  }

  /**
   * A key was changed or revoked: streams opened with it end unless it still exists, is unexpired and
   * may read (their clients reconnect, and get a 401 if the key is gone).
   */
  async function recheckKey(keyId: string): Promise<void> {
    let key: Awaited<ReturnType<Storage['getApiKey']>>
    try {
      key = await storage.getApiKey(keyId)
    } catch (error) {
      console.error(`re-checking a changed API key failed: ${loggableError(error)}`)
      return
    }
    const mayRead =
      key !== null &&
      (key.expiresAt === null || key.expiresAt > new Date()) &&
      (key.scopes.includes('read') || key.scopes.includes('admin'))
    if (mayRead) return
    for (const [mailboxId, channel] of [...channels])
      for (const [listener, entry] of [...channel.listeners])
        if (entry.keyId === keyId) {
          release(mailboxId, channel, listener)
          entry.onClose?.()
        }
  }

  function onEvent(event: EphemailEvent): void {
    if (event.type === 'key.changed') {
      void recheckKey(event.keyId)
      return
    }
    // for caches, not streams
    if (
      event.type === 'mailbox.changed' ||
      event.type === 'webhooks.changed' ||
      event.type === 'domains.changed'
    )
      return
    const channel = channels.get(event.mailboxId)
    if (!channel) return
    if (event.type === 'mailbox.expired') {
      deliver(channel, event)
      return
    }
    if (channel.delivered !== null && event.seq <= channel.delivered) return // a repeat
    channel.early.set(event.seq, event)
    flush(channel)
  }

  const unsubscribePubSub = pubsub.subscribe(onEvent)

  function release(mailboxId: string, channel: Channel, listener: HubListener): void {
    if (!channel.listeners.delete(listener)) return
    listeners--
    if (channel.listeners.size > 0 || channels.get(mailboxId) !== channel) return
    if (channel.gapTimer) clearTimeout(channel.gapTimer)
    channels.delete(mailboxId)
  }

  return {
    async subscribe(mailboxId, listener, onClose, keyId = null) {
      let channel = channels.get(mailboxId)
      if (!channel) {
        const created: Channel = {
          mailboxId,
          listeners: new Map(),
          delivered: null,
          ready: storage.currentEventSeq(mailboxId),
          early: new Map(),
          gapTimer: null,
          filling: false,
        }
        channels.set(mailboxId, created)
        created.ready.then(
          (seq) => {
            if (seq === null) return
            created.delivered = seq
            for (const early of created.early.keys()) if (early <= seq) created.early.delete(early)
            flush(created)
          },
          () => {},
        )
        channel = created
      }
      channel.listeners.set(listener, { onClose, keyId })
      listeners++
      const current = channel
      let baseline: number | null
      try {
        baseline = await current.ready
      } catch (error) {
        release(mailboxId, current, listener)
        throw error
      }
      if (baseline === null) {
        release(mailboxId, current, listener)
        return null
      }
      // A late joiner starts from what this channel has already delivered, not the first reading.
      return {
        baselineSeq: current.delivered ?? baseline,
        unsubscribe: () => release(mailboxId, current, listener),
      }
    },
    listenerCount: () => listeners,
    close() {
      unsubscribePubSub()
      const open = [...channels.values()]
      channels.clear()
      listeners = 0
      for (const channel of open) {
        if (channel.gapTimer) clearTimeout(channel.gapTimer)
        for (const { onClose } of channel.listeners.values()) onClose?.()
        channel.listeners.clear()
      }
    },
  }
}
