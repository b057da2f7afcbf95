// BullMQ queue: the JobQueue contract on Redis, so jobs survive a crash and can be shared by several workers.

import { type Job, Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import type { JobQueue, ProcessMessageJob, WorkerOptions } from '../../../src/contracts/queue.ts'

export interface BullmqQueueOptions {
  url: string
  queueName?: string
  attempts?: number
  /** First retry delay; doubles per attempt (BullMQ's exponential backoff). */
  backoffMs?: number
  /** How long a worker's lock on a job lasts without renewal; after a crash the job waits this long. */
  lockDurationMs?: number
  /** How often workers look for jobs whose lock expired (their worker died) and put them back. */
  stalledIntervalMs?: number
}

const JOB_NAME = 'process-message'

export function createBullmqQueue({
  url,
  queueName = 'ephemail-process-message',
  attempts = 5,
  backoffMs = 200,
  lockDurationMs,
  stalledIntervalMs,
}: BullmqQueueOptions) {
  // The producer keeps ioredis' bounded retries: an enqueue during a Redis outage should fail (the
  // recovery scan re-enqueues later) rather than hold the SMTP session open indefinitely.
  const queueConnection = new Redis(url)
  const queue = new Queue<ProcessMessageJob>(queueName, {
    connection: queueConnection,
    defaultJobOptions: {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      // Bounded so Redis does not grow with traffic. The outcome is recorded on the message in storage;
      // these are only for inspection. A kept job still blocks an enqueue of the same id.
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
    },
  })
  // Without a listener an 'error' event (e.g. Redis gone) would be thrown and end the process.
  queue.on('error', (error) => console.error('bullmq queue error', error))

  let worker: Worker<ProcessMessageJob> | null = null
  let workerConnection: Redis | null = null
  // 'failed' listeners are not awaited by BullMQ; close() waits for these so a failure is not lost.
  const recording = new Set<Promise<void>>()

  return {
    name: 'bullmq',
    async enqueue(jobs) {
      if (jobs.length === 0) return
      // jobId = messageId: BullMQ ignores an add whose id already exists, which makes enqueue idempotent.
      await queue.addBulk(
        jobs.map((job) => ({
          name: JOB_NAME,
          data: { messageId: job.messageId },
          opts: { jobId: job.messageId },
        })),
      )
    },
    work(handler, options: WorkerOptions) {
      if (worker) throw new Error('bullmq queue: work() was already called')
      // A worker blocks on Redis for new jobs; BullMQ requires maxRetriesPerRequest: null so a
      // reconnect does not fail those commands. Its own connection keeps producer traffic separate.
      workerConnection = new Redis(url, { maxRetriesPerRequest: null })
      worker = new Worker<ProcessMessageJob>(
        queueName,
        async (job: Job<ProcessMessageJob>) => handler({ messageId: job.data.messageId }),
        {
          connection: workerConnection,
          concurrency: options.concurrency,
          ...(lockDurationMs === undefined ? {} : { lockDuration: lockDurationMs }),
          ...(stalledIntervalMs === undefined ? {} : { stalledInterval: stalledIntervalMs }),
        },
      )
      worker.on('failed', (job, error) => {
        // 'failed' fires after every failed attempt; only the last one is final. The job's own
        // attempts are what BullMQ counted against, in case the producer was configured differently.
        if (!job || job.attemptsMade < (job.opts.attempts ?? attempts)) return
        const recorded = options
          .onFinalFailure({ messageId: job.data.messageId }, error)
          .catch((failure) => console.error('recording a failed job failed', failure))
          .finally(() => recording.delete(recorded))
        recording.add(recorded)
      })
      worker.on('error', (error) => console.error('bullmq worker error', error))
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
  } satisfies JobQueue
}
