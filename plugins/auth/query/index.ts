// ?key= credential style: `?key=<credential>` (OpenAPI apiKey in the query) on every route, for clients that cannot set headers.

import type { CredentialStyle, CredentialStyleFactory } from '#contracts/auth.ts'
import { unauthorized } from '#lib/problem.ts'

const PARAMETER = 'key'

/**
 * Opt-in (EPHEMAIL_AUTH): a credential in a URL ends up in proxy logs and browser histories, so the
 * header styles stay the default. Ephemail's own logs never hold query parameters.
 */
export function createQueryStyle(): CredentialStyle {
  return {
    name: 'query',
    scope: 'request',
    hint: '"?key=<token>"',
    challenge: `ApiKey realm="ephemail", query="${PARAMETER}"`,
    securityScheme: {
      schemeName: 'apiKeyQuery',
      scheme: {
        type: 'apiKey',
        in: 'query',
        name: PARAMETER,
        description:
          'The admin key (EPHEMAIL_ADMIN_KEY) or the `token` returned when the mailbox was created, as `?key=` (it shows in logs of proxies and in browser histories: prefer a header)',
      },
    },
    read(request) {
      const query = request.url.indexOf('?')
      if (query === -1) return null
      const values = new URLSearchParams(request.url.slice(query + 1)).getAll(PARAMETER)
      if (values.length === 0) return null
      // An empty or repeated key is a client's mistake; reading it as anonymous (or picking one) would hide it.
      if (values.length > 1) throw unauthorized('The query holds "key" more than once; send one credential')
      const value = values[0] as string
      if (value === '')
        throw unauthorized('The "key" query parameter is empty; send the admin key or a mailbox token')
      return value
    },
  } satisfies CredentialStyle
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'query'
export const create: CredentialStyleFactory<Record<string, never>> = () => createQueryStyle()
