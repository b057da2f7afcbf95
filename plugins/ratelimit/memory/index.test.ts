// The in-process rate limiter against the shared contract, plus its bound on memory.

import { expect, test } from 'bun:test'
import { runRateLimiterContract } from '../../../test/contracts/rate-limit.ts'
import { createMemoryRateLimiter } from './index.ts'

runRateLimiterContract('memory', () => createMemoryRateLimiter(), {
  // One instance is the whole budget of its process: there is nothing for a second to share.
  skip: ['two instances share one budget'],
})

test('memory: counters stay within maxKeys, ended windows are dropped first, then the oldest', async () => {
  let now = 1_000_000
  const limiter = createMemoryRateLimiter({ maxKeys: 100, now: () => now })
  for (let i = 0; i < 100; i++) await limiter.hit(`short-${i}`, 1_000)
  expect(limiter.size()).toBe(100)
  now += 2_000 // every short window has ended
  await limiter.hit('long-0', 60_000)
  expect(limiter.size()).toBe(1)
  for (let i = 1; i < 250; i++) await limiter.hit(`long-${i}`, 60_000)
  expect(limiter.size()).toBe(100)
  // The newest keep counting; the oldest were forgotten and start again.
  expect((await limiter.hit('long-249', 60_000)).count).toBe(2)
  expect((await limiter.hit('long-0', 60_000)).count).toBe(1)
  await limiter.close()
})

test('memory: ended windows are swept even when no key comes back', async () => {
  let now = 0
  const limiter = createMemoryRateLimiter({ now: () => now })
  for (let i = 0; i < 50; i++) await limiter.hit(`gone-${i}`, 1_000)
  now += 60_000
  await limiter.hit('fresh', 1_000)
  expect(limiter.size()).toBe(1)
})
