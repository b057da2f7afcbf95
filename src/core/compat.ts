// Compatibility-layer contract: another service's API shape (routes, auth style, envelopes, headers) as a thin door over the core.

import type { CredentialStyle, SecurityScheme } from '#contracts/auth.ts'
import type { MailboxEvent, MailboxExpiredEvent, MessageProcessedEvent } from '#lib/events.ts'
import type { Problem } from '#lib/problem.ts'
import type { Authenticator } from './authenticate.ts'
import type { CoreDeps } from './context.ts'

/**
 * The rate-limit state of one metered request, for an API that writes its own header format (reset as
 * an ISO date, `X-Ratelimit-*` casing, …).
 */
export interface MeterState {
  limit: number
  remaining: number
  used: number
  /** When the window ends, in milliseconds since the epoch. */
  resetAt: number
}

/** Live events of one mailbox, as the API process's event hub hands them out (for an API's WebSocket). */
export interface MailboxEvents {
  subscribe(
    mailboxId: string,
    listener: (event: MailboxEvent | MailboxExpiredEvent) => void,
    onClose?: () => void,
    keyId?: string | null,
  ): Promise<{ unsubscribe(): void } | null>
}

/** What the composition hands a compatibility layer. */
export interface CompatContext {
  /** The same core operations, storage, policy and limits every native route uses. */
  core: CoreDeps
  /**
   * An authenticator over `styles` with the deployment's principal resolvers (admin key, API keys,
   * mailbox tokens): a key made through the native admin API works in the layer's own auth style.
   * Call once; the instance is shared with request metering so a request is authenticated once.
   */
  authenticator(styles: readonly CredentialStyle[]): Authenticator
  events: MailboxEvents
  /**
   * The body parser of the API (capped at EPHEMAIL_HTTP_MAX_BODY_BYTES): JSON, or a form
   * (application/x-www-form-urlencoded, as `curl -d` sends) as an object of strings; empty: {}.
   */
  parseBody(request: Request, contentType: string): Promise<unknown>
  /** Where the layer is mounted ('' at the root); every path it owns starts with it. */
  prefix: string
}

/** One documented API, mounted by EPHEMAIL_COMPAT. */
export interface CompatApi {
  readonly name: string
  readonly prefix: string
  /** A named Elysia instance with the API's routes, already under `prefix`. */
  readonly routes: unknown
  /** The authenticator made through the context: request metering reads the caller through it. */
  readonly auth: Authenticator
  /**
   * Every failure on the layer's routes (validation, 401, 404, 429, core refusals) is rendered here in
   * the API's own error envelope; the core's Problem (status, slug in `type`, detail) is the input.
   */
  renderError(problem: Problem, headers: Record<string, string>): Response
  /** The API's rate-limit headers; absent: the native X-RateLimit-* and RateLimit headers. */
  rateLimitHeaders?(state: MeterState): Record<string, string>
  /** How the layer appears in the OpenAPI document when enabled. */
  readonly openapi: {
    readonly tag: { readonly name: string; readonly description: string }
    readonly securitySchemes: Readonly<Record<string, SecurityScheme>>
    /** The error envelope, as a named component schema every error response of the layer refers to. */
    readonly errorSchema: { readonly name: string; readonly schema: object }
    /** Header components its responses carry (its rate-limit headers); absent: the native ones. */
    readonly headers?: Readonly<Record<string, { description: string; schema: object }>>
  }
}

/**
 * The delivery body of a webhook registered in an API's own format (a pure function): what that API's
 * documentation says a webhook receives for one processed message of `address`. A compat plugin exports
 * its builders as `webhookPayloads`, keyed by the `format` it registers webhooks with; the signature
 * headers stay Standard Webhooks whatever the body.
 */
export type WebhookPayloadBuilder = (event: MessageProcessedEvent, address: string, timestamp: Date) => string

/** Every compat plugin exports `name` and `create` of this type (its default prefix is in the config: COMPAT_APIS). */
export type CompatApiFactory = (context: CompatContext) => CompatApi

/** The problem type slug of a core Problem (`https://ephemail.dev/problems/not-found` → `not-found`). */
export function problemSlug(problem: Problem): string {
  return problem.type.slice(problem.type.lastIndexOf('/') + 1)
}
