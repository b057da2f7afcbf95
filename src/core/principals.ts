// The principal resolvers Ephemail has today: the admin key and a mailbox's own token (API keys come next).

import type { PrincipalResolver } from '#contracts/auth.ts'
import { digestsEqual } from '#lib/ids.ts'
import type { Mailbox } from '#lib/types.ts'

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
    async resolve(digest) {
      const mailbox = await findLiveMailboxByTokenHash(digest)
      return mailbox ? { kind: 'mailbox', mailboxId: mailbox.id } : null
    },
  }
}
