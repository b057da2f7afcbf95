// Builds the HTTP application from the chosen plugins: routes, body parsing, limits and the one error handler.

import { type AnyElysia, Elysia } from 'elysia'
import type { CredentialStyle } from '#contracts/auth.ts'
import type { IngestHttpRoutes } from '#contracts/ingest.ts'
import type { RateLimiter } from '#contracts/rate-limit.ts'
import type { Authenticator } from '#core/authenticate.ts'
import type { CompatApi, CompatApiFactory } from '#core/compat.ts'
import type { CoreDeps } from '#core/context.ts'
import { ProblemError, problemResponse } from '#lib/problem.ts'
import { BodyTooLargeError, readCapped } from '#lib/read-capped.ts'
import type { Config } from '#server/config.ts'
import { adminDomainRoutes } from '#server/http/routes/admin-domains.ts'
import { adminKeyRoutes } from '#server/http/routes/admin-keys.ts'
import { docsRoutes } from '#server/http/routes/docs.ts'
import { domainRoutes } from '#server/http/routes/domains.ts'
import { eventRoutes } from '#server/http/routes/events.ts'
import { healthRoutes } from '#server/http/routes/health.ts'
import { mailboxRoutes } from '#server/http/routes/mailboxes.ts'
import { messageRoutes } from '#server/http/routes/messages.ts'
import { otpRoutes } from '#server/http/routes/otp.ts'
import { pageRoutes } from '#server/http/routes/page.ts'
import { webhookRoutes } from '#server/http/routes/webhooks.ts'
import { createEventHub, type EventHub } from '#server/live/event-hub.ts'
import { problemOf, routeShapes } from './errors.ts'
import { registerFastFormats } from './formats.ts'
import { principalPlugins } from './principal.ts'
import { createRateLimits } from './rate-limit.ts'
import { API_SECURITY_HEADERS, corsHeaders, preflightResponse } from './security-headers.ts'

export interface AppDeps {
  config: Pick<Config, 'domains' | 'limits' | 'live' | 'corsOrigins' | 'trustedProxies'>
  /** What the core operations are called with (storage, pub/sub, settings, clock). */
  core: CoreDeps
  auth: Authenticator
  /** Fans pubsub events out by mailbox; whoever passes it in closes it (before stopping the server). */
  hub?: EventHub | undefined
  /**
   * Counters for request metering (plans, X-RateLimit-* headers, 429) and the anonymous mailbox
   * allowance; null: unmetered (benchmarks measure what metering costs by comparing with this).
   */
  limiter?: RateLimiter | null
  /** Routes of HTTP ingest sources: mounted with their own body parser and size limit. */
  ingestRoutes?: readonly IngestHttpRoutes[]
  /** Compatibility layers (EPHEMAIL_COMPAT): other services' API shapes over the same core. */
  compat?: readonly { name: string; prefix: string; create: CompatApiFactory }[]
  /** An authenticator over other credential styles with the same resolvers (for compatibility layers). */
  authenticatorFor?: (styles: readonly CredentialStyle[]) => Authenticator
  version: string
  now?: () => Date
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

const FORM_CONTENT_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i

function tooLarge(limit: number): ProblemError {
  return new ProblemError(413, 'payload-too-large', `The request body exceeds the limit of ${limit} bytes`)
}

/**
 * Every request body of this API: read up to `maxBody` and no further (a chunked body declares no
 * length to refuse early), JSON, or for compatibility layers also a form; an absent body reads as {}.
 */
async function parseBody(
  request: Request,
  contentType: string,
  maxBody: number,
  forms: boolean,
): Promise<unknown> {
  const bytes = await readCapped(request, maxBody).catch((error) => {
    throw error instanceof BodyTooLargeError ? tooLarge(maxBody) : error
  })
  const text = new TextDecoder().decode(bytes)
  if (text.trim() === '') return {}
  if (forms && FORM_CONTENT_TYPE.test(contentType)) return Object.fromEntries(new URLSearchParams(text))
  if (!JSON_CONTENT_TYPE.test(contentType))
    throw new ProblemError(
      415,
      'unsupported-media-type',
      `Send the body as application/json${forms ? ' or application/x-www-form-urlencoded' : ''}, not "${contentType || 'no content type'}"`,
    )
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ProblemError(400, 'malformed-json', `The body is not valid JSON: ${(error as Error).message}`)
  }
}

/** The path of an absolute request URL, without building a URL object (asked on every metered request). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const end = url.indexOf('?', start)
  return end === -1 ? url.slice(start) : url.slice(start, end)
}

/** Which compatibility layer owns a path: anything under its prefix, or, mounted at the root, its own routes. */
function compatOwner(apis: readonly CompatApi[]): (request: Request) => CompatApi | null {
  const owners = apis.map((api) => {
    const shapes = api.prefix === '' ? routeShapes((api.routes as AnyElysia).routes) : []
    return {
      api,
      owns: (pathname: string) =>
        api.prefix === ''
          ? shapes.some((shape) => shape.pattern.test(pathname))
          : pathname === api.prefix || pathname.startsWith(`${api.prefix}/`),
    }
  })
  return (request) => {
    const pathname = pathOf(request.url)
    return owners.find((owner) => owner.owns(pathname))?.api ?? null
  }
}

type RouteList = readonly { method: string; path: string }[]

/**
 * Two routes on one method and path: a layer mounted where a native route or another layer already is.
 * Checked before mounting: Elysia keeps neither of two equal routes (both answer 404).
 */
