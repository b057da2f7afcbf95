// Redis rate limiter: counters shared by every process on one Redis, one atomic round trip per hit.

import { Redis } from 'ioredis'
import type { RateLimiter, RateLimiterFactory } from '#contracts/rate-limit.ts'

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
  // Auto-pipelining: the hits of concurrent requests issued in one tick share one write.
  const redis = new Redis(url, { lazyConnect: false, enableAutoPipelining: true }) as WithHit
  // defineCommand sends EVALSHA and falls back to EVAL once when the server has not seen the script.
  redis.defineCommand('ephemailRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT })
  redis.on('error', (error) => console.error('redis rate limiter', error.message))
  const keyPrefix = `${prefix}:rl:`

  return {
    name: 'redis',
    async hit(key, windowMs, cost = 1) {
      const at = Date.now()
      const [count, ttl] = await redis.ephemailRateHit(
        keyPrefix + key,
        cost,
        Math.max(1, Math.ceil(windowMs)),
      )
      return { count, resetAt: at + ttl }
    },
    async close() {
      redis.disconnect()
    },
  } satisfies RateLimiter
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'redis'
export const create: RateLimiterFactory<RedisRateLimiterOptions> = createRedisRateLimiter
