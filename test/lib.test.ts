// Unit tests of the library: address rules, ids, group commit.

import { describe, expect, test } from 'bun:test'
import { localPartProblem, normalizeRecipient, parseDomainList, randomLocalPart } from '#lib/address.ts'
import { createGroupCommitter } from '#lib/group-commit.ts'
import { digestsEqual, isUuid, randomToken, uuidv7 } from '#lib/ids.ts'

describe('address rules', () => {
  test('local parts', () => {
    for (const ok of ['a', 'james47', 'sign.up-test', 'x_y', '0day'])
      expect(localPartProblem(ok), ok).toBeNull()
    expect(localPartProblem('')).toBe('must not be empty')
    expect(localPartProblem('x'.repeat(65))).toBe('must be at most 64 characters')
    expect(localPartProblem('.lead')).toContain('must start and end')
    expect(localPartProblem('trail-')).toContain('must start and end')
    expect(localPartProblem('Upper')).toContain('may contain only')
    expect(localPartProblem('a+b')).toContain('may contain only')
    expect(localPartProblem('a..b')).toBe('must not contain two dots in a row')
    for (const reserved of ['postmaster', 'abuse', 'admin', 'webmaster', 'hostmaster'])
      expect(localPartProblem(reserved)).toBe('is reserved for the domain operator')
  })

  test('recipients are folded to lower case and lose their +tag', () => {
    expect(normalizeRecipient('James47+Signup@Ephemail.TEST')).toEqual({
      localPart: 'james47',
      domain: 'ephemail.test',
    })
    expect(normalizeRecipient(' x@a.test ')).toEqual({ localPart: 'x', domain: 'a.test' })
    for (const bad of [
      '',
      'no-at',
      '@a.test',
      'x@',
      'x@localhost',
      'x@-bad.test',
      'a b@a.test',
      '"q"@a.test',
    ])
      expect(normalizeRecipient(bad), bad).toBeNull()
  })

  test('EPHEMAIL_DOMAINS parsing names the bad entry', () => {
    expect(parseDomainList('a.test, B.test:premium ,c.test:custom')).toEqual([
      { name: 'a.test', type: 'public' },
      { name: 'b.test', type: 'premium' },
      { name: 'c.test', type: 'custom' },
    ])
    expect(() => parseDomainList('a.test,not a domain')).toThrow('"not a domain" is not a domain name')
    expect(() => parseDomainList('a.test:gold')).toThrow(
      'has type "gold"; use one of public, custom, premium',
    )
    expect(() => parseDomainList('a.test,A.test')).toThrow('"a.test" is listed twice')
    expect(() => parseDomainList(' , ')).toThrow('lists no domain')
  })

  test('random local parts are readable, valid, and widen on retries', () => {
    for (let i = 0; i < 200; i++) {
      const first = randomLocalPart(0)
      expect(first).toMatch(/^[a-z]+\d{2}$/)
      expect(localPartProblem(first)).toBeNull()
    }
    expect(randomLocalPart(3)).toMatch(/^[a-z]+\d{5}$/)
    const distinct = new Set(Array.from({ length: 500 }, () => randomLocalPart(0)))
    expect(distinct.size).toBeGreaterThan(400) // ~10,000 combinations
  })
})

describe('ids', () => {
  test('uuidv7 is a valid UUID that sorts by time', () => {
    const early = uuidv7(1_700_000_000_000)
    const late = uuidv7(1_700_000_000_001)
    expect(isUuid(early)).toBe(true)
    expect(early[14]).toBe('7')
    expect(early < late).toBe(true)
    expect(early.slice(0, 13)).toBe('018bcfe5-6800')
  })

  test('tokens carry 256 random bits; digests compare exactly', () => {
    const a = randomToken('mbt_')
    expect(a).toMatch(/^mbt_[A-Za-z0-9_-]{43}$/)
    expect(randomToken('mbt_')).not.toBe(a)
    expect(digestsEqual('abcd', 'abcd')).toBe(true)
    expect(digestsEqual('abcd', 'abce')).toBe(false)
    expect(digestsEqual('abcd', 'abc')).toBe(false)
  })
})

describe('group commit', () => {
  test('items that arrive during a commit share the next one; results go back to each caller', async () => {
    const batches: number[][] = []
    let release: () => void = () => {}
    const committer = createGroupCommitter<number, string>(async (items) => {
      batches.push(items)
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve))
      return items.map((item) => `stored ${item}`)
    }, 3)
    const first = committer.submit(1)
    const rest = [2, 3, 4, 5, 6].map((item) => committer.submit(item))
    release()
    expect(await first).toBe('stored 1')
    expect(await Promise.all(rest)).toEqual(['stored 2', 'stored 3', 'stored 4', 'stored 5', 'stored 6'])
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]])
  })

  test('a writer that blocks this thread still gets batches when each batch waits one I/O turn', async () => {
    // Like PGlite: the commit runs synchronously on this thread, so nothing else happens during it.
    // Submissions arrive from I/O callbacks (setImmediate here), a few per turn of the event loop.
    const run = async (beforeBatch?: () => Promise<void>) => {
      const batches: number[][] = []
      const committer = createGroupCommitter<number, number>(
        async (items) => {
          batches.push(items)
          const until = performance.now() + 2
          while (performance.now() < until) {} // busy: the thread is taken
          return items
        },
        100,
        beforeBatch,
      )
      const done: Promise<number>[] = []
      await new Promise<void>((resolve) => {
        let next = 0
        const arrive = () => {
          for (let i = 0; i < 4; i++) done.push(committer.submit(next++))
          if (next < 40) setImmediate(arrive)
          else resolve()
        }
        setImmediate(arrive)
      })
      await Promise.all(done)
      return batches
    }
    const withoutTurn = await run()
    const withTurn = await run(() => new Promise<void>((resolve) => setImmediate(resolve)))
    expect(withoutTurn.flat()).toEqual(withTurn.flat())
    // Without the turn, the first item of each arrival goes alone; with it, each arrival's items go together.
    expect(withoutTurn.filter((batch) => batch.length === 1).length).toBeGreaterThanOrEqual(10)
    expect(withTurn.every((batch) => batch.length >= 4)).toBe(true)
  })

  test('a failed commit rejects exactly the callers of that batch', async () => {
    let calls = 0
    const committer = createGroupCommitter<number, number>(async (items) => {
      calls++
      if (calls === 1) throw new Error('disk full')
      return items
    }, 10)
    const failing = committer.submit(1)
    await expect(failing).rejects.toThrow('disk full')
    expect(await committer.submit(2)).toBe(2)
  })
})
