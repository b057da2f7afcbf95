// BullMQ on the real Redis against the shared queue contract, plus what only a cross-process queue does: crash recovery.

import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import type { ProcessMessagesJob } from '#contracts/queue.ts'
import { failureLog, idOf, jobs, runQueueContract } from '../../../test/contracts/queue.ts'
import { redisAvailable, TEST_REDIS_URL } from '../../../test/support/redis.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import { createBullmqQueue } from './index.ts'

const REDIS_URL = TEST_REDIS_URL
/** Unique per run, so parallel runs and leftovers of an aborted run never share a queue. */
const RUN_PREFIX = `ephemail-test-${Date.now()}-${Math.floor(Math.random() * 1e6)}`

// Prints why when Redis is not there (and throws under EPHEMAIL_REQUIRE_SERVICES=1).
const redisIsUp = await redisAvailable()

describe.skipIf(!redisIsUp)('bullmq', () => {
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

  // Registered only when the suite runs: Bun lists a hook of a skipped describe as an unnamed skipped test.
  if (redisIsUp)
    afterAll(async () => {
      for (const queueName of used) await obliterate(queueName)
    })

  runQueueContract('bullmq (real Redis)', async ({ attempts, backoffMs }) => {
    const queueName = nextQueueName()
    used.push(queueName)
    const queue = createBullmqQueue({ url: REDIS_URL, queueName, attempts, backoffMs })
    return { queue, dispose: () => queue.close() }
  })

  describe('crash recovery', () => {
    // A child Bun process takes the job and hangs in its handler until it is killed, so its lock is
    // never released properly: only lock expiry plus the stalled check can bring the job back.
    const childSource = `
      import { createBullmqQueue } from ${JSON.stringify(join(import.meta.dir, 'index.ts'))}
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
})
