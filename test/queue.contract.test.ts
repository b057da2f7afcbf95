// One contract suite, run against every JobQueue: the in-process queue and BullMQ on the real Redis.

import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { backoffDelay, type JobQueue, type ProcessMessagesJob } from '#contracts/queue.ts'
import { createBullmqQueue } from '#plugins/queue/bullmq/index.ts'
import { createInlineQueue } from '#plugins/queue/inline/index.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'

const REDIS_URL = TEST_REDIS_URL
const ATTEMPTS = 3
const BACKOFF_MS = 50
const TEST_TIMEOUT_MS = 10_000
/** Unique per run, so parallel runs and leftovers of an aborted run never share a queue. */
const RUN_PREFIX = `ephemail-test-${Date.now()}-${Math.floor(Math.random() * 1e6)}`

interface QueueSettings {
  attempts: number
  backoffMs: number
}
type OpenQueue = (settings: QueueSettings) => Promise<{ queue: JobQueue; dispose: () => Promise<void> }>

async function waitFor(condition: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** Jobs of one message each; a job of one message is keyed by that message's id. */
function jobs(count: number, tag: string): ProcessMessagesJob[] {
  return Array.from({ length: count }, (_, index) => ({
    messageIds: [`${tag}-${index}-${crypto.randomUUID()}`],
  }))
}

const idOf = (job: ProcessMessagesJob) => job.messageIds[0] as string

/** onFinalFailure that records, so a test can assert there was none (or exactly one). */
function failureLog() {
  const failures: { job: ProcessMessagesJob; error: Error }[] = []
  return {
    failures,
    async onFinalFailure(job: ProcessMessagesJob, error: Error) {
      failures.push({ job, error })
    },
  }
}

function queueContract(name: string, open: OpenQueue) {
  describe(`queue contract: ${name}`, () => {
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
  })
}

queueContract('inline', async ({ attempts, backoffMs }) => {
  const queue = createInlineQueue({ attempts, backoffMs })
  return { queue, dispose: () => queue.close() }
})

if (await redisAvailable()) {
  let queueCount = 0
  const nextQueueName = () => `${RUN_PREFIX}-${++queueCount}`
  const used: string[] = []

  /** Removes every key of the queue from Redis, whatever state its jobs are in. */
  async function obliterate(queueName: string): Promise<void> {
    const connection = new Redis(REDIS_URL)
    const admin = new Queue(queueName, { connection })
    try {
      await admin.obliterate({ force: true })
    } finally {
      await admin.close()
      connection.disconnect()
    }
  }

  afterAll(async () => {
    for (const queueName of used) await obliterate(queueName)
  })

  queueContract('bullmq (real Redis)', async ({ attempts, backoffMs }) => {
    const queueName = nextQueueName()
    used.push(queueName)
    const queue = createBullmqQueue({ url: REDIS_URL, queueName, attempts, backoffMs })
    return { queue, dispose: () => queue.close() }
  })

  describe('bullmq: crash recovery', () => {
    // A child Bun process takes the job and hangs in its handler until it is killed, so its lock is
    // never released properly: only lock expiry plus the stalled check can bring the job back.
    const childSource = `
      import { createBullmqQueue } from ${JSON.stringify(join(import.meta.dir, '../plugins/queue/bullmq/index.ts'))}
      const queue = createBullmqQueue(JSON.parse(process.env.QUEUE_SETTINGS))
      queue.work(
        async (job) => {
          console.log('started ' + job.messageIds[0])
          await new Promise(() => {})
        },
        { concurrency: 1, onFinalFailure: async () => {} },
      )
    `

    async function waitForLine(stream: ReadableStream<Uint8Array>, line: string, timeoutMs: number) {
      const reader = stream.getReader()
      const decoder = new TextDecoder()
      let output = ''
      const timer = setTimeout(() => reader.cancel(), timeoutMs)
      try {
        while (!output.split('\n').includes(line)) {
          const { value, done } = await reader.read()
          if (done) throw new Error(`child did not print "${line}"; its output: ${output}`)
          output += decoder.decode(value, { stream: true })
        }
      } finally {
        clearTimeout(timer)
        reader.releaseLock()
      }
    }

    test('a job whose worker is killed mid-job is run again by a new worker after the stall interval', async () => {
      const queueName = nextQueueName()
      used.push(queueName)
      const settings = { url: REDIS_URL, queueName, lockDurationMs: 1_000, stalledIntervalMs: 500 }
      const [job] = jobs(1, 'crash') as [ProcessMessagesJob]
      const queue = createBullmqQueue(settings)
      const child = Bun.spawn([process.execPath, '-e', childSource], {
        env: { ...process.env, QUEUE_SETTINGS: JSON.stringify(settings) },
        stdout: 'pipe',
        stderr: 'inherit',
      })
      try {
        await queue.enqueue([job])
        await waitForLine(child.stdout, `started ${idOf(job)}`, 8_000)
        child.kill('SIGKILL')
        await child.exited

        const handled: string[] = []
        queue.work(
          async (next) => {
            handled.push(idOf(next))
          },
          { concurrency: 1, ...failureLog() },
        )
        await waitFor(() => handled.length > 0, 'the stalled job to run again')
        expect(handled).toEqual([idOf(job)])

        const connection = new Redis(REDIS_URL)
        const admin = new Queue(queueName, { connection })
        try {
          // The completion is written just after the handler returns.
          let state = await admin.getJobState(idOf(job))
          for (let poll = 0; state !== 'completed' && poll < 200; poll++) {
            await Bun.sleep(10)
            state = await admin.getJobState(idOf(job))
          }
          expect(state).toBe('completed')
          const stored = await admin.getJob(idOf(job))
          expect(stored?.attemptsStarted).toBe(2) // the same job, started once per worker
        } finally {
          await admin.close()
          connection.disconnect()
        }
      } finally {
        child.kill('SIGKILL')
        await queue.close()
      }
    }, 20_000)
  })
}

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
