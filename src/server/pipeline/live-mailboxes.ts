// Live mailboxes by address, remembered for a moment: RCPT, DATA and API reads of a busy mailbox skip the lookup.

import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import { createTtlCache } from '#lib/ttl-cache.ts'
import type { Mailbox } from '#lib/types.ts'

/**
 * How long a live mailbox is trusted without asking storage again. Its expiry is still checked on
 * every use, and a rename, extension or delete drops it at once: in this process through `forget`,
 * in every process through the mailbox.changed / mailbox.expired events.
 */
export const LIVE_MAILBOX_CACHE_MS = 2000
/** Entries at most; past it the longest remembered go first (and are looked up again when asked for). */
export const LIVE_MAILBOX_CACHE_ENTRIES = 10_000

export interface LiveMailboxes {
  /** The live mailboxes among `addresses` (normalised), from memory when all are known. */
  find(addresses: string[], at: Date): Promise<Mailbox[]>
  findOne(address: string, at: Date): Promise<Mailbox | null>
  /** Drops a mailbox at once (it was renamed, extended or deleted by this process). */
  forget(mailboxId: string): void
  /** Stops listening for events. */
  close(): void
}

export function createLiveMailboxes({
  storage,
  pubsub,
  ttlMs = LIVE_MAILBOX_CACHE_MS,
}: {
  storage: Storage
  pubsub: PubSub
  ttlMs?: number
}): LiveMailboxes {
  // Only live mailboxes are remembered, never an absence: one created a moment ago must be found.
  // Callers pass the time of what they are doing (`at`), so entries are judged by it, not by a clock.
  const remembered = createTtlCache<string, Mailbox>({ ttlMs, maxEntries: LIVE_MAILBOX_CACHE_ENTRIES })

  function known(address: string, at: Date): Mailbox | null {
    const mailbox = remembered.get(address, at.getTime())
    if (mailbox === undefined) return null
    if (mailbox.expiresAt > at) return mailbox
    remembered.delete(address)
    return null
  }

  function forget(mailboxId: string): void {
    remembered.deleteWhere((mailbox) => mailbox.id === mailboxId)
  }

  const unsubscribe = pubsub.subscribe((event) => {
    if (event.type === 'mailbox.changed' || event.type === 'mailbox.expired') forget(event.mailboxId)
  })

  async function find(addresses: string[], at: Date): Promise<Mailbox[]> {
    const cached = addresses.map((address) => known(address, at))
    if (cached.every((mailbox) => mailbox !== null)) return cached as Mailbox[]
    const found = await storage.findLiveMailboxesByAddresses(addresses, at)
    for (const mailbox of found) remembered.set(mailbox.address, mailbox, at.getTime())
    return found
  }

  return {
    find,
    async findOne(address, at) {
      return (await find([address], at))[0] ?? null
    },
    forget,
    close: unsubscribe,
  }
}
