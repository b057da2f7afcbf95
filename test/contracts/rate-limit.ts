// Rate-limiter contract suite: what every RateLimiter promises, run by each rate-limit plugin's own test file beside it.

import { afterEach, describe, expect } from 'bun:test'
import type { RateLimiter } from '#contracts/rate-limit.ts'
import { type ContractOptions, contractTest } from './known-gaps.ts'

/**
 * Opens an instance of the plugin under test. Instances opened by one suite share their backend where
 * the plugin can (Redis, PostgreSQL: like processes of one deployment).
 */
export type OpenRateLimiter = () => RateLimiter

/**
 * Long windows for the counting tests: a plugin may align windows to the clock (storage does), and a
 * window boundary falling inside a test would restart its count.
 */
const HOUR = 3_600_000

const uniqueKey = (tag: string) => `contract-${tag}-${crypto.randomUUID()}`

export function runRateLimiterContract(suite: string, open: OpenRateLimiter, options: ContractOptions = {}) {
  describe(`${suite}: rate-limiter contract`, () => {
    const { test, checkSkips } = contractTest(suite, options)
    const opened: RateLimiter[] = []
    const limiter = () => {
      const made = open()
      opened.push(made)
      return made
    }
    afterEach(async () => {
      for (const made of opened.splice(0)) await made.close()
    })

    test('hits on one key count up within a window; another key counts on its own', async () => {
      const rl = limiter()
      const key = uniqueKey('count')
      const before = Date.now()
      const first = await rl.hit(key, HOUR)
      expect(first.count).toBe(1)
      expect(first.resetAt).toBeGreaterThan(before)
      expect(first.resetAt).toBeLessThanOrEqual(Date.now() + HOUR)
      expect((await rl.hit(key, HOUR)).count).toBe(2)
      const third = await rl.hit(key, HOUR, 5)
      expect(third.count).toBe(7)
      // One window: its end does not move as hits arrive.
      expect(Math.abs(third.resetAt - first.resetAt)).toBeLessThan(50)
      expect((await rl.hit(uniqueKey('other'), HOUR)).count).toBe(1)
    })

    test('a window that has ended starts again from zero', async () => {
      const rl = limiter()
      const key = uniqueKey('reset')
      const first = await rl.hit(key, 300, 3)
      expect(first.count).toBe(3)
      // Wait until the window reported has passed (the end is the plugin's own answer, not a guess).
      await Bun.sleep(Math.max(0, first.resetAt - Date.now()) + 30)
      const after = await rl.hit(key, 300)
      expect(after.count).toBe(1)
      expect(after.resetAt).toBeGreaterThan(first.resetAt)
    })

    test('a negative cost gives a hit back, and never takes a window below zero', async () => {
      const rl = limiter()
      const key = uniqueKey('give-back')
      await rl.hit(key, HOUR)
      await rl.hit(key, HOUR)
      await rl.hit(key, HOUR)
      expect((await rl.hit(key, HOUR, -1)).count).toBe(2)
      expect((await rl.hit(key, HOUR)).count).toBe(3)
      expect((await rl.hit(key, HOUR, -5)).count).toBe(0)
      expect((await rl.hit(key, HOUR)).count).toBe(1)
      // Giving back on a key with no window counts nothing.
      const fresh = uniqueKey('fresh')
      expect((await rl.hit(fresh, HOUR, -1)).count).toBe(0)
      expect((await rl.hit(fresh, HOUR)).count).toBe(1)
    })

    test('200 concurrent hits on one key count 200, each count seen once', async () => {
      const rl = limiter()
      const key = uniqueKey('concurrent')
      const hits = await Promise.all(Array.from({ length: 200 }, () => rl.hit(key, HOUR)))
      const counts = hits.map((hit) => hit.count).sort((a, b) => a - b)
      expect(counts).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      expect((await rl.hit(key, HOUR, 0)).count).toBe(200)
    })

    test('two instances share one budget', async () => {
      const [a, b] = [limiter(), limiter()]
      const key = uniqueKey('shared')
      const hits = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).hit(key, HOUR)),
      )
      expect(Math.max(...hits.map((hit) => hit.count))).toBe(100)
      expect((await a.hit(key, HOUR)).count).toBe(101)
      expect((await b.hit(key, HOUR)).count).toBe(102)
    })

    checkSkips()
  })
}
