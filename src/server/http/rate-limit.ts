// Request metering: every response says the caller's plan budget (X-RateLimit-*, IETF RateLimit and RateLimit-Policy); past it, 429.

import { Elysia } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import type { RateLimiter } from '#contracts/rate-limit.ts'
import type { Authenticator } from '#core/authenticate.ts'
import type { CompatApi } from '#core/compat.ts'
import type { CoreDeps, Plan } from '#core/context.ts'
import { planOf } from '#core/domains.ts'
import { loggableError } from '#lib/loggable-error.ts'
import { ProblemError } from '#lib/problem.ts'
import { createClientIpResolver, ipSubject } from './client-ip.ts'

/** The response headers every metered answer carries (also exposed to cross-origin scripts). */
export const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-used',
  'x-ratelimit-reset',
  'ratelimit-policy',
  'ratelimit',
] as const

const HOUR_MS = 3_600_000

export interface RateLimitDeps {
  limiter: RateLimiter
  auth: Authenticator
  core: CoreDeps
  /** EPHEMAIL_TRUSTED_PROXIES: whose X-Forwarded-For names the client. */
  trustedProxies: readonly string[]
  /** The compatibility layer answering a request: its auth style reads the caller, its format writes the headers. */
  compatOf?: (request: Request) => CompatApi | null
  /** Whether a request is for an HTTP ingest source's routes: metered on the `inbound` plan, per address. */
  isInbound?: (request: Request) => boolean
}

/** Who a request is metered as, and on which plan. */
interface Meter {
  planName: string
  plan: Plan
  /** `admin`, `key:<id>` or `ip:<client address>` (an IPv6 client by its /64). */
  subject: string
  /** Only keys and the admin have budgets of their own; everyone else shares their address's. */
  anonymous: boolean
  /** The compatibility layer answering, if any. */
  api: CompatApi | null
}

/** A mailbox creation counted against an address's hourly allowance, to give back if creation fails. */
export interface MailboxSlot {
  giveBack(): void
}

interface PlanHeaders {
  limit: string
  policy: string
  prefix: string
}

const secondsUntil = (resetAt: number, now: number) => Math.max(0, Math.ceil((resetAt - now) / 1000))

/**
 * The metering plugin (`plugin`, used by the app before every route) and the anonymous mailbox allowance
 * (`mailboxSlot`, asked by the create-mailbox route, which is where "no key" is known to mean "counted by
 * address"). CORS preflights are answered before metering (app.ts) and cost nothing: a browser sends one
 * on its own, for the request that follows, and that request is metered.
 */
