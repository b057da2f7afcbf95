// access_token credential style: `?access_token=<credential>`, only on the event stream and WebSocket upgrade.

import type { CredentialStyle, CredentialStyleFactory } from '#contracts/auth.ts'

/**
 * A browser's EventSource and WebSocket cannot set headers, so those routes take the credential in the
 * query. Nowhere else: a credential in a URL ends up in logs and histories.
 */
export function createAccessTokenStyle(): CredentialStyle {
  return {
    name: 'access-token',
    scope: 'stream',
    hint: '"?access_token=<token>"',
    challenge: null,
    // Documented as a parameter of the stream routes, where alone it is honoured.
    securityScheme: null,
    read(request) {
      const query = request.url.indexOf('?')
      if (query === -1) return null
      return new URLSearchParams(request.url.slice(query + 1)).get('access_token')
    },
  } satisfies CredentialStyle
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'access-token'
export const create: CredentialStyleFactory<Record<string, never>> = () => createAccessTokenStyle()
