// Redis rate limiter: counters shared by every process on one Redis, one atomic round trip per hit.

import { Redis } from 'ioredis'
import type { RateLimiter, RateLimiterFactory, RateLimitHit } from '#contracts/rate-limit.ts'

export interface RedisRateLimiterOptions {
  url: string
  /** Prefix of every counter's name (config.redisPrefix): deployments sharing one Redis keep apart. */
  prefix: string
}

/**
 * INCRBY, and PEXPIRE when the counter has no expiry yet (the first hit of its window), in one script:
 * atomic, and one round trip. A give-back (negative cost) into a window that has ended creates nothing.
 * Returns the count and the window's remaining milliseconds.
 */
const HIT_SCRIPT = `
local cost = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if cost < 0 and redis.call('EXISTS', KEYS[1]) == 0 then return {0, window} end
local count = redis.call('INCRBY', KEYS[1], cost)
if count < 0 then
  redis.call('SET', KEYS[1], 0, 'KEEPTTL')
  count = 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return {count, ttl}
`

type WithHit = Redis & {
  ephemailRateHit(key: string, cost: number, windowMs: number): Promise<[number, number]>
}

export function createRedisRateLimiter({ url, prefix }: RedisRateLimiterOptions) {
  // Auto-pipelining: the hits of concurrent requests issued in one tick share one write. One retry: while
  // Redis is away a hit fails fast and callers go on unmetered, instead of every request waiting for it.
  const redis = new Redis(url, {
    lazyConnect: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
  }) as WithHit
  // defineCommand sends EVALSHA and falls back to EVAL once when the server has not seen the script.
  redis.defineCommand('ephemailRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT })
  redis.on('error', (error) => console.error('redis rate limiter', error.message))
  const keyPrefix = `${prefix}:rl:`

  const send = async (key: string, cost: number, windowMs: number) => {
    const at = Date.now()
    const [count, ttl] = await redis.ephemailRateHit(keyPrefix + key, cost, Math.max(1, Math.ceil(windowMs)))
    return { count, resetAt: at + ttl }
  }

  /**
   * Hits on one key arriving in the same turn of the event loop go to Redis as one INCRBY of their sum,
   * and each gets the count it would have had alone (the sum's count, less what came after it): exact,
   * still atomic across processes, and a hot key (a busy API key) costs one command per turn instead of
   * one per request. Give-backs go alone, so the floor at zero applies to them as it would.
   */
  const batches = new Map<string, Batch>()
  function flush() {
    for (const [key, batch] of batches) {
      batches.delete(key)
      send(key, batch.total, batch.windowMs).then(
        ({ count, resetAt }) => {
          let reached = count - batch.total
          for (const waiter of batch.waiters) {
            reached += waiter.cost
            waiter.resolve({ count: reached, resetAt })
          }
        },
        (error) => {
          for (const waiter of batch.waiters) waiter.reject(error)
        },
      )
    }
  }

  return {
    name: 'redis',
    hit(key, windowMs, cost = 1) {
      if (cost <= 0) return send(key, cost, windowMs)
      let batch = batches.get(key)
      if (batch !== undefined && batch.windowMs !== windowMs) return send(key, cost, windowMs)
      if (batch === undefined) {
        if (batches.size === 0) setImmediate(flush)
        batch = { windowMs, total: 0, waiters: [] }
        batches.set(key, batch)
      }
      batch.total += cost
      const { promise, resolve, reject } = Promise.withResolvers<RateLimitHit>()
      batch.waiters.push({ cost, resolve, reject })
      return promise
    },
    async close() {
      flush()
      redis.disconnect()
    },
  } satisfies RateLimiter
}

interface Batch {
  windowMs: number
  total: number
  waiters: { cost: number; resolve(hit: RateLimitHit): void; reject(error: unknown): void }[]
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'redis'
export const create: RateLimiterFactory<RedisRateLimiterOptions> = createRedisRateLimiter