function refuseClashes(native: readonly AnyElysia[], apis: readonly CompatApi[]) {
  const owner = new Map<string, string>()
  const claim = (routes: RouteList, by: string) => {
    for (const route of routes) {
      const key = `${route.method.toUpperCase()} ${route.path}`
      const earlier = owner.get(key)
      if (earlier !== undefined)
        throw new Error(
          `EPHEMAIL_COMPAT: ${key} is claimed twice (by ${earlier} and ${by}); mount ${by} under a prefix, as ${by}:/${by}`,
        )
      owner.set(key, by)
    }
  }
  for (const routes of native) claim(routes.routes, 'the native API')
  for (const api of apis) claim((api.routes as AnyElysia).routes, api.name)
}

export function buildApp({
  config,
  core,
  auth,
  hub = createEventHub({ pubsub: core.pubsub, storage: core.storage }),
  ingestRoutes = [],
  compat = [],
  authenticatorFor,
  limiter = null,
  version,
  now = () => new Date(),
}: AppDeps) {
  registerFastFormats()
  const { storage } = core
  const principal = principalPlugins(auth)
  const maxBody = config.limits.httpMaxBodyBytes
  if (compat.length > 0 && !authenticatorFor) throw new Error('Compatibility layers need authenticatorFor')
  const compatApis = compat.map(({ prefix, create }) =>
    create({
      core,
      authenticator: authenticatorFor as NonNullable<typeof authenticatorFor>,
      events: hub,
      parseBody: (request, contentType) => parseBody(request, contentType, maxBody, true),
      prefix,
    }),
  )
  const compatOf = compatApis.length > 0 ? compatOwner(compatApis) : () => null
  const rateLimits = limiter
    ? createRateLimits({
        limiter,
        auth,
        core,
        trustedProxies: config.trustedProxies,
        compatOf,
        isInbound:
          ingestRoutes.length > 0
            ? (request) => {
                const path = pathOf(request.url)
                return ingestRoutes.some((source) => path.startsWith(source.pathPrefix))
              }
            : undefined,
      })
    : null
  /** The body limit of a path: an ingest source's own under its prefix, the API's everywhere else. */
  const bodyLimitOf = (path: string) =>
    ingestRoutes.find((source) => path.startsWith(source.pathPrefix))?.maxBodyBytes ?? maxBody
  // Query parameters that carry a credential (`?key=`): read by the authenticator from the URL, so each
  // route's query validation, which refuses unknown parameters, never sees them.
  const credentialParameters = auth.styles.flatMap((style) =>
    style.scope === 'request' &&
    style.securityScheme?.scheme.type === 'apiKey' &&
    style.securityScheme.scheme.in === 'query'
      ? [style.securityScheme.scheme.name]
      : [],
  )
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
  const base = new Elysia({ name: 'ephemail', normalize: false, precompile: true, encodeSchema: false })
    .onError(({ code, error, request }) => {
      // Every error answer passes here: a plan that counts successes only gets its hit back now.
      rateLimits?.release(request)
      const api = compatOf(request)
      const { problem, headers } = problemOf({
        code,
        error,
        request,
        shapes: () => (shapes ??= routeShapes(routeTable())),
        challenges: (api?.auth ?? auth).challenges,
      })
      return api ? api.renderError(problem, headers) : problemResponse(problem, headers)
    })
    .onRequest(({ request, set }) => {
      const origin = request.headers.get('origin')
      if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method'))
        return preflightResponse(config.corsOrigins, origin)
      // Every response, errors included: Elysia merges these into whatever the route returns.
      Object.assign(set.headers, API_SECURITY_HEADERS, corsHeaders(config.corsOrigins, origin))
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length <= maxBody) return
      const limit = bodyLimitOf(new URL(request.url).pathname)
      if (length > limit) throw tooLarge(limit)
    })
  if (credentialParameters.length > 0)
    base.onTransform({ as: 'global' }, ({ query }) => {
      for (const name of credentialParameters) delete query[name]
    })
  // After the hook above: preflights are already answered (unmetered), and a 429 carries the security headers.
  if (rateLimits) base.use(rateLimits.plugin)
  // Ingest sources bring their own parsers (raw MIME, provider forms): mounted before the JSON rule.
  for (const source of ingestRoutes) base.use(source.routes as AnyElysia)
  // Compatibility layers parse their own bodies (forms as well as JSON) through the context's parseBody.
  for (const api of compatApis) base.use(api.routes as AnyElysia)
  const nativeRoutes: AnyElysia[] = [
    healthRoutes(storage),
    domainRoutes({ core, principal }),
    mailboxRoutes({ core, principal, hub, mailboxSlot: rateLimits?.mailboxSlot }),
    messageRoutes({ core, principal }),
    otpRoutes({ core, principal, hub }),
    eventRoutes({ storage, core, auth, hub, live: config.live, now }),
    webhookRoutes({ core, principal }),
    adminKeyRoutes({ core, principal }),
    adminDomainRoutes({ core, principal }),
    docsRoutes(() => finished as AnyElysia, version, auth.styles, compatApis, ingestRoutes),
    pageRoutes(),
  ]
  if (compatApis.length > 0) refuseClashes(nativeRoutes, compatApis)
  // Every request body of this API is JSON: one parser gives one set of precise errors,
  // and an absent body reads as {} so optional bodies need no special case.
  const app = base.onParse(({ request, contentType }) =>
    parseBody(request, contentType ?? '', maxBody, false),
  )
  for (const routes of nativeRoutes) app.use(routes)
  finished = app
  return app
}

export type App = ReturnType<typeof buildApp>
