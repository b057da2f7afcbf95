// BullMQ queue: the JobQueue contract on Redis, so jobs survive a crash and can be shared by several workers.

import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import {
  backoffDelay,
  type JobQueue,
  PermanentJobError,
  type ProcessMessagesJob,
  processMessagesKey,
  type QueueFactory,
  type WorkerOptions,
} from '#contracts/queue.ts'
import { loggableError } from '#lib/loggable-error.ts'

export interface BullmqQueueOptions<T> {
  url: string
  queueName?: string
  attempts?: number
  /** First retry delay; doubles per attempt up to `backoffCapMs`. */
  backoffMs?: number
  backoffCapMs?: number
  /** The job's id: an enqueue of an id that is already queued is ignored. */
  keyOf?: (job: T) => string
  /** How long a worker's lock on a job lasts without renewal; after a crash the job waits this long. */
  lockDurationMs?: number
  /** How often workers look for jobs whose lock expired (their worker died) and put them back. */
  stalledIntervalMs?: number
}

/**
 * Takes a slot of a group (a sorted set of leases scored by expiry) if fewer than `limit` live leases
 * exist. Expired leases (their worker crashed) are dropped first, so a slot is never lost for good.
 */
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`

/** How long a job whose group is full waits before it asks again (plus jitter). */
const GROUP_FULL_DELAY_MS = 25

export function createBullmqQueue<T extends object = ProcessMessagesJob>({
  url,
  queueName = 'ephemail-process-message',
  attempts = 5,
  backoffMs = 200,
  backoffCapMs = 60_000,
  keyOf = processMessagesKey as unknown as (job: T) => string,
  lockDurationMs,
  stalledIntervalMs,
}: BullmqQueueOptions<T>) {
  // The producer keeps ioredis' bounded retries: an enqueue during a Redis outage should fail (the
  // recovery scan re-enqueues later) rather than hold the SMTP session open indefinitely.
  const queueConnection = new Redis(url)
  // Untyped: BullMQ cannot resolve its name type for a generic T; data is T by construction.
  const queue = new Queue(queueName, {
    connection: queueConnection,
    defaultJobOptions: {
      attempts,
      backoff: { type: 'capped' },
      // Bounded so Redis does not grow with traffic. The outcome is recorded in storage;
      // these are only for inspection. A kept job still blocks an enqueue of the same id.
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
    },
  })
  // Without a listener an 'error' event (e.g. Redis gone) would be thrown and end the process.
  queue.on('error', (error) => console.error(`bullmq queue error: ${loggableError(error)}`))

  let worker: Worker<T> | null = null
  let workerConnection: Redis | null = null
  // 'failed' listeners are not awaited by BullMQ; close() waits for these so a failure is not lost.
  const recording = new Set<Promise<void>>()

  return {
    name: 'bullmq',
    async enqueue(jobs) {
      if (jobs.length === 0) return
      // jobId = the job's key: BullMQ ignores an add whose id already exists, which makes enqueue idempotent.
      // A single job skips addBulk's MULTI/EXEC wrapper, half the client CPU of an enqueue.
      const [only] = jobs
      if (jobs.length === 1 && only) await queue.add(queueName, only, { jobId: keyOf(only) })
      else
        await queue.addBulk(jobs.map((job) => ({ name: queueName, data: job, opts: { jobId: keyOf(job) } })))
    },
    work(handler, options: WorkerOptions<T>) {
      if (worker) throw new Error('bullmq queue: work() was already called')
      // A worker blocks on Redis for new jobs; BullMQ requires maxRetriesPerRequest: null so a
      // reconnect does not fail those commands. Its own connection keeps producer traffic separate.
      const connection = new Redis(url, { maxRetriesPerRequest: null })
      workerConnection = connection
      const { group } = options
      const run = async (job: Job<T>, token?: string) => {
        if (!group) return handler(job.data)
        const slots = `${queueName}:group:${group.of(job.data)}`
        const lease = `${job.id}:${token}`
        const now = Date.now()
        const taken = await connection.eval(
          ACQUIRE_SLOT,
          1,
          slots,
          now,
          now + group.leaseMs,
          group.limit,
          lease,
          group.leaseMs,
        )
        if (taken !== 1) {
          // Full: wait a moment without using up an attempt (BullMQ's documented pattern).
          await job.moveToDelayed(
            Date.now() + GROUP_FULL_DELAY_MS + Math.floor(Math.random() * GROUP_FULL_DELAY_MS),
            token,
          )
          throw new DelayedError()
        }
        try {
          return await handler(job.data)
        } finally {
          await connection.zrem(slots, lease)
        }
      }
      worker = new Worker<T>(
        queueName,
        async (job: Job<T>, token?: string) => {
          try {
            await run(job, token)
          } catch (error) {
            if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message)
            throw error
          }
        },
        {
          connection,
          concurrency: options.concurrency,
          settings: {
            backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, backoffMs, backoffCapMs),
          },
          ...(lockDurationMs === undefined ? {} : { lockDuration: lockDurationMs }),
          ...(stalledIntervalMs === undefined ? {} : { stalledInterval: stalledIntervalMs }),
        },
      )
      worker.on('failed', (job, error) => {
        // 'failed' fires after every failed attempt; only the last one (or a permanent failure) is
        // final. The job's own attempts count, in case the producer was configured differently.
        if (!job) return
        const permanent = error instanceof UnrecoverableError || error.name === 'UnrecoverableError'
        if (!permanent && job.attemptsMade < (job.opts.attempts ?? attempts)) return
        const recorded = options
          .onFinalFailure(job.data, error)
          .catch(async (failure) => {
            console.error(`recording a failed job failed: ${loggableError(failure)}`)
            // A kept job makes an enqueue of its id a no-op: left in Redis, this unrecorded failure would
            // stop the recovery scan from ever running it again (the storage still says it is to do).
            await job
              .remove()
              .catch((removal) =>
                console.error(`removing an unrecorded failed job failed: ${loggableError(removal)}`),
              )
          })
          .finally(() => recording.delete(recorded))
        recording.add(recorded)
      })
      worker.on('error', (error) => console.error(`bullmq worker error: ${loggableError(error)}`))
    },
    async close() {
      // Worker first: it finishes its active jobs, which still need the queue's Redis keys.
      if (worker) await worker.close()
      await Promise.all(recording)
      await queue.close()
      // The connections were passed in, so BullMQ leaves them open; they are ours to end.
      workerConnection?.disconnect()
      queueConnection.disconnect()
    },
  } satisfies JobQueue<T>
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'bullmq'
export const create: QueueFactory<{ url: string; prefix: string }> = (options, spec) =>
  createBullmqQueue({
    url: options.url,
    queueName: `${options.prefix}-${spec.name}`,
    attempts: spec.attempts,
    backoffMs: spec.backoffMs,
    backoffCapMs: spec.backoffCapMs,
    keyOf: spec.keyOf,
  })
