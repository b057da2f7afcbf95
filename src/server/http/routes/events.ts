// Live events: GET /v1/mailboxes/{address}/events (Server-Sent Events) and /v1/ws (WebSocket, many mailboxes).

import { Elysia, t } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import type { Storage } from '#contracts/storage.ts'
import type { Authenticator } from '#core/authenticate.ts'
import type { CoreDeps } from '#core/context.ts'
import { findMailbox } from '#core/mailboxes.ts'
import type { Config } from '#server/config.ts'
import {
  AddressParams,
  insufficientScopeResponse,
  problemResponse,
  unauthorizedResponse,
} from '#server/http/schemas.ts'
import type { EventHub } from '#server/live/event-hub.ts'
import { createSseStreams, resumePoint } from '#server/live/sse-stream.ts'
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

const AccessTokenQuery = t.Optional(
  t.String({
    description:
      'The mailbox token or admin key, for clients that cannot send an Authorization header (browser EventSource and WebSocket). Accepted on this route only.',
  }),
)

/** Bytes a WebSocket has queued but not yet sent (Bun's ServerWebSocket; its typing in Elysia omits it). */
const bufferedAmount = (socket: unknown) => (socket as { getBufferedAmount(): number }).getBufferedAmount()

export function eventRoutes({ storage, core, auth, hub, live: settings, now }: EventRouteDeps) {
  const sseStreams = createSseStreams({ storage, hub, now, settings })

  // Principals of WebSocket upgrades, checked before the upgrade so a bad token is an HTTP 401.
  const upgradePrincipals = new WeakMap<Request, Principal>()
  const sessions = new WeakMap<object, WebSocketSession>()

  return new Elysia({ name: 'routes.events' })
    .get(
      '/v1/mailboxes/:address/events',
      async ({ params, query, request, server }) => {
        const principal = await auth.requirePrincipal(request, 'stream')
        const mailbox = await findMailbox(core, principal, params.address)
        const resumeAfter = resumePoint(request.headers.get('last-event-id'), query.lastEventId)
        const keyId = principal.kind === 'key' ? principal.keyId : null
        return sseStreams.open({ mailbox, resumeAfter, request, server, keyId })
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
          403: insufficientScopeResponse,
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
