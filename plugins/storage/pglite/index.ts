// Embedded storage driver (PGlite, Postgres in WebAssembly): the default, keeping its files under the data dir.

import { mkdirSync } from 'node:fs'
import { PGlite, types } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import type { Storage, StorageFactory } from '#contracts/storage.ts'
import { MIGRATIONS_FOLDER } from '#plugins/storage/migrations.ts'
import { createDrizzleStorage } from '#plugins/storage/queries/index.ts'
import * as schema from '#plugins/storage/schema.ts'

export interface PgliteStorageOptions {
  /** A directory for the database files; omit for a throw-away in-memory database. */
  dataDir?: string
}

/**
 * PGlite has one connection, and statements of concurrent callers would interleave inside
 * each other's transactions; so every storage call runs alone, in arrival order.
 */
function serializeCalls<T extends object>(target: T): T {
  let tail: Promise<unknown> = Promise.resolve()
  const wrapped = { ...target }
  for (const [key, value] of Object.entries(target)) {
    if (typeof value !== 'function') continue
    ;(wrapped as Record<string, unknown>)[key] = (...args: unknown[]) => {
      const run = tail.then(() => value.apply(target, args))
      tail = run.catch(() => {})
      return run
    }
  }
  return wrapped
}

/**
 * bytea crosses into PGlite as hex text. Its own converters go byte by byte in JavaScript
 * (Array.from, toString(16), padStart; parseInt per pair), which for a 100 KB message was most of
 * the server's time; Buffer's hex codec is native.
 */
const fastBytea = {
  serializers: {
    [types.BYTEA]: (value: Uint8Array) =>
      `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`,
  },
  parsers: { [types.BYTEA]: (text: string) => new Uint8Array(Buffer.from(text.slice(2), 'hex')) },
}

export function createPgliteStorage({ dataDir }: PgliteStorageOptions = {}) {
  const client = new PGlite(dataDir, fastBytea)
  const db = drizzle({ client, schema })
  const storage = createDrizzleStorage(db, {
    driver: 'pglite',
    query: async <Row>(text: string, params: unknown[]) => (await client.query<Row>(text, params)).rows,
    async migrate() {
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })
    },
    async close() {
      await client.close()
    },
  }) satisfies Storage
  return serializeCalls(storage)
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'pglite'
export const create: StorageFactory<PgliteStorageOptions> = (options) => {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
  return createPgliteStorage(options)
}
