// Queue contract suite: what every JobQueue promises, run by each queue plugin's own test file beside it.

import { afterEach, describe, expect } from 'bun:test'
import type { JobQueue, ProcessMessagesJob } from '#contracts/queue.ts'
import { waitFor } from '../support/wait-for.ts'
import { type ContractOptions, contractTest } from './known-gaps.ts'

const ATTEMPTS = 3
const BACKOFF_MS = 50
const TEST_TIMEOUT_MS = 10_000

export interface QueueSettings {
  attempts: number
  backoffMs: number
}
/** Opens a fresh, empty queue of the plugin under test; `dispose` closes it and removes what it left. */
export type OpenQueue = (
  settings: QueueSettings,
) => Promise<{ queue: JobQueue; dispose: () => Promise<void> }>

/** Jobs of one message each; a job of one message is keyed by that message's id. */
export function jobs(count: number, tag: string): ProcessMessagesJob[] {
  return Array.from({ length: count }, (_, index) => ({
    messageIds: [`${tag}-${index}-${crypto.randomUUID()}`],
  }))
}

export const idOf = (job: ProcessMessagesJob) => job.messageIds[0] as string

/** onFinalFailure that records, so a test can assert there was none (or exactly one). */
export function failureLog() {
  const failures: { job: ProcessMessagesJob; error: Error }[] = []
  return {
    failures,
    async onFinalFailure(job: ProcessMessagesJob, error: Error) {
      failures.push({ job, error })
    },
  }
}

