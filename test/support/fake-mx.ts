// Test helper: an MX resolver answering from a table the test changes as it goes (as DNS changes would).

import type { MxRecord, MxResolver } from '#core/domain-check.ts'
import { sha256Hex } from '#lib/ids.ts'
import type { Scope } from '#lib/types.ts'
import type { Harness } from './problem.ts'

/** A name's records, or the error code its lookup fails with; names not in the table are ENOTFOUND. */
export type FakeMxTable = Map<string, MxRecord[] | { code: string }>

export function fakeMxResolver(table: FakeMxTable = new Map()): MxResolver & { table: FakeMxTable } {
  return {
    table,
    async resolveMx(name) {
      const entry = table.get(name) ?? { code: 'ENOTFOUND' }
      if ('code' in entry)
        throw Object.assign(new Error(`queryMx ${entry.code} ${name}`), { code: entry.code })
      return entry
    },
  }
}

/** Stores an API key and returns its id and the bearer secret, as the (future) key routes would. */
export async function insertTestApiKey(
  h: Harness,
  { scopes = ['read', 'write'], plan = 'default' }: { scopes?: Scope[]; plan?: string } = {},
): Promise<{ id: string; secret: string }> {
  const secret = `eph_${crypto.randomUUID().replaceAll('-', '')}`
  const id = crypto.randomUUID()
  await h.storage.insertApiKey({
    id,
    name: `test key ${id.slice(0, 8)}`,
    prefix: secret.slice(0, 12),
    scopes,
    plan,
    allowedDomains: null,
    createdAt: new Date(),
    expiresAt: null,
    lastUsedAt: null,
    keyHash: await sha256Hex(secret),
  })
  return { id, secret }
}
