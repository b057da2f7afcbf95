// In-process queue: the embedded default. Same contract as BullMQ; jobs live in memory, so the
// worker's start-up recovery scans (unprocessed messages, unfinished deliveries) cover a crash.

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

export interface InlineQueueOptions<T> {
  attempts?: number
  /** First retry delay; doubles per attempt up to `backoffCapMs`. */
  backoffMs?: number
  backoffCapMs?: number
  /** The job's id: an enqueue of an id that is already queued is ignored. */
  keyOf?: (job: T) => string
}

interface Entry<T> {
  job: T
  attempt: number
}

export function createInlineQueue<T extends object = ProcessMessagesJob>({
  attempts = 5,
  backoffMs = 200,
  backoffCapMs = 60_000,
  keyOf = processMessagesKey as unknown as (job: T) => string,
}: InlineQueueOptions<T> = {}) {
  const waiting: Entry<T>[] = []
  const queued = new Set<string>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const runningPerGroup = new Map<string, number>()
  let handler: ((job: T) => Promise<void>) | null = null
  let options: WorkerOptions<T> | null = null
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

  /** The first waiting job whose group has room; jobs of a full group keep their place. */
  function takeNext(): Entry<T> | undefined {
    const group = options?.group
    if (!group) return waiting.shift()
    const index = waiting.findIndex((entry) => (runningPerGroup.get(group.of(entry.job)) ?? 0) < group.limit)
    return index === -1 ? undefined : waiting.splice(index, 1)[0]
  }

  function pump(): void {
    while (!closed && handler && options && active < options.concurrency) {
      const entry = takeNext()
      if (!entry) return
      const group = options.group?.of(entry.job)
      if (group !== undefined) runningPerGroup.set(group, (runningPerGroup.get(group) ?? 0) + 1)
      active++
      run(entry).finally(() => {
        active--
        if (group !== undefined) {
          const left = (runningPerGroup.get(group) ?? 1) - 1
          if (left === 0) runningPerGroup.delete(group)
          else runningPerGroup.set(group, left)
        }
        pump()
        notify()
      })
    }
  }

  async function run(entry: Entry<T>): Promise<void> {
    try {
      await (handler as (job: T) => Promise<void>)(entry.job)
      queued.delete(keyOf(entry.job))
    } catch (error) {
      if (entry.attempt + 1 >= attempts || error instanceof PermanentJobError) {
        queued.delete(keyOf(entry.job))
        await (options as WorkerOptions<T>).onFinalFailure(entry.job, error as Error).catch((failure) => {
          console.error(`recording a failed job failed: ${loggableError(failure)}`)
        })
        return
      }
      const timer = setTimeout(
        () => {
          timers.delete(timer)
          waiting.push({ job: entry.job, attempt: entry.attempt + 1 })
          pump()
        },
        backoffDelay(entry.attempt + 1, backoffMs, backoffCapMs),
      )
      timers.add(timer)
    }
  }

  return {
    name: 'inline',
    async enqueue(jobs) {
      for (const job of jobs) {
        const key = keyOf(job)
        if (queued.has(key)) continue
        queued.add(key)
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
  } satisfies JobQueue<T> & { drained(): Promise<void> }
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'inline'
export const create: QueueFactory<Record<string, never>> = (_options, spec) => createInlineQueue(spec)
