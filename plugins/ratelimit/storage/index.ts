// Storage rate limiter: counters in the rate_counters table, for processes that share PostgreSQL but no Redis.

import type { RateLimiter, RateLimiterFactory } from '#contracts/rate-limit.ts'
import type { RateCounterStore } from '#contracts/storage.ts'

export interface StorageRateLimiterOptions {
  storage: RateCounterStore
  /** How often counters of ended windows are deleted (default one minute). */
  sweepIntervalMs?: number
  now?: () => number
}

/**
 * Windows are aligned to the epoch (floor(now / window)), so every process computes the same window
 * start for a key without asking; the upsert restarts a counter whose stored window is older.
 */
export function createStorageRateLimiter({
  storage,
  sweepIntervalMs = 60_000,
  now = Date.now,
}: StorageRateLimiterOptions) {
  let longestWindowMs = 0
  const sweeper = setInterval(() => {
    if (longestWindowMs === 0) return
    storage
      .deleteRateCountersBefore(new Date(now() - longestWindowMs))
      .catch((error) => console.error(`rate counter sweep failed: ${(error as Error).message}`))
  }, sweepIntervalMs)
  sweeper.unref?.()

  return {
    name: 'storage',
    async hit(key, windowMs, cost = 1) {
      longestWindowMs = Math.max(longestWindowMs, windowMs)
      const at = now()
      const windowStart = Math.floor(at / windowMs) * windowMs
      const count = await storage.incrementRateCounter(key, new Date(windowStart), cost)
      return { count, resetAt: windowStart + windowMs }
    },
    async close() {
      clearInterval(sweeper)
    },
  } satisfies RateLimiter
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'storage'
export const create: RateLimiterFactory<StorageRateLimiterOptions> = createStorageRateLimiter
