// Server-Sent Events for one mailbox: framing, shared heartbeats, resume after Last-Event-ID, slow readers cut off.

import type { Storage } from '#contracts/storage.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { EventHub } from './event-hub.ts'
import {
  createSseEncoder,
  type FeedEvent,
  type MailboxFeed,
  openMailboxFeed,
  parseEventId,
  SSE_HEARTBEAT,
} from './live-feed.ts'

/** How long a browser waits before reconnecting (the SSE `retry:` field). */
const RECONNECT_MS = 2000
/** A replay is handed over while the reader has less than this outstanding... */
const REPLAY_WINDOW_BYTES = 256 * 1024
/** ...and otherwise checked again after this long. */
const REPLAY_POLL_MS = 5

/** Where a stream resumes: after the Last-Event-ID header, else the query's id; null for a fresh stream. */
export function resumePoint(header: string | null, query: string | undefined): number | null {
  const raw = header ?? query
  if (raw === undefined || raw === null || raw.trim() === '') return null
  const seq = parseEventId(raw.trim())
  if (seq === null)
    throw new ProblemError(
      400,
      'validation-failed',
      `Last-Event-ID "${raw}" is not an event id this server sent (a whole number)`,
    )
  return seq
}

export interface SseSettings {
  /** How often a quiet stream gets a comment line, so proxies and Bun's idle timeout keep it open. */
  readonly heartbeatMs: number
  /** How far a reader may fall behind before it is cut off (it reconnects and resumes). */
  readonly maxBufferedBytes: number
}

export interface SseStreams {
  /**
   * The `text/event-stream` response for a mailbox the caller may read, from after `resumeAfter`
   * (null: only what comes next). A 404 ProblemError when the mailbox expired in the meantime.
   */
  open(options: {
    mailbox: Mailbox
    resumeAfter: number | null
    request: Request
    server: { timeout(request: Request, seconds: number): void } | null
    /** The API key the stream is opened with: revoking it ends the stream. */
    keyId?: string | null
  }): Promise<Response>
}

export function createSseStreams({
  storage,
  hub,
  now,
  settings,
}: {
  storage: Storage
  hub: EventHub
  now: () => Date
  settings: SseSettings
}): SseStreams {
  const sseFrame = createSseEncoder()
  // One timer beats for every open stream (not one per stream): it runs only while streams are open.
  const heartbeats = new Set<() => void>()
  let ticker: ReturnType<typeof setInterval> | null = null
  const tick = () => {
    if (heartbeats.size === 0 && ticker) {
      clearInterval(ticker)
      ticker = null
    }
    for (const beat of heartbeats) beat()
  }
  const startTicker = () => {
    ticker ??= setInterval(tick, settings.heartbeatMs)
  }

  /**
   * Live frames go straight to the stream. A reader that falls EPHEMAIL_STREAM_MAX_BUFFERED_BYTES
   * behind is cut off rather than buffered without end; it reconnects with Last-Event-ID and replays
   * from storage, so nothing is lost. A resume's replay (read from storage at once) is fed in at the
   * reader's pace instead, and live frames wait behind it to keep the order.
   */
  async function openEventStream(
    mailbox: Mailbox,
    resumeAfter: number | null,
    request: Request,
    keyId: string | null,
  ) {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let feed: MailboxFeed | null = null
    const pending: { bytes: Uint8Array; live: boolean }[] = [] // the replay, and what came during it
    let pendingLiveBytes = 0
    let pumping = false
    let ending = false // no more frames: close once the pending ones are sent
    let closed = false
    const cleanups: (() => void)[] = []
    const behind = () => -(controller.desiredSize ?? 0)
    const closeStream = () => {
      if (closed) return
      closed = true
      try {
        controller.close()
      } catch {
        // the client went away first
      }
    }
    const finish = () => {
      if (ending) return
      ending = true
      for (const cleanup of cleanups.splice(0)) cleanup()
      feed?.close()
      if (!pumping) closeStream()
    }
    const cut = () => {
      pending.length = 0
      finish()
      closeStream()
    }
    const pump = async () => {
      pumping = true
      while (pending.length > 0 && !closed) {
        // Bun reports what the reader has not taken yet: wait while a window's worth is out.
        if (behind() > REPLAY_WINDOW_BYTES) {
          await Bun.sleep(REPLAY_POLL_MS)
          continue
        }
        const next = pending.shift() as { bytes: Uint8Array; live: boolean }
        if (next.live) pendingLiveBytes -= next.bytes.byteLength
        controller.enqueue(next.bytes)
      }
      pumping = false
      if (ending) closeStream()
    }
    const write = (bytes: Uint8Array, live: boolean) => {
      if (ending) return
      if (pumping || !live) {
        pending.push({ bytes, live })
        if (live) pendingLiveBytes += bytes.byteLength
        if (pendingLiveBytes > settings.maxBufferedBytes) cut()
        else if (!pumping) void pump()
        return
      }
      controller.enqueue(bytes)
      if (behind() > settings.maxBufferedBytes) cut()
    }
    const send = (event: FeedEvent, replayed: boolean) => {
      write(sseFrame(event, mailbox.address, feed?.lastSeq() ?? 0), !replayed)
      if (event.type === 'mailbox.expired') finish()
    }

    const stream = new ReadableStream<Uint8Array>(
      {
        start(streamController) {
          controller = streamController
        },
        cancel() {
          closed = true
          cut()
        },
      },
      { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 },
    )
    // A fresh array per stream: one shared first chunk slowed Bun's streams down and lost frames
    // (bench/live-delivery.ts, 10,000 streams); later chunks may be shared.
    write(new TextEncoder().encode(`retry: ${RECONNECT_MS}\n\n`), true)
    feed = await openMailboxFeed({
      hub,
      storage,
      mailbox,
      now,
      resumeAfter,
      onEvent: send,
      onClose: finish,
      keyId,
    })
    if (!feed) throw new ProblemError(404, 'not-found', `No mailbox ${mailbox.address} (it may have expired)`)
    if (ending) {
      // The mailbox expired (or the server began stopping) while the feed opened: nothing follows.
      feed.close()
      return stream
    }
    // Only on a quiet stream: pending frames keep the connection busy anyway.
    const beat = () => {
      if (!pumping) write(SSE_HEARTBEAT, true)
    }
    heartbeats.add(beat)
    startTicker()
    cleanups.push(() => heartbeats.delete(beat))
    request.signal.addEventListener('abort', cut, { once: true })
    return stream
  }

  return {
    async open({ mailbox, resumeAfter, request, server, keyId = null }) {
      // Quiet between heartbeats by design: Bun's idle timeout must not cut the stream.
      server?.timeout(request, 0)
      const stream = await openEventStream(mailbox, resumeAfter, request, keyId)
      return new Response(stream, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          // nginx would otherwise buffer the stream and hold events back.
          'x-accel-buffering': 'no',
        },
      })
    },
  }
}
