// The one place HTTP requests become principals: a named Elysia plugin every route plugin uses.

import { Elysia } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import type { Authenticator } from '#core/authenticate.ts'

/**
 * Adds `principal` (null: no credential in any style honoured on every route) to each request, and
 * `requirePrincipal()` for the routes that need one. A credential that resolves to nobody is a 401
 * before the route runs. Stream routes ask `auth.authenticate(request, 'stream')` for their extra style.
 */
export function principalPlugin(auth: Authenticator) {
  return new Elysia({ name: 'ephemail.principal' }).derive({ as: 'scoped' }, async ({ request }) => {
    const principal: Principal | null = await auth.authenticate(request)
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
