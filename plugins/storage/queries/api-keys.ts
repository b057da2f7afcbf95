// The api_keys table: keys stored by digest, looked up on every request (so a deleted key stops at once).

import { and, desc, eq, isNull, lt, or } from 'drizzle-orm'
import type { ApiKeyStore } from '#contracts/storage.ts'
import type { ApiKey } from '#lib/types.ts'
import { apiKeys } from '#plugins/storage/schema.ts'
import { type Database, param } from './shared.ts'

const keyColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  plan: apiKeys.plan,
  allowedDomains: apiKeys.allowedDomains,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
}

const asKey = (row: unknown) => (row as ApiKey | undefined) ?? null

export function createApiKeyQueries(db: Database): ApiKeyStore {
  // Prepared: it runs on every request that carries a key.
  const byHash = db
    .select(keyColumns)
    .from(apiKeys)
    .where(
      // The hash is hex of a digest, so it needs no storable-text encoding.
      eq(apiKeys.keyHash, param('hash')),
    )
    .prepare('api_key_by_hash')

  return {
    async insertApiKey(key) {
      await db.insert(apiKeys).values(key)
    },

    async findApiKeyByHash(keyHash, now) {
      const [row] = await byHash.execute({ hash: keyHash })
      const key = asKey(row)
      return key && (key.expiresAt === null || key.expiresAt > now) ? key : null
    },

    async getApiKey(id) {
      const [row] = await db.select(keyColumns).from(apiKeys).where(eq(apiKeys.id, id))
      return asKey(row)
    },

    async listApiKeys() {
      return (await db.select(keyColumns).from(apiKeys).orderBy(desc(apiKeys.id))) as ApiKey[]
    },

    async updateApiKey(id, change) {
      if (Object.keys(change).length === 0) return this.getApiKey(id)
      const [row] = await db.update(apiKeys).set(change).where(eq(apiKeys.id, id)).returning(keyColumns)
      return asKey(row)
    },

    async deleteApiKey(id) {
      const deleted = await db.delete(apiKeys).where(eq(apiKeys.id, id)).returning({ id: apiKeys.id })
      return deleted.length > 0
    },

    async touchApiKey(id, usedAt) {
      await db
        .update(apiKeys)
        .set({ lastUsedAt: usedAt })
        // Never moves backwards when processes race.
        .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, usedAt))))
    },
  }
}
