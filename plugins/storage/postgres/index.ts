// PostgreSQL storage driver (Bun's built-in SQL client): chosen when DATABASE_URL is set; several processes may share it.

import { SQL } from 'bun'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import type { Storage, StorageFactory } from '#contracts/storage.ts'
import { MIGRATIONS_FOLDER } from '#plugins/storage/migrations.ts'
import { createDrizzleStorage } from '#plugins/storage/queries/index.ts'
import * as schema from '#plugins/storage/schema.ts'

/** Arbitrary but fixed: every Ephemail process takes this advisory lock while migrating. */
const MIGRATION_LOCK_ID = 72_946_311

export interface PostgresStorageOptions {
  url: string
  /** Connections in the pool; group commit keeps the write path to a few of them. */
  poolSize?: number
}

export function createPostgresStorage({ url, poolSize = 10 }: PostgresStorageOptions) {
  const client = new SQL(url, { max: poolSize })
  const db = drizzle({ client, schema })
  return createDrizzleStorage(db, {
    driver: 'postgres',
    // Bun's client prepares each distinct statement once per connection and reuses it.
    query: (text, params) => client.unsafe(text, params),
    async migrate() {
      // drizzle's migrator takes no lock of its own: without this, two processes starting
      // together would both try to create the tables.
      const lockHolder = await client.reserve()
      try {
        await lockHolder`select pg_advisory_lock(${MIGRATION_LOCK_ID})`
        await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })
      } finally {
        await lockHolder`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`
        lockHolder.release()
      }
    },
    async close() {
      await client.close({ timeout: 5 })
    },
  }) satisfies Storage
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'postgres'
export const create: StorageFactory<PostgresStorageOptions> = createPostgresStorage
