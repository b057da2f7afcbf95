// The domains table: receiving domains registered through the admin API, with their last MX check.

import { asc, eq, sql } from 'drizzle-orm'
import type { DomainStore } from '#contracts/storage.ts'
import type { RegisteredDomain } from '#lib/types.ts'
import { domains } from '#plugins/storage/schema.ts'
import type { Database } from './shared.ts'

const asDomain = (row: unknown) => (row as RegisteredDomain | undefined) ?? null

export function createDomainQueries(db: Database): DomainStore {
  return {
    async insertDomain(domain) {
      const inserted = await db
        .insert(domains)
        .values(domain)
        .onConflictDoNothing()
        .returning({ name: domains.name })
      return inserted.length > 0 ? 'created' : 'exists'
    },

    async getDomain(name) {
      const [row] = await db.select().from(domains).where(eq(domains.name, name))
      return asDomain(row)
    },

    async listDomains() {
      return (await db.select().from(domains).orderBy(asc(domains.name))) as RegisteredDomain[]
    },

    async recordDomainCheck(name, outcome) {
      const [row] = await db
        .update(domains)
        .set({
          status: outcome.status,
          problems: outcome.problems,
          mxHosts: outcome.mxHosts,
          checkedAt: outcome.checkedAt,
          verifiedAt:
            outcome.status === 'verified'
              ? sql`coalesce(${domains.verifiedAt}, ${outcome.checkedAt.toISOString()}::timestamptz)`
              : domains.verifiedAt,
        })
        .where(eq(domains.name, name))
        .returning()
      return asDomain(row)
    },

    async deleteDomain(name) {
      const deleted = await db.delete(domains).where(eq(domains.name, name)).returning({ name: domains.name })
      return deleted.length > 0
    },
  }
}
