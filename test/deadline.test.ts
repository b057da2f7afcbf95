// Unit tests of beforeTimeout: the work's outcome in time, the timeout error otherwise.

import { expect, test } from 'bun:test'
import { beforeTimeout } from '#lib/deadline.ts'

const timedOut = () => Object.assign(new Error('too slow'), { code: 'ETIMEOUT' })

test('work that settles in time settles the result, resolved or rejected', async () => {
  expect(await beforeTimeout(Promise.resolve(7), 50, timedOut)).toBe(7)
  await expect(beforeTimeout(Promise.reject(new Error('refused')), 50, timedOut)).rejects.toThrow('refused')
})

test('work still pending when the time is up rejects with the timeout error', async () => {
  const started = performance.now()
  const never = new Promise<never>(() => {})
  await expect(beforeTimeout(never, 30, timedOut)).rejects.toMatchObject({
    message: 'too slow',
    code: 'ETIMEOUT',
  })
  expect(performance.now() - started).toBeGreaterThanOrEqual(25)
})

test('a late outcome after the timeout is ignored, not raised', async () => {
  const late = Bun.sleep(40).then(() => {
    throw new Error('late failure')
  })
  await expect(beforeTimeout(late, 10, timedOut)).rejects.toThrow('too slow')
  await Bun.sleep(50) // an unhandled rejection here would fail the test
})
