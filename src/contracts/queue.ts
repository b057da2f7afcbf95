// Queue contract: durable background jobs (BullMQ on Redis, or in-process), at least once, with retries.

export interface ProcessMessageJob {
  messageId: string
}

export interface WorkerOptions {
  concurrency: number
  /** Called once a job has used up its attempts, so the failure can be recorded. */
  onFinalFailure(job: ProcessMessageJob, error: Error): Promise<void>
}

export interface JobQueue {
  readonly name: string
  /** Resolves once the jobs are queued (on Redis: written there). Duplicates of a queued id are ignored. */
  enqueue(jobs: ProcessMessageJob[]): Promise<void>
  /**
   * Starts consuming. Handlers must be idempotent: a job may run again after a crash.
   * A handler that throws is retried with exponential backoff up to the queue's attempts.
   */
  work(handler: (job: ProcessMessageJob) => Promise<void>, options: WorkerOptions): void
  close(): Promise<void>
}