export function runQueueContract(name: string, open: OpenQueue, options: ContractOptions = {}) {
  describe(`queue contract: ${name}`, () => {
    const { test, checkSkips } = contractTest(`queue contract: ${name}`, options)
    const disposers: (() => Promise<void>)[] = []
    afterEach(async () => {
      for (const dispose of disposers.splice(0)) await dispose()
    })
    async function openQueue(): Promise<JobQueue> {
      const opened = await open({ attempts: ATTEMPTS, backoffMs: BACKOFF_MS })
      disposers.push(opened.dispose)
      return opened.queue
    }

    test(
      'handles every job, enqueued before and after work() starts',
      async () => {
        const queue = await openQueue()
        const handled: string[] = []
        const { failures, onFinalFailure } = failureLog()
        const early = jobs(4, 'early')
        const late = jobs(4, 'late')
        await queue.enqueue(early)
        queue.work(
          async (job) => {
            handled.push(idOf(job))
          },
          { concurrency: 2, onFinalFailure },
        )
        await queue.enqueue(late)
        await waitFor(() => handled.length >= 8, 'all jobs to be handled')
        expect(handled.toSorted()).toEqual([...early, ...late].map((job) => idOf(job)).toSorted())
        expect(failures).toEqual([])
      },
      TEST_TIMEOUT_MS,
    )

    test(
      'a duplicate enqueue of a waiting job runs it once',
      async () => {
        const queue = await openQueue()
        const [job, last] = jobs(2, 'dup') as [ProcessMessagesJob, ProcessMessagesJob]
        const handled: string[] = []
        await queue.enqueue([job])
        await queue.enqueue([job]) // again while it waits
        await queue.enqueue([{ ...job }, { ...job }]) // twice in one batch
        await queue.enqueue([last])
        queue.work(
          async (next) => {
            handled.push(idOf(next))
          },
          { concurrency: 1, ...failureLog() },
        )
        // One at a time in order: once the last job ran, any copy queued before it would have run too.
        await waitFor(() => handled.includes(idOf(last)), 'the last job')
        expect(handled).toEqual([idOf(job), idOf(last)])
      },
      TEST_TIMEOUT_MS,
    )

    test(
      'a handler that throws twice is retried with backoff and succeeds on the third attempt',
      async () => {
        const queue = await openQueue()
        const [job] = jobs(1, 'flaky') as [ProcessMessagesJob]
        const startedAt: number[] = []
        let succeeded = false
        const { failures, onFinalFailure } = failureLog()
        queue.work(
          async () => {
            startedAt.push(performance.now())
            if (startedAt.length <= 2) throw new Error(`transient failure ${startedAt.length}`)
            succeeded = true
          },
          { concurrency: 1, onFinalFailure },
        )
        await queue.enqueue([job])
        await waitFor(() => succeeded, 'the third attempt to succeed')
        expect(startedAt).toHaveLength(3)
        // Exponential backoff: the retries wait at least backoffMs, then twice that (a little timer slack).
        const [first, second, third] = startedAt as [number, number, number]
        // Exponential with ±20 % jitter (backoffDelay), less a little timer slack.
        expect(second - first).toBeGreaterThanOrEqual(BACKOFF_MS * 0.75)
        expect(third - second).toBeGreaterThanOrEqual(2 * BACKOFF_MS * 0.75)
        expect(failures).toEqual([])
      },
      TEST_TIMEOUT_MS,
    )

    test(
      'a poison job ends in onFinalFailure exactly once, with its error, after `attempts` tries',
      async () => {
        const queue = await openQueue()
        const [job] = jobs(1, 'poison') as [ProcessMessagesJob]
        let tries = 0
        const { failures, onFinalFailure } = failureLog()
        queue.work(
          async () => {
            tries++
            throw new Error(`poison ${tries}`)
          },
          { concurrency: 1, onFinalFailure },
        )
        await queue.enqueue([job])
        await waitFor(() => failures.length > 0, 'the final failure')
        // Longer than another backoff would be: nothing may run or be reported after the last attempt.
        await Bun.sleep(BACKOFF_MS * 2 ** ATTEMPTS)
        expect(tries).toBe(ATTEMPTS)
        expect(failures).toHaveLength(1)
        expect(failures[0]?.job).toEqual(job)
        expect(failures[0]?.error).toBeInstanceOf(Error)
        expect(failures[0]?.error.message).toBe(`poison ${ATTEMPTS}`)
      },
      TEST_TIMEOUT_MS,
    )

    test(
      'never runs more handlers at once than the concurrency',
      async () => {
        const queue = await openQueue()
        const concurrency = 3
        let active = 0
        let maxActive = 0
        let done = 0
        await queue.enqueue(jobs(12, 'parallel'))
        queue.work(
          async () => {
            active++
            maxActive = Math.max(maxActive, active)
            await Bun.sleep(40)
            active--
            done++
          },
          { concurrency, ...failureLog() },
        )
        await waitFor(() => done === 12, 'all jobs to finish')
        expect(maxActive).toBeLessThanOrEqual(concurrency)
        expect(maxActive).toBeGreaterThan(1) // the limit is a limit, not serial execution
      },
      TEST_TIMEOUT_MS,
    )

    test(
      'a group limit holds one group to its limit while other groups use the rest, and a waiting job loses no attempt',
      async () => {
        const queue = await openQueue()
        const log = failureLog()
        const active = new Map<string, number>()
        const most = new Map<string, number>()
        let done = 0
        const grouped = [...jobs(8, 'slow-endpoint'), ...jobs(4, 'fast-endpoint')]
        const groupOf = (job: ProcessMessagesJob) => idOf(job).split('-')[0] as string
        queue.work(
          async (job) => {
            const group = groupOf(job)
            active.set(group, (active.get(group) ?? 0) + 1)
            most.set(group, Math.max(most.get(group) ?? 0, active.get(group) ?? 0))
            await Bun.sleep(group === 'slow' ? 60 : 10)
            active.set(group, (active.get(group) ?? 1) - 1)
            done++
          },
          { concurrency: 6, ...log, group: { of: groupOf, limit: 2, leaseMs: 5000 } },
        )
        await queue.enqueue(grouped)
        await waitFor(() => done === 12, 'all grouped jobs to finish')
        expect(most.get('slow')).toBe(2)
        expect(most.get('fast')).toBe(2)
        // Jobs that waited for their group (far more than `attempts` times) still ran, none failed.
        expect(log.failures).toEqual([])
      },
      TEST_TIMEOUT_MS,
    )

    checkSkips()
  })
}
