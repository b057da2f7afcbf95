// Long-poll: hold a request until an event of the mailbox says there may be news, or the wait runs out.

import type { MailboxEvent, MailboxExpiredEvent } from '#lib/events.ts'
import type { EventHub } from './event-hub.ts'

/** Longest long-poll: long enough for a slow sender, short enough that proxies keep the request. */
export const MAX_WAIT_SECONDS = 300

/**
 * Answers with `look()` at once if it finds something or there is no wait; otherwise listens first,
 * looks, and looks again when `wakesOn` accepts an event (or the mailbox expires, or time is up).
 * Listening before looking means news committed in between wakes the request instead of being missed.
 */
export async function longPoll<T>({
  hub,
  mailboxId,
  waitSeconds,
  request,
  server,
  look,
  found,
  wakesOn,
}: {
  hub: EventHub
  mailboxId: string
  waitSeconds: number
  request: Request
  server: { timeout(request: Request, seconds: number): void } | null
  look(): Promise<T>
  found(result: T): boolean
  wakesOn(event: MailboxEvent): boolean
}): Promise<T> {
  if (waitSeconds === 0) return look()
  let wake: () => void = () => {}
  const woken = new Promise<void>((resolve) => {
    wake = resolve
  })
  const subscription = await hub.subscribe(
    mailboxId,
    (event: MailboxEvent | MailboxExpiredEvent) => {
      if (event.type === 'mailbox.expired' || wakesOn(event)) wake()
    },
    () => wake(), // shutting down: answer with what there is now
  )
  try {
    const first = await look()
    if (found(first) || !subscription) return first
    server?.timeout(request, 0) // quiet by design; Bun would cut it after its 10 s idle timeout
    let timer: ReturnType<typeof setTimeout> | undefined
    const aborted = new Promise<void>((resolve) =>
      request.signal.addEventListener('abort', () => resolve(), { once: true }),
    )
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitSeconds * 1000)
    })
    await Promise.race([woken, expired, aborted])
    clearTimeout(timer)
    return look()
  } finally {
    subscription?.unsubscribe()
  }
}
