// x-api-key credential style: `x-api-key: <credential>` (OpenAPI apiKey in a header) on every route.

import type { CredentialStyle, CredentialStyleFactory } from '#contracts/auth.ts'
import { unauthorized } from '#lib/problem.ts'

const HEADER = 'x-api-key'
/** One credential: no blanks (fetch has trimmed the ends), so two headers joined with ", " are refused too. */
const SINGLE_KEY = /^\S+$/

export function createHeaderStyle(): CredentialStyle {
  return {
    name: 'header',
    scope: 'request',
    hint: '"x-api-key: <token>"',
    // No registered scheme exists for API keys; a custom one that names the header keeps every 401 a
    // proper challenge (RFC 9110 asks for one) when this is the only style on.
    challenge: `ApiKey realm="ephemail", header="${HEADER}"`,
    securityScheme: {
      schemeName: 'apiKeyHeader',
      scheme: {
        type: 'apiKey',
        in: 'header',
        name: HEADER,
        description:
          'The admin key (EPHEMAIL_ADMIN_KEY) or the `token` returned when the mailbox was created, in an `x-api-key` header',
      },
    },
    read(request) {
      const value = request.headers.get(HEADER)
      if (value === null) return null
      if (!SINGLE_KEY.test(value))
        throw unauthorized(
          'The x-api-key header must hold exactly one admin key or mailbox token (it is empty or has blanks)',
        )
      return value
    },
  } satisfies CredentialStyle
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'header'
export const create: CredentialStyleFactory<Record<string, never>> = () => createHeaderStyle()