export function createRateLimits({
  limiter,
  auth,
  core,
  trustedProxies,
  compatOf = () => null,
  isInbound = () => false,
}: RateLimitDeps) {
  const clientIp = createClientIpResolver(trustedProxies)
  const { plans } = core.settings
  const meters = new WeakMap<Request, Meter>()
  /** Hits to give back once the answer is known, for plans that count successes only. */
  const pendingGiveBacks = new WeakMap<Request, { key: string; windowMs: number }>()
  // Header values that depend only on the plan, made once.
  const headersOf = new Map<string, PlanHeaders>()
  for (const [name, plan] of Object.entries(plans))
    headersOf.set(name, {
      limit: String(plan.requests),
      policy: `"${name}";q=${plan.requests};w=${plan.windowSeconds}`,
      prefix: `"${name}";r=`,
    })

  async function meterOf(request: Request, peer: string | null | undefined): Promise<Meter> {
    // Checked first: the provider's credential is the source's own (a secret, a signature in the body).
    if (isInbound(request)) {
      const ip = clientIp(peer, request.headers.get('x-forwarded-for'))
      return {
        planName: 'inbound',
        plan: plans.inbound as Plan,
        subject: `inbound:${ipSubject(ip)}`,
        anonymous: false,
        api: null,
      }
    }
    const api = compatOf(request)
    let principal: Principal | null = null
    try {
      principal = await (api?.auth ?? auth).authenticate(request)
    } catch {
      // A credential that does not resolve meters as anonymous; the route itself still answers 401.
    }
    const plan = planOf(core, principal)
    if (principal?.kind === 'admin')
      return { planName: 'admin', plan, subject: 'admin', anonymous: false, api }
    if (principal?.kind === 'key')
      return {
        planName: plans[principal.plan] ? principal.plan : 'default',
        plan,
        subject: `key:${principal.keyId}`,
        anonymous: false,
        api,
      }
    const ip = clientIp(peer, request.headers.get('x-forwarded-for'))
    return { planName: 'anonymous', plan, subject: ipSubject(ip), anonymous: true, api }
  }

  const countsFailures = Object.values(plans).every((plan) => plan.countFailed)

  const plugin = new Elysia({ name: 'ephemail.rate-limit' }).onRequest(async ({ request, set, server }) => {
    const meter = await meterOf(request, server?.requestIP(request)?.address)
    meters.set(request, meter)
    const { plan, planName } = meter
    const windowMs = plan.windowSeconds * 1000
    const key = `req:${meter.subject}`
    let hit: { count: number; resetAt: number }
    try {
      hit = await limiter.hit(key, windowMs)
    } catch (error) {
      // A counter that cannot be reached does not take the API down with it: unmetered until it is back.
      console.error(`rate limiter failed, request not metered: ${loggableError(error)}`)
      return
    }
    const now = Date.now()
    const fixed = headersOf.get(planName) as PlanHeaders
    const remaining = Math.max(0, plan.requests - hit.count)
    const reset = secondsUntil(hit.resetAt, now)
    const headers = set.headers as Record<string, string>
    if (meter.api?.rateLimitHeaders) {
      // A compatibility layer's own format (its reset as a date, its header names).
      const state = { limit: plan.requests, remaining, used: hit.count, resetAt: hit.resetAt }
      Object.assign(headers, meter.api.rateLimitHeaders(state))
    } else {
      headers['x-ratelimit-limit'] = fixed.limit
      headers['x-ratelimit-remaining'] = String(remaining)
      headers['x-ratelimit-used'] = String(hit.count)
      headers['x-ratelimit-reset'] = String(Math.ceil(hit.resetAt / 1000))
      headers['ratelimit-policy'] = fixed.policy
      headers.ratelimit = `${fixed.prefix}${remaining};t=${reset}`
    }
    if (!plan.countFailed) pendingGiveBacks.set(request, { key, windowMs })
    if (hit.count > plan.requests)
      throw new ProblemError(
        429,
        'rate-limited',
        `The plan "${planName}" allows ${plan.requests} requests per ${plan.windowSeconds} seconds${
          meter.anonymous ? ' from one address without an API key' : ''
        }; try again in ${Math.max(1, reset)} seconds`,
        { headers: { 'retry-after': String(Math.max(1, reset)) } },
      )
  })
  /**
   * Gives back the hit of a request answered with an error, when its plan counts successes only. The app's
   * error handler calls it before the answer leaves, so the next request already sees the hit returned
   * (the memory limiter changes its count synchronously; Redis runs commands of one connection in order).
   */
  function release(request: Request) {
    const pending = pendingGiveBacks.get(request)
    if (pending === undefined) return
    pendingGiveBacks.delete(request)
    limiter
      .hit(pending.key, pending.windowMs, -1)
      .catch((error) => console.error(`rate limiter give-back failed: ${loggableError(error)}`))
  }
  // Only when some plan counts successes alone: an error status a route sets without throwing.
  if (!countsFailures)
    plugin.onAfterResponse({ as: 'global' }, ({ request, set }) => {
      if (Number(set.status ?? 200) >= 400) release(request)
    })

  /**
   * Counts one mailbox creation by a caller without an API key against its address's hourly allowance
   * (the anonymous plan's mailboxesPerHour); a 429 past it. Keys and the admin: null (their allowance
   * is counted from the mailboxes table by the core).
   */
  async function mailboxSlot(request: Request): Promise<MailboxSlot | null> {
    const meter = meters.get(request)
    if (meter === undefined || !meter.anonymous) return null
    const perHour = meter.plan.mailboxesPerHour
    const key = `mailboxes:${meter.subject}`
    let count: number
    let resetAt: number
    try {
      ;({ count, resetAt } = await limiter.hit(key, HOUR_MS))
    } catch (error) {
      console.error(`rate limiter failed, mailbox creation not counted: ${loggableError(error)}`)
      return null
    }
    if (count > perHour) {
      const wait = Math.max(1, secondsUntil(resetAt, Date.now()))
      throw new ProblemError(
        429,
        'mailbox-quota-exceeded',
        `Without an API key, one address may create ${perHour} mailboxes per hour; try again in ${wait} seconds`,
        { headers: { 'retry-after': String(wait) } },
      )
    }
    return {
      giveBack() {
        limiter
          .hit(key, HOUR_MS, -1)
          .catch((error) => console.error(`rate limiter give-back failed: ${loggableError(error)}`))
      },
    }
  }

  return { plugin, mailboxSlot, release }
}

export type RateLimits = ReturnType<typeof createRateLimits>
