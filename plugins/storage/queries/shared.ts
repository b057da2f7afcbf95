// What every table's queries share: the database handle's type, the driver hooks and small helpers.

import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { Storage } from '#contracts/storage.ts'
import type * as schema from '#plugins/storage/schema.ts'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

/** Operations that differ per driver; everything else is shared. */
export interface DriverHooks {
  driver: Storage['driver']
  /**
   * Runs a fixed statement with positional parameters and returns the rows as the driver typed them.
   * For the hottest reads only: no query building and no generic row mapping per call.
   */
  query<Row>(text: string, params: unknown[]): Promise<Row[]>
  migrate(): Promise<void>
  close(): Promise<void>
}

/**
 * The placeholder of the hot reads, which are prepared once: drizzle otherwise assembles the SQL text on
 * every call, which showed as an eighth of the server's time under load (bench/api-reads.ts,
 * bench/ingest-throughput.ts). Bare placeholders skip drizzle's column encoders, so times go in as ISO
 * strings; a key compared with a column is wrapped in that column's encoder (`sql.param(param('key'),
 * column)`), so a text key is made storable like every write.
 */
export const param = sql.placeholder

const UNIQUE_VIOLATION = '23505'

export function isUniqueViolation(error: unknown): boolean {
  // PGlite puts the SQLSTATE on `code`, Bun's SQL client on `errno`. drizzle wraps it in `cause`.
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const { code, errno } = current as { code?: unknown; errno?: unknown }
    if (code === UNIQUE_VIOLATION || errno === UNIQUE_VIOLATION) return true
  }
  return false
}

/** Rows of a raw `db.execute`: Bun's SQL client hands back the rows, PGlite an object holding them. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}

export type IsoText = (date: Date) => string

/**
 * Timestamps as the API's ISO 8601 text, remembered: a list page formats 40 of them and the same
 * messages are listed again and again, while toISOString was the list's largest JavaScript cost.
 * Bounded; cleared when full. One per storage instance.
 */
export function createIsoTexts(max = 50_000): IsoText {
  const texts = new Map<number, string>()
  return (date) => {
    const ms = date.getTime()
    let text = texts.get(ms)
    if (text === undefined) {
      if (texts.size >= max) texts.clear()
      text = date.toISOString()
      texts.set(ms, text)
    }
    return text
  }
}
