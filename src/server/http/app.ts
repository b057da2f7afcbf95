// Builds the HTTP application from the chosen plugins: routes, body parsing, limits and the one error handler.

import { type AnyElysia, Elysia } from 'elysia'
import type { AuthPlugin } from '#contracts/auth.ts'
import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Config } from '#server/config.ts'
import { docsRoutes } from '#server/http/routes/docs.ts'
import { domainRoutes } from '#server/http/routes/domains.ts'
import { eventRoutes } from '#server/http/routes/events.ts'
import { healthRoutes } from '#server/http/routes/health.ts'
import { mailboxRoutes } from '#server/http/routes/mailboxes.ts'
import { messageRoutes } from '#server/http/routes/messages.ts'
import { otpRoutes } from '#server/http/routes/otp.ts'
import { webhookRoutes } from '#server/http/routes/webhooks.ts'
import { createEventHub, type EventHub } from '#server/live/event-hub.ts'
import { createLiveMailboxes } from '#server/pipeline/live-mailboxes.ts'
import { createAccess } from './access.ts'
import { renderError, routeShapes } from './errors.ts'
import { registerFastFormats } from './formats.ts'

export interface AppDeps {
  config: Pick<Config, 'domains' | 'ttl' | 'anonymous' | 'limits' | 'live' | 'webhooks'>
  storage: Storage
  pubsub: PubSub
  /** Fans pubsub events out by mailbox; whoever passes it in closes it (before stopping the server). */
  hub?: EventHub
  auth: AuthPlugin
  version: string
  now?: () => Date
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

function tooLarge(limit: number): ProblemError {
  return new ProblemError(413, 'payload-too-large', `The request body exceeds the limit of ${limit} bytes`)
}

export function buildApp({
  config,
  storage,
  pubsub,
  hub = createEventHub({ pubsub, storage }),
  auth,
  version,
  now = () => new Date(),
}: AppDeps) {
  registerFastFormats()
  const access = createAccess({ auth, mailboxes: createLiveMailboxes({ storage, pubsub }), now })
  const maxBody = config.limits.httpMaxBodyBytes
  let shapes: ReturnType<typeof routeShapes> | null = null
  // The error handler and the docs need the finished route table, known only once built.
  let finished: AnyElysia | null = null
  const routeTable = () => (finished as AnyElysia).routes

  // normalize: false makes unknown body fields an error instead of silently dropping them,
  // so a typo such as `ttl` for `ttlSeconds` is reported, not ignored. precompile builds
  // every validator now: building one finalises its schema (additionalProperties), so the
  // OpenAPI document must not depend on which routes happen to have been called.
  // encodeSchema: false: responses are checked with the compiled validator instead of being run
  // through TypeBox's interpreted Encode (Elysia's numeric types are transforms): a third of the
  // time of a list request went there (bench/api-reads.ts). No response schema transforms anything.
  const app = new Elysia({ name: 'ephemail', normalize: false, precompile: true, encodeSchema: false })
    .onError(({ code, error, request }) =>
      renderError({ code, error, request, shapes: () => (shapes ??= routeShapes(routeTable())) }),
    )
    .onRequest(({ request }) => {
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length > maxBody) throw tooLarge(maxBody)
    })
    // Every request body of this API is JSON: one parser gives one set of precise errors,
    // and an absent body reads as {} so optional bodies need no special case.
    .onParse(async ({ request, contentType }) => {
      const text = await request.text()
      if (text.length > maxBody) throw tooLarge(maxBody)
      if (text.trim() === '') return {}
      if (!JSON_CONTENT_TYPE.test(contentType ?? ''))
        throw new ProblemError(
          415,
          'unsupported-media-type',
          `Send the body as application/json, not "${contentType || 'no content type'}"`,
        )
      try {
        return JSON.parse(text)
      } catch (error) {
        throw new ProblemError(
          400,
          'malformed-json',
          `The body is not valid JSON: ${(error as Error).message}`,
        )
      }
    })
    .use(healthRoutes(storage))
    .use(domainRoutes(config.domains))
    .use(mailboxRoutes({ config, storage, pubsub, hub, access, now }))
    .use(messageRoutes({ storage, access, now }))
    .use(otpRoutes({ storage, hub, access }))
    .use(eventRoutes({ storage, access, hub, live: config.live, now }))
    .use(webhookRoutes({ storage, pubsub, access, webhooks: config.webhooks, now }))
    .use(docsRoutes(() => finished as AnyElysia, version))
  finished = app
  return app
}

export type App = ReturnType<typeof buildApp>
