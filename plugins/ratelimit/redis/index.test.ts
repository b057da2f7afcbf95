// The Redis rate limiter on the real Redis against the shared contract, plus what only Redis does.

import { afterAll, describe, expect, test } from 'bun:test'
import { Redis } from 'ioredis'
import { runRateLimiterContract } from '../../../test/contracts/rate-limit.ts'
import { redisAvailable, TEST_REDIS_URL } from '../../../test/support/redis.ts'
import { createRedisRateLimiter } from './index.ts'

// Prints why when Redis is not there (and throws under EPHEMAIL_REQUIRE_SERVICES=1).
const redisIsUp = await redisAvailable()
const prefix = `ephemail-test-rl-${Date.now()}`

describe.skipIf(!redisIsUp)('redis', () => {
  // Each instance is its own client (its own connection): two of them are two processes.
  runRateLimiterContract('redis (real Redis)', () => createRedisRateLimiter({ url: TEST_REDIS_URL, prefix }))

  const admin = redisIsUp ? new Redis(TEST_REDIS_URL) : null
  afterAll(() => admin?.disconnect())

  test('counters live under the prefix and expire with their window', async () => {
    const limiter = createRedisRateLimiter({ url: TEST_REDIS_URL, prefix })
    try {
      await limiter.hit('expiry-probe', 30_000)
      const ttl = await admin?.pttl(`${prefix}:rl:expiry-probe`)
      expect(ttl).toBeGreaterThan(25_000)
      expect(ttl).toBeLessThanOrEqual(30_000)
      const other = createRedisRateLimiter({ url: TEST_REDIS_URL, prefix: `${prefix}-other` })
      expect((await other.hit('expiry-probe', 30_000)).count).toBe(1)
      await other.close()
    } finally {
      await limiter.close()
    }
  })
})
