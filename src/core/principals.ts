// The principal resolvers: the admin key, API keys (looked up by digest on every request), and a mailbox's own token.

import type { PrincipalResolver } from '#contracts/auth.ts'
import { digestsEqual } from '#lib/ids.ts'
import type { ApiKey, Mailbox } from '#lib/types.ts'

/** What every API key starts with (as in the keys of the services Ephemail is compatible with). */
export const API_KEY_PREFIX = 'eph_'
/** What every mailbox token starts with. */
export const MAILBOX_TOKEN_PREFIX = 'mbt_'

/** The admin key, compared by digest in constant time. */
export function adminKeyResolver(adminKeyDigest: string): PrincipalResolver {
  return {
    name: 'admin-key',
    resolve: async (digest) => (digestsEqual(digest, adminKeyDigest) ? { kind: 'admin' } : null),
  }
}

/** A live mailbox's token: it reads and manages that mailbox only. */
export function mailboxTokenResolver(
  findLiveMailboxByTokenHash: (tokenDigest: string) => Promise<Mailbox | null>,
): PrincipalResolver {
  return {
    name: 'mailbox-token',
    prefix: MAILBOX_TOKEN_PREFIX,
    async resolve(digest) {
      const mailbox = await findLiveMailboxByTokenHash(digest)
      return mailbox ? { kind: 'mailbox', mailboxId: mailbox.id } : null
    },
  }
}

/** How often one process records a key's last use: a busy key must not turn every read into a write. */
const LAST_USE_RESOLUTION_MS = 60_000

/**
 * An API key. Looked up on every request, never cached, so deleting a key (in any process) stops it at
 * once everywhere. Its last use is recorded at most once a minute per process, off the request's path.
 */
export function apiKeyResolver({
  findApiKeyByHash,
  touchApiKey,
  now,
}: {
  findApiKeyByHash: (keyHash: string, now: Date) => Promise<ApiKey | null>
  touchApiKey: (id: string, usedAt: Date) => Promise<void>
  now: () => Date
}): PrincipalResolver {
  const lastRecorded = new Map<string, number>()
  return {
    name: 'api-key',
    prefix: API_KEY_PREFIX,
    async resolve(digest) {
      const at = now()
      const key = await findApiKeyByHash(digest, at)
      if (!key) return null
      const recorded = lastRecorded.get(key.id) ?? 0
      if (at.getTime() - recorded >= LAST_USE_RESOLUTION_MS) {
        if (lastRecorded.size > 10_000) lastRecorded.clear()
        lastRecorded.set(key.id, at.getTime())
        touchApiKey(key.id, at).catch(() => lastRecorded.delete(key.id))
      }
      return {
        kind: 'key',
        keyId: key.id,
        scopes: key.scopes,
        plan: key.plan,
        allowedDomains: key.allowedDomains,
      }
    },
  }
}
