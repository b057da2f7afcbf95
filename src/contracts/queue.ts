// Queue contract: durable background jobs (BullMQ on Redis, or in-process), at least once, with retries.

/** One job per group commit: the messages stored together are processed together. */
export interface ProcessMessagesJob {
  messageIds: string[]
}

/**
 * A process-messages job's key: ids are unique and a message is stored by one commit, so first id,
 * last id and count name a job (no colon: BullMQ refuses one in an id); the recovery scan finding the same messages again makes the same key.
 */
export function processMessagesKey({ messageIds }: ProcessMessagesJob): string {
  return messageIds.length === 1
    ? (messageIds[0] as string)
    : `${messageIds[0]}+${messageIds.at(-1)}+${messageIds.length}`
}

export interface DeliverWebhookJob {
  deliveryId: string
  /** The endpoint: deliveries to one webhook share its concurrency limit. */
  webhookId: string
}

export interface WorkerOptions<Job = ProcessMessagesJob> {
  concurrency: number
  /** Called once a job has used up its attempts (or failed permanently), so the failure can be recorded. */
  onFinalFailure(job: Job, error: Error): Promise<void>
  /**
   * At most `limit` jobs of one group run at once, across every worker of the queue (e.g. deliveries
   * to one webhook). A job whose group is full waits without using up an attempt. `leaseMs` bounds how
   * long a crashed worker's slot stays taken.
   */
  group?: { of(job: Job): string; limit: number; leaseMs: number }
}

/** Thrown by a handler when trying again cannot help: the job fails at once, without further attempts. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}

/**
 * Retry delay after the `attempt`-th failure (1-based): doubling from `baseMs` with ±20% jitter (so
 * retries of many jobs that failed together spread out), never more than `capMs`.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const plain = Math.min(baseMs * 2 ** (attempt - 1), capMs)
  return Math.min(Math.round(plain * (0.8 + 0.4 * random())), capMs)
}

export interface JobQueue<Job = ProcessMessagesJob> {
  readonly name: string
  /** Resolves once the jobs are queued (on Redis: written there). Duplicates of a queued id are ignored. */
  enqueue(jobs: Job[]): Promise<void>
  /**
   * Starts consuming. Handlers must be idempotent: a job may run again after a crash.
   * A handler that throws is retried with exponential backoff up to the queue's attempts.
   */
  work(handler: (job: Job) => Promise<void>, options: WorkerOptions<Job>): void
  close(): Promise<void>
}

/** What the core asks of a queue it creates: its name and retry policy (the plugin adds where it lives). */
export interface QueueSpec<Job> {
  /** Short name, unique per deployment: `process-message`, `deliver-webhook`. */
  name: string
  attempts: number
  backoffMs?: number
  backoffCapMs?: number
  /** The job's id: an enqueue of an id that is already queued is ignored. */
  keyOf?: (job: Job) => string
}

/** Every queue plugin exports `create` of this type. */
export type QueueFactory<Options> = <Job extends object>(
  options: Options,
  spec: QueueSpec<Job>,
) => JobQueue<Job>
