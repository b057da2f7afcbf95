// In-process queue: the embedded default. Same contract as BullMQ; jobs live in memory, so the
// worker's start-up recovery scan (unprocessed messages in storage) covers a crash.

import type { JobQueue, ProcessMessageJob, WorkerOptions } from '../../../src/contracts/queue.ts'

export interface InlineQueueOptions {
  attempts?: number
  /** First retry delay; doubles per attempt. */
  backoffMs?: number
}

export function createInlineQueue({ attempts = 5, backoffMs = 200 }: InlineQueueOptions = {}) {
  const waiting: { job: ProcessMessageJob; attempt: number }[] = []
  const queued = new Set<string>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let handler: ((job: ProcessMessageJob) => Promise<void>) | null = null
  let options: WorkerOptions | null = null
  let active = 0
  let closed = false
  // Callers waiting for a condition (close: nothing running; drained: nothing left at all).
  const waiters: { ready: () => boolean; resolve: () => void }[] = []
  const until = (ready: () => boolean) =>
    ready() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ ready, resolve }))
  const notify = () => {
    for (const waiter of [...waiters]) {
      if (!waiter.ready()) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }

  function pump(): void {
    while (!closed && handler && options && active < options.concurrency && waiting.length > 0) {
      const entry = waiting.shift() as { job: ProcessMessageJob; attempt: number }
      active++
      run(entry).finally(() => {
        active--
        pump()
        notify()
      })
    }
  }

  async function run(entry: { job: ProcessMessageJob; attempt: number }): Promise<void> {
    try {
      await (handler as (job: ProcessMessageJob) => Promise<void>)(entry.job)
      queued.delete(entry.job.messageId)
    } catch (error) {
      if (entry.attempt + 1 >= attempts) {
        queued.delete(entry.job.messageId)
        await (options as WorkerOptions).onFinalFailure(entry.job, error as Error).catch((failure) => {
          console.error('recording a failed job failed', failure)
        })
        return
      }
      const timer = setTimeout(
        () => {
          timers.delete(timer)
          waiting.push({ job: entry.job, attempt: entry.attempt + 1 })
          pump()
        },
        backoffMs * 2 ** entry.attempt,
      )
      timers.add(timer)
    }
  }

  return {
    name: 'inline',
    async enqueue(jobs) {
      for (const job of jobs) {
        if (queued.has(job.messageId)) continue
        queued.add(job.messageId)
        waiting.push({ job, attempt: 0 })
      }
      queueMicrotask(pump)
    },
    work(nextHandler, nextOptions) {
      handler = nextHandler
      options = nextOptions
      pump()
    },
    async close() {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await until(() => active === 0)
    },
    /** Resolves when nothing is running or waiting (tests and benchmarks). */
    drained(): Promise<void> {
      return until(() => active === 0 && waiting.length === 0 && timers.size === 0)
    },
  } satisfies JobQueue & { drained(): Promise<void> }
}
