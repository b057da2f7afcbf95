// Bearer credential style: `Authorization: Bearer <credential>` (RFC 6750) on every route.

import type { CredentialStyle, CredentialStyleFactory } from '#contracts/auth.ts'
import { unauthorized } from '#lib/problem.ts'

const BEARER = /^Bearer[ \t]+(\S+)\s*$/i

export function createBearerStyle(): CredentialStyle {
  return {
    name: 'bearer',
    scope: 'request',
    hint: '"Authorization: Bearer <token>"',
    challenge: 'Bearer realm="ephemail"',
    securityScheme: {
      schemeName: 'bearer',
      scheme: {
        type: 'http',
        scheme: 'bearer',
        description:
          'The admin key (EPHEMAIL_ADMIN_KEY) or the `token` returned when the mailbox was created',
      },
    },
    read(request) {
      const header = request.headers.get('authorization')
      if (header === null) return null
      const match = BEARER.exec(header)
      if (!match) throw unauthorized('The Authorization header must be "Bearer <admin key or mailbox token>"')
      return match[1] as string
    },
  } satisfies CredentialStyle
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'bearer'
export const create: CredentialStyleFactory<Record<string, never>> = () => createBearerStyle()
