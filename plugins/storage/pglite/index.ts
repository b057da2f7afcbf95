// Embedded storage driver (PGlite, Postgres in WebAssembly): the default, keeping its files under the data dir.

import { fsyncSync, mkdirSync } from 'node:fs'
import { PGlite, types } from '@electric-sql/pglite'
import { NodeFS } from '@electric-sql/pglite/nodefs'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import type { Storage, StorageFactory } from '#contracts/storage.ts'
import { MIGRATIONS_FOLDER } from '#plugins/storage/migrations.ts'
import { createDrizzleStorage } from '#plugins/storage/queries/index.ts'
import * as schema from '#plugins/storage/schema.ts'
import { createThreadedPgliteStorage } from './threaded.ts'

export interface PgliteStorageOptions {
  /** A directory for the database files; omit for a throw-away in-memory database. */
  dataDir?: string
  /**
   * Where PGlite runs. `worker` (the plugin's default): on a thread of its own, so storing or reading a
   * multi-megabyte message never holds the server's event loop (threaded.ts). `main`: in this thread,
   * for tools and tests that start many throw-away databases.
   */
  thread?: 'worker' | 'main'
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

/** The slice of Emscripten's runtime the durable file system touches. */
interface EmscriptenModule {
  NODEFS: { stream_ops: { fsync?: (stream: { nfd?: number }) => number } }
  FS: { ErrnoError: new (errno: number) => Error }
}
type FsInit = Awaited<ReturnType<NodeFS['init']>>
type PreRun = (module: EmscriptenModule) => void

/** Emscripten's errno for EIO: a failed fsync must fail the commit, as in PostgreSQL. */
const EMSCRIPTEN_EIO = 29

/**
 * PGlite's directory file system with a working fsync. Emscripten's file system has no fsync of its
 * own, so PostgreSQL's calls reached nothing (and PGlite starts it with fsync off): a commit sat in the
 * page cache and power loss could take mail that had got a 250. Here fsync reaches the disk.
 */
class DurableNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFS['init']>): Promise<FsInit> {
    const init = await super.init(...args)
    const syncToDisk: PreRun = (module) => {
      module.NODEFS.stream_ops.fsync = (stream) => {
        if (stream.nfd === undefined) return 0
        try {
          fsyncSync(stream.nfd)
          return 0
        } catch {
          throw new module.FS.ErrnoError(EMSCRIPTEN_EIO)
        }
      }
    }
    const options = init.emscriptenOpts as { preRun?: PreRun[] }
    options.preRun = [...(options.preRun ?? []), syncToDisk]
    return init
  }
}

/**
 * PGlite's own start parameters without `-F` (fsync off), and the WAL flushed with fsync(): Emscripten's
 * fdatasync() is a stub that never reaches the file system, its fsync() goes through DurableNodeFS.
 */
function durableStartParams(): string[] {
  const defaults = (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams
  if (!Array.isArray(defaults))
    throw new Error('PGlite.defaultStartParams is gone: check durability after this PGlite upgrade')
  return [...defaults.filter((param) => param !== '-F'), '-c', 'wal_sync_method=fsync']
}

/** Opens PGlite as the driver does: durable on a directory, PGlite's defaults in memory. */
export function openPglite(dataDir: string | undefined): PGlite {
  // In memory there is no disk to reach, so PGlite's own defaults stand.
  if (!dataDir) return new PGlite(fastBytea)
  return new PGlite({ ...fastBytea, fs: new DurableNodeFS(dataDir), startParams: durableStartParams() })
}

/** PGlite in the calling thread. */
export function createPgliteStorage({ dataDir }: Omit<PgliteStorageOptions, 'thread'> = {}) {
  const client = openPglite(dataDir)
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
export const create: StorageFactory<PgliteStorageOptions> = ({ thread = 'worker', ...options }) => {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
  return thread === 'worker' ? createThreadedPgliteStorage(options) : createPgliteStorage(options)
}
