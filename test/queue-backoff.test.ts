// The retry delay every queue plugin uses (src/contracts/queue.ts): doubling, jitter, cap.

import { expect, test } from 'bun:test'
import { backoffDelay } from '#contracts/queue.ts'

test('backoff doubles per attempt, stays within ±20 % jitter and never passes the cap', () => {
  const low = () => 0
  const high = () => 0.999_999
  expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 100, 10_000, low))).toEqual([80, 160, 320, 640])
  expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 100, 10_000, high))).toEqual([
    120, 240, 480, 960,
  ])
  expect(backoffDelay(30, 1000, 600_000, high)).toBe(600_000)
  expect(backoffDelay(30, 1000, 600_000, low)).toBe(480_000)
})
