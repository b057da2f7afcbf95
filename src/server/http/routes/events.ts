// Live events: GET /v1/mailboxes/{address}/events (Server-Sent Events) and /v1/ws (WebSocket, many mailboxes).

import { Elysia, t } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import type { Storage } from '#contracts/storage.ts'
import type { Authenticator } from '#core/authenticate.ts'
import type { CoreDeps } from '#core/context.ts'
import { findMailbox } from '#core/mailboxes.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { Config } from '#server/config.ts'
import { AddressParams, problemResponse, unauthorizedResponse } from '#server/http/schemas.ts'
import type { EventHub } from '#server/live/event-hub.ts'
import {
  createSseEncoder,
  type FeedEvent,
  type MailboxFeed,
  openMailboxFeed,
  parseEventId,
  SSE_HEARTBEAT,
} from '#server/live/live-feed.ts'
import { createWebSocketSession, type WebSocketSession } from '#server/live/websocket-session.ts'

export interface EventRouteDeps {
  storage: Storage
  core: CoreDeps
  /** Asked with the `stream` scope: these routes also honour the access_token style. */
  auth: Authenticator
  hub: EventHub
  live: Config['live']
  now: () => Date
}

/** How long a browser waits before reconnecting (the SSE `retry:` field). */
const RECONNECT_MS = 2000
/** A replay is handed over while the reader has less than this outstanding... */
const REPLAY_WINDOW_BYTES = 256 * 1024
/** ...and otherwise checked again after this long. */
const REPLAY_POLL_MS = 5

const AccessTokenQuery = t.Optional(
  t.String({
    description:
      'The mailbox token or admin key, for clients that cannot send an Authorization header (browser EventSource and WebSocket). Accepted on this route only.',
  }),
)

/** Bytes a WebSocket has queued but not yet sent (Bun's ServerWebSocket; its typing in Elysia omits it). */
const bufferedAmount = (socket: unknown) => (socket as { getBufferedAmount(): number }).getBufferedAmount()

function resumePoint(header: string | null, query: string | undefined): number | null {
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

export function eventRoutes({ storage, core, auth, hub, live: settings, now }: EventRouteDeps) {
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
  async function openEventStream(mailbox: Mailbox, resumeAfter: number | null, request: Request) {
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
    feed = await openMailboxFeed({ hub, storage, mailbox, now, resumeAfter, onEvent: send, onClose: finish })
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

  // Principals of WebSocket upgrades, checked before the upgrade so a bad token is an HTTP 401.
  const upgradePrincipals = new WeakMap<Request, Principal>()
  const sessions = new WeakMap<object, WebSocketSession>()

  return new Elysia({ name: 'routes.events' })
    .get(
      '/v1/mailboxes/:address/events',
      async ({ params, query, request, server }) => {
        const mailbox = await findMailbox(
          core,
          await auth.requirePrincipal(request, 'stream'),
          params.address,
        )
        const resumeAfter = resumePoint(request.headers.get('last-event-id'), query.lastEventId)
        // Quiet between heartbeats by design: Bun's idle timeout must not cut the stream.
        server?.timeout(request, 0)
        const stream = await openEventStream(mailbox, resumeAfter, request)
        return new Response(stream, {
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            // nginx would otherwise buffer the stream and hold events back.
            'x-accel-buffering': 'no',
          },
        })
      },
      {
        params: AddressParams,
        query: t.Object({
          access_token: AccessTokenQuery,
          lastEventId: t.Optional(
            t.String({
              description:
                'Resume after this event id, for clients that cannot send the Last-Event-ID header (the header wins)',
            }),
          ),
        }),
        response: {
          400: problemResponse('Last-Event-ID is not an id this server sent'),
          401: unauthorizedResponse,
          404: problemResponse('No such live mailbox visible to this credential'),
        },
        detail: {
          tags: ['Live'],
          operationId: 'streamMailboxEvents',
          summary: 'Server-Sent Events: mail as it arrives and once its code is extracted',
          description: [
            'A `text/event-stream` of `message.received` (stored: id, from, subject), `message.processed`',
            '(with `otp` and `link`) and `mailbox.expired` (then the stream ends). Every event has an `id:`;',
            'reconnect with `Last-Event-ID` (EventSource does this by itself) to get every event after it,',
            'none twice, for the lifetime of the mailbox. A `: keep-alive` comment line comes every',
            '`EPHEMAIL_SSE_HEARTBEAT_MS`. A reader that falls more than `EPHEMAIL_STREAM_MAX_BUFFERED_BYTES`',
            'behind is disconnected and resumes where it was.',
          ].join(' '),
        },
      },
    )
    .ws('/v1/ws', {
      query: t.Object({ access_token: AccessTokenQuery }),
      async beforeHandle({ request }) {
        // Without a credential the connection may still subscribe with each mailbox's own token.
        const principal = await auth.authenticate(request, 'stream')
        if (principal) upgradePrincipals.set(request, principal)
      },
      open(ws) {
        // Replayed events may fill the socket's buffer (they were read from storage at once); only
        // what goes beyond them counts against the limit.
        let replayAllowance = 0
        const session = createWebSocketSession({
          principal: upgradePrincipals.get(ws.data.request) ?? null,
          shutDown: () => ws.close(1001, 'server shutting down'),
          send: (message, replayed = false) => {
            const text = JSON.stringify(message)
            ws.send(text)
            if (replayed) replayAllowance += text.length
            // Too far behind: close; the client resubscribes with each mailbox's lastEventId.
            else if (bufferedAmount(ws.raw) > settings.maxBufferedBytes + replayAllowance)
              ws.close(1013, 'reader too slow')
          },
          access: {
            principalOf: (token) => auth.principalOf(token),
            findMailbox: (principal, address) => findMailbox(core, principal, address),
          },
          hub,
          storage,
          maxSubscriptions: settings.maxWebSocketSubscriptions,
          now,
        })
        sessions.set(ws.raw, session)
      },
      message(ws, message) {
        sessions.get(ws.raw)?.receive(message)
      },
      close(ws) {
        sessions.get(ws.raw)?.close()
        sessions.delete(ws.raw)
      },
      detail: {
        tags: ['Live'],
        summary: 'WebSocket: the same events for several mailboxes on one connection',
      },
    })
}
