// Test helper: is the real Redis there? CI sets EPHEMAIL_REQUIRE_SERVICES=1 so absence fails instead of skipping.

import { Redis } from 'ioredis'

export const TEST_REDIS_URL = process.env.EPHEMAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => {}) // the failure is reported below, once
  try {
    await probe.connect()
    await probe.ping()
    return true
  } catch (error) {
    if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
      throw new Error(`Redis is required but not reachable at ${TEST_REDIS_URL}: ${error}`)
    console.warn(`Redis not reachable at ${TEST_REDIS_URL}: its tests are skipped`)
    return false
  } finally {
    probe.disconnect()
  }
}
