// GET /v1/mailboxes/{address}/otp: the latest one-time code and link, optionally waiting (long-poll) for one to arrive.

import { Elysia, t } from 'elysia'
import type { LatestOtp } from '#contracts/storage.ts'
import type { CoreDeps } from '#core/context.ts'
import { findMailbox } from '#core/mailboxes.ts'
import { findLatestOtp } from '#core/messages.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import {
  AddressParams,
  insufficientScopeResponse,
  problemResponse,
  QueryInteger,
  unauthorizedResponse,
} from '#server/http/schemas.ts'
import type { EventHub } from '#server/live/event-hub.ts'
import { longPoll, MAX_WAIT_SECONDS } from '#server/live/long-poll.ts'

const OtpSchema = t.Object(
  {
    otp: t.Union([t.String(), t.Null()], { examples: ['482913'] }),
    link: t.Union([t.String(), t.Null()], {
      examples: ['https://accounts.example.com/verify?token=9f8e7d6c5b4a'],
    }),
    messageId: t.Union([t.String({ format: 'uuid' }), t.Null()]),
    from: t.Union([t.Object({ address: t.String(), name: t.String() }), t.Null()]),
    subject: t.Union([t.String(), t.Null()]),
    receivedAt: t.Union([t.String({ format: 'date-time' }), t.Null()]),
  },
  { description: 'The newest code and link, or nulls when none arrived (in time)' },
)

const NOTHING = { otp: null, link: null, messageId: null, from: null, subject: null, receivedAt: null }

function otpJson(found: LatestOtp | null) {
  if (!found) return NOTHING
  return { ...found, receivedAt: found.receivedAt.toISOString() }
}

export function otpRoutes({
  core,
  principal,
  hub,
}: {
  core: CoreDeps
  principal: PrincipalPlugins
  hub: EventHub
}) {
  return new Elysia({ name: 'routes.otp' }).use(principal.required).get(
    '/v1/mailboxes/:address/otp',
    async ({ params, query, request, server, requirePrincipal }) => {
      const mailbox = await findMailbox(core, requirePrincipal(), params.address)
      const since = query.since ? new Date(query.since) : null
      const latest = await longPoll({
        hub,
        mailboxId: mailbox.id,
        waitSeconds: query.wait ?? 0,
        request,
        server,
        look: () => findLatestOtp(core, mailbox, since),
        found: (result) => result !== null,
        wakesOn: (event) => event.type === 'message.processed' && (event.otp !== null || event.link !== null),
      })
      return otpJson(latest)
    },
    {
      params: AddressParams,
      query: t.Object({
        wait: t.Optional(
          QueryInteger({
            minimum: 0,
            maximum: MAX_WAIT_SECONDS,
            description: `Seconds to hold the request until a code or link arrives (0..${MAX_WAIT_SECONDS}); on time-out the answer has nulls, not an error`,
            error: `query.wait: must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`,
          }),
        ),
        since: t.Optional(
          t.String({
            format: 'date-time',
            description: 'Ignore messages received at or before this time (ISO 8601)',
          }),
        ),
      }),
      response: {
        200: OtpSchema,
        400: problemResponse('wait or since is invalid'),
        401: unauthorizedResponse,
        403: insufficientScopeResponse,
        404: problemResponse('No such live mailbox visible to this credential'),
      },
      detail: {
        tags: ['Messages'],
        operationId: 'getLatestOtp',
        summary: 'Latest one-time code and link (long-poll with ?wait=)',
        description:
          'The code and link of the newest processed message that has either. With `wait`, the request is held until one arrives (woken by the message.processed event, not a timer) or the time runs out.',
      },
    },
  )
}
