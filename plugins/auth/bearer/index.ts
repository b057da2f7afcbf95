// Bearer auth: `Authorization: Bearer <key>` with either the admin key or a mailbox's own token.

import { createHash } from 'node:crypto'
import type { AuthPlugin, Principal } from '#contracts/auth.ts'
import { digestsEqual } from '#lib/ids.ts'
import { unauthorized } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'

export interface BearerAuthOptions {
  /** SHA-256 (hex) of the admin key. */
  adminKeyHash: string
  findMailboxByTokenHash(tokenHash: string): Promise<Mailbox | null>
}

export function createBearerAuth({ adminKeyHash, findMailboxByTokenHash }: BearerAuthOptions) {
  async function authenticateToken(token: string): Promise<Principal> {
    // The same SHA-256 hex as the library's sha256Hex, computed on this thread: crypto.subtle's digest
    // goes through a thread pool and back, and with every request doing one, that hop showed up as
    // request-latency tails of hundreds of milliseconds on a busy two-core machine.
    const tokenHash = createHash('sha256').update(token).digest('hex')
    if (digestsEqual(tokenHash, adminKeyHash)) return { kind: 'admin' }
    const mailbox = await findMailboxByTokenHash(tokenHash)
    if (mailbox) return { kind: 'mailbox', mailboxId: mailbox.id }
    throw unauthorized('The token is neither the admin key nor the token of a live mailbox')
  }

  return {
    name: 'bearer',
    async authenticate(request): Promise<Principal | null> {
      const header = request.headers.get('authorization')
      if (header === null) return null
      const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header)
      if (!match) throw unauthorized('The Authorization header must be "Bearer <admin key or mailbox token>"')
      return authenticateToken(match[1] as string)
    },
    authenticateToken,
  } satisfies AuthPlugin
}
