// The rate_counters table: fixed-window counters for processes that share PostgreSQL but no Redis.

import { lt, sql } from 'drizzle-orm'
import type { RateCounterStore } from '#contracts/storage.ts'
import { rateCounters } from '#plugins/storage/schema.ts'
import type { Database } from './shared.ts'

export function createRateCounterQueries(db: Database): RateCounterStore {
  return {
    async incrementRateCounter(key, windowStart, cost) {
      // One atomic upsert: a counter of an older window starts again at this hit's cost. A negative cost
      // (a hit given back) never takes a counter below zero, nor starts a window below it.
      const fresh = Math.max(0, cost)
      const [row] = await db
        .insert(rateCounters)
        .values({ key, windowStart, count: fresh })
        .onConflictDoUpdate({
          target: rateCounters.key,
          set: {
            count: sql`case when ${rateCounters.windowStart} = excluded.window_start then greatest(0, ${rateCounters.count} + ${cost}::integer) else ${fresh}::integer end`,
            windowStart: sql`excluded.window_start`,
          },
        })
        .returning({ count: rateCounters.count })
      return row?.count ?? fresh
    },

    async deleteRateCountersBefore(before) {
      const deleted = await db
        .delete(rateCounters)
        .where(lt(rateCounters.windowStart, before))
        .returning({ key: rateCounters.key })
      return deleted.length
    },
  }
}
