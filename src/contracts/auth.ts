// Auth contracts, in two parts: credential styles (where a request carries its credential) and principal resolvers (what a credential stands for).

import type { Scope } from '#lib/types.ts'

/**
 * Who is calling: the operator's admin key, an API key (which owns what it creates), or one
 * mailbox's own token (which reads and manages that mailbox only).
 */
export type Principal =
  | { kind: 'admin' }
  | {
      kind: 'key'
      keyId: string
      scopes: readonly Scope[]
      /** Its rate-limit plan (a name from the configuration). */
      plan: string
      /** Domains its mailboxes may use; null: every domain its plan allows. */
      allowedDomains: readonly string[] | null
    }
  | { kind: 'mailbox'; mailboxId: string }

/** An OpenAPI 3.1 security scheme object, as a style declares itself in the document. */
export type SecurityScheme =
  | { type: 'http'; scheme: string; description?: string }
  | { type: 'apiKey'; in: 'header' | 'query'; name: string; description?: string }

/**
 * Reads a credential from a request. Styles know nothing of what a credential means: `Authorization:
 * Bearer`, `x-api-key`, `?key=` and the event streams' `?access_token=` are all styles.
 */
export interface CredentialStyle {
  readonly name: string
  /**
   * `request`: honoured on every route. `stream`: only on the routes a browser opens without being able
   * to set headers (event stream, WebSocket upgrade), and only when no `request` style found a credential.
   */
  readonly scope: 'request' | 'stream'
  /** How a client sends it, for error details: `"Authorization: Bearer <credential>"`. */
  readonly hint: string
  /** The WWW-Authenticate challenge a 401 carries for this style (RFC 9110), if it has one. */
  readonly challenge: string | null
  /** Its OpenAPI security scheme, keyed by `schemeName`; null when routes document it as a parameter. */
  readonly securityScheme: { readonly schemeName: string; readonly scheme: SecurityScheme } | null
  /**
   * The credential, or null when this style's carrier is absent. A carrier that is present but
   * malformed throws a 401 ProblemError, so a typo never falls back to anonymous access.
   */
  read(request: Request): string | null
}

/**
 * Turns a credential into a principal. Resolvers get the credential's SHA-256 digest (hex), computed
 * once per request: only digests are stored, and no resolver ever sees another's secret in clear.
 */
export interface PrincipalResolver {
  readonly name: string
  /**
   * When set, only credentials starting with it are offered to this resolver (API keys are `eph_…`,
   * mailbox tokens `mbt_…`): one database lookup per request, not one per resolver.
   */
  readonly prefix?: string
  /** The principal, or null when the credential is not one of this resolver's kind. */
  resolve(credentialDigest: string): Promise<Principal | null>
}

/** Every auth plugin (a credential style) exports `create` of this type. */
export type CredentialStyleFactory<Options> = (options: Options) => CredentialStyle
