// Waiting for mail on the mailbox's event stream: no polling, resumed after a cut, bounded by one deadline.

import { parseStreamEvent } from '#lib/events.ts'
import { EphemailTimeout } from './errors.ts'
import { readSseFrames } from './sse.ts'
import type { CallOptions, Mailbox, Message, MessageFilter, MessagePage, WaitOptions } from './types.ts'

/** How long a wait lasts when the caller does not say: long enough for a slow mail server, short for a test. */
export const DEFAULT_WAIT_MS = 30_000
/** Pause before reopening a stream the server ended, so a server going down is not called in a tight loop. */
const RECONNECT_DELAY_MS = 1_000
/** The newest messages looked at when a wait starts; older mail is not what anyone waits for. */
const EXISTING_MESSAGES_LOOKED_AT = 100

/** What a message is known to hold once processed, from a list item or a `message.processed` event. */
export interface Candidate {
  id: string
  from: { address: string; name: string } | null
  subject: string | null
  receivedAt: string
  otp: string | null
  link: string | null
}

/** The calls a wait makes, bound to the client's credential and base URL. */
export interface WaitDeps {
  openEvents(
    address: string,
    lastEventId: string | null,
    call: CallOptions,
  ): Promise<ReadableStream<Uint8Array>>
  listMessages(
    address: string,
    query: { limit: number; after?: string },
    call: CallOptions,
  ): Promise<MessagePage>
  getMessage(id: string, call: CallOptions): Promise<Message>
  getMailbox(address: string, call: CallOptions): Promise<Mailbox>
}

/** What a wait is for: its name in a timeout's message, and the value a processed message yields (or null). */
export interface Wanted<T> {
  what: string
  take(candidate: Candidate, full: () => Promise<Message>): Promise<T | null>
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function fromMatches(wanted: string, from: Candidate['from']): boolean {
  if (!from) return false
  const address = from.address.toLowerCase()
  const target = wanted.toLowerCase()
  if (target.includes('@') && !target.startsWith('@')) return address === target
  return address.endsWith(`@${target.replace(/^@/, '')}`)
}

/** The conditions that need only what the server knows at receipt (subject and From are read then). */
function passesHeaders(filter: MessageFilter, item: { subject: string | null; from: Candidate['from'] }) {
  if (filter.subject !== undefined) {
    const subject = item.subject ?? ''
    if (
      typeof filter.subject === 'string' ? !subject.includes(filter.subject) : !filter.subject.test(subject)
    )
      return false
  }
  return filter.from === undefined || fromMatches(filter.from, item.from)
}

/** "one-time code from no-reply@acme.example with subject "Verify"": what a timeout says was awaited. */
export function describeWait(what: string, filter: MessageFilter): string {
  const parts = [what]
  if (filter.from !== undefined) parts.push(`from ${filter.from}`)
  if (filter.subject !== undefined)
    parts.push(
      `with subject ${typeof filter.subject === 'string' ? JSON.stringify(filter.subject) : filter.subject}`,
    )
  if (filter.match) parts.push('accepted by match()')
  return parts.join(' ')
}

/**
 * Resolves with the first value `wanted` takes from a message of `address` that passes `filter`: the
 * newest one already there, else the next to arrive. The event stream is opened before the mailbox is
 * listed, so mail landing in between is on the stream rather than missed; a message still being
 * processed is waited for (its `message.processed` event) before it is judged, and judged newest first.
 */
export async function waitFor<T>(
  deps: WaitDeps,
  address: string,
  wanted: Wanted<T>,
  filter: MessageFilter,
  options: WaitOptions,
): Promise<T | null> {
  const timeoutMs = options.timeout ?? DEFAULT_WAIT_MS
  const stop = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    stop.abort(new EphemailTimeout(address, describeWait(wanted.what, filter), timeoutMs))
  }, timeoutMs)
  const cancel = () => stop.abort(options.signal?.reason)
  if (options.signal?.aborted) cancel()
  options.signal?.addEventListener('abort', cancel, { once: true })
  const call: CallOptions = { signal: stop.signal, ...(options.token ? { token: options.token } : {}) }
  const sinceMs = options.since === undefined ? null : new Date(options.since).getTime()
  // Message ids are UUIDv7 in lower case: their text order is their arrival order, as the server's `after`.
  const inWindow = (item: { id: string; receivedAt: string }) =>
    (sinceMs === null || new Date(item.receivedAt).getTime() > sinceMs) &&
    (options.after === undefined || item.id > options.after.toLowerCase())

  const judge = async (candidate: Candidate): Promise<T | null> => {
    let fetched: Promise<Message> | undefined
    const full = () => {
      fetched ??= deps.getMessage(candidate.id, call)
      return fetched
    }
    if (filter.match && !filter.match(await full())) return null
    return wanted.take(candidate, full)
  }

  try {
    // Messages that pass the header conditions but are still being processed, newer than `fallback`.
    const processing = new Set<string>()
    let fallback: { value: T } | null = null
    let lastEventId: string | null = null
    let listed = false
    for (;;) {
      const stream = await deps.openEvents(address, lastEventId, call)
      if (!listed) {
        listed = true
        const page = await deps.listMessages(
          address,
          { limit: EXISTING_MESSAGES_LOOKED_AT, ...(options.after ? { after: options.after } : {}) },
          call,
        )
        for (const item of page.items) {
          if (!inWindow(item) || !passesHeaders(filter, item)) continue
          if (item.processing.state === 'pending') {
            processing.add(item.id)
            continue
          }
          const value = await judge(item)
          if (value === null) continue
          if (processing.size === 0) {
            await stream.cancel().catch(() => {})
            return value
          }
          fallback = { value }
          break
        }
      }
      for await (const frame of readSseFrames(stream)) {
        if (frame.id !== null) lastEventId = frame.id
        const event = parseStreamEvent(frame.event, frame.id ?? '', frame.data)
        if (!event) continue
        if (event.event === 'mailbox.expired') {
          // Gone (a 404 problem is thrown), or still there under this name: then the stream is reopened.
          await deps.getMailbox(address, call)
          break
        }
        const item = event.data
        if (!inWindow(item) || !passesHeaders(filter, item)) continue
        if (event.event === 'message.received') {
          processing.add(item.id)
          continue
        }
        processing.delete(item.id)
        const value = await judge({ ...event.data, id: item.id })
        if (value !== null) return value
        if (processing.size === 0 && fallback) return fallback.value
      }
      // The stream ended (a restart, a proxy's limit): resume after the last event seen.
      await pause(RECONNECT_DELAY_MS, stop.signal)
    }
  } catch (error) {
    if (timedOut) {
      if (options.nullOnTimeout) return null
      throw stop.signal.reason
    }
    throw error
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', cancel)
    if (!stop.signal.aborted) stop.abort() // ends the stream's connection on every way out
  }
}
