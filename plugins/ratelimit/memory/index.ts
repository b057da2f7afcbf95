// In-process rate limiter: the embedded default, fixed-window counters in one bounded Map.

import type { RateLimiter, RateLimiterFactory } from '#contracts/rate-limit.ts'

export interface MemoryRateLimiterOptions {
  /**
   * Counters held at most (default 100,000, a few MB). Past it, expired windows are dropped first, then
   * the oldest counters: a flood of distinct keys (spoofed subjects) costs bounded memory, and at worst
   * lets a forgotten key start a window again.
   */
  maxKeys?: number
  now?: () => number
}

/** How often expired windows are swept out of the Map (lazily, on a hit). */
const SWEEP_INTERVAL_MS = 10_000

interface Window {
  count: number
  resetAt: number
}

export function createMemoryRateLimiter({
  maxKeys = 100_000,
  now = Date.now,
}: MemoryRateLimiterOptions = {}) {
  const windows = new Map<string, Window>()
  let nextSweepAt = 0

  function sweep(at: number) {
    for (const [key, window] of windows) if (window.resetAt <= at) windows.delete(key)
    nextSweepAt = at + SWEEP_INTERVAL_MS
  }

  function make(key: string, at: number, windowMs: number, count: number): Window {
    if (windows.size >= maxKeys) {
      sweep(at)
      // Still full: forget the oldest counters (Map order is insertion order).
      for (const oldest of windows.keys()) {
        if (windows.size < maxKeys) break
        windows.delete(oldest)
      }
    }
    const window = { count, resetAt: at + windowMs }
    windows.set(key, window)
    return window
  }

  return {
    name: 'memory',
    async hit(key, windowMs, cost = 1) {
      const at = now()
      if (at >= nextSweepAt) sweep(at)
      const current = windows.get(key)
      if (current !== undefined && current.resetAt > at) {
        // Giving back never takes a window below zero.
        current.count = Math.max(0, current.count + cost)
        return { count: current.count, resetAt: current.resetAt }
      }
      if (current !== undefined) windows.delete(key)
      // A give-back into a window that has ended has nothing to give back to.
      if (cost <= 0) return { count: 0, resetAt: at + windowMs }
      const window = make(key, at, windowMs, cost)
      return { count: window.count, resetAt: window.resetAt }
    },
    async close() {
      windows.clear()
    },
    /** Counters held now (tests: the Map stays bounded). */
    size: () => windows.size,
  } satisfies RateLimiter & { size(): number }
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'memory'
export const create: RateLimiterFactory<MemoryRateLimiterOptions> = createMemoryRateLimiter
