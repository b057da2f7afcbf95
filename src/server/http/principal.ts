// The one place HTTP requests become principals: named Elysia plugins the route plugins use.

import { Elysia } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import type { Authenticator } from '#core/authenticate.ts'

/**
 * Adds `principal` (null: no credential in any style honoured on every route) and `requirePrincipal()`
 * to each request of the route plugin that uses it. It runs before validation (derive), so a wrong
 * credential is a 401 before any field is checked; with `required`, so is a missing one. Scoped: only
 * the route plugins that use it resolve a principal, so /health and /docs ignore credentials. Stream
 * routes ask `auth.authenticate(request, 'stream')` for their extra style.
 */
function principalPlugin(auth: Authenticator, required: boolean) {
  return new Elysia({
    name: required ? 'ephemail.principal.required' : 'ephemail.principal.optional',
  }).derive({ as: 'scoped' }, async ({ request }) => {
    const principal: Principal | null = await auth.authenticate(request)
    if (required && principal === null) throw auth.credentialRequired(request)
    return {
      principal,
      requirePrincipal(): Principal {
        if (principal === null) throw auth.credentialRequired()
        return principal
      },
    }
  })
}

export type PrincipalPlugin = ReturnType<typeof principalPlugin>

export interface PrincipalPlugins {
  /** For routes open to anonymous callers (creating a mailbox). */
  optional: PrincipalPlugin
  /** For every other route: no credential is a 401 before validation. */
  required: PrincipalPlugin
}

export function principalPlugins(auth: Authenticator): PrincipalPlugins {
  return { optional: principalPlugin(auth, false), required: principalPlugin(auth, true) }
}
