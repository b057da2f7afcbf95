// Unit tests of the bounded TTL cache: expiry, the bound, deletes and an injected clock.

import { describe, expect, test } from 'bun:test'
import { createTtlCache } from '#lib/ttl-cache.ts'

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let time = start
  return {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
}

describe('createTtlCache', () => {
  test('an entry is returned until ttlMs have passed, and expired at exactly ttlMs', () => {
    const clock = manualClock()
    const cache = createTtlCache<string, number>({ ttlMs: 100, maxEntries: 10, now: clock.now })
    cache.set('a', 1)
    expect(cache.get('a')).toBe(1)
    clock.advance(99)
    expect(cache.get('a')).toBe(1)
    clock.advance(1)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0) // an expired entry is dropped when it is found
  })

  test('setting a key again restarts its time', () => {
    const clock = manualClock()
    const cache = createTtlCache<string, string>({ ttlMs: 100, maxEntries: 10, now: clock.now })
    cache.set('a', 'first')
    clock.advance(80)
    cache.set('a', 'second')
    clock.advance(80)
    expect(cache.get('a')).toBe('second')
    expect(cache.size).toBe(1)
  })

  test('falsy values are values: only a missing or expired entry is undefined', () => {
    const cache = createTtlCache<string, number | null>({ ttlMs: 1_000, maxEntries: 10 })
    cache.set('zero', 0)
    cache.set('null', null)
    expect(cache.get('zero')).toBe(0)
    expect(cache.get('null')).toBeNull()
    expect(cache.get('missing')).toBeUndefined()
  })

  test('past maxEntries the entry set longest ago goes first', () => {
    const cache = createTtlCache<string, number>({ ttlMs: 1_000, maxEntries: 3 })
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('c', 3)
    cache.set('a', 10) // set again: now the newest
    cache.set('d', 4)
    expect(cache.size).toBe(3)
    expect(cache.get('b')).toBeUndefined()
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([10, 3, 4])
    cache.set('e', 5)
    expect(cache.get('c')).toBeUndefined()
    expect(cache.size).toBe(3)
  })

  test('setting a key it holds does not evict another', () => {
    const cache = createTtlCache<string, number>({ ttlMs: 1_000, maxEntries: 2 })
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('b', 3)
    expect([cache.get('a'), cache.get('b')]).toEqual([1, 3])
  })

  test('delete, deleteWhere and clear', () => {
    const cache = createTtlCache<string, { owner: string }>({ ttlMs: 1_000, maxEntries: 10 })
    cache.set('a', { owner: 'x' })
    cache.set('b', { owner: 'y' })
    cache.set('c', { owner: 'x' })
    expect(cache.delete('a')).toBe(true)
    expect(cache.delete('a')).toBe(false)
    expect(cache.get('a')).toBeUndefined()
    cache.deleteWhere((value) => value.owner === 'x')
    expect(cache.get('c')).toBeUndefined()
    expect(cache.get('b')).toEqual({ owner: 'y' })
    cache.clear()
    expect(cache.size).toBe(0)
    expect(cache.get('b')).toBeUndefined()
  })

  test('the injected clock decides expiry; a time passed with a call wins over it', () => {
    const clock = manualClock(50_000)
    const cache = createTtlCache<string, number>({ ttlMs: 10, maxEntries: 10, now: clock.now })
    cache.set('by-clock', 1)
    cache.set('by-call', 2, 0) // set at time 0: expires at 10
    expect(cache.get('by-clock')).toBe(1)
    expect(cache.get('by-call', 9)).toBe(2)
    expect(cache.get('by-call')).toBeUndefined() // the clock says 50,000
    clock.advance(10)
    expect(cache.get('by-clock')).toBeUndefined()
  })

  test('without a clock it runs on Date.now', async () => {
    const cache = createTtlCache<string, number>({ ttlMs: 20, maxEntries: 10 })
    cache.set('a', 1)
    expect(cache.get('a')).toBe(1)
    await Bun.sleep(30)
    expect(cache.get('a')).toBeUndefined()
  })

  test('maxEntries below 1 is refused', () => {
    expect(() => createTtlCache({ ttlMs: 1, maxEntries: 0 })).toThrow(RangeError)
  })
})
