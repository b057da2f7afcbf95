// The process-messages job: parse, authenticate the sender, extract code and link, sanitise HTML, save, announce.

import type { Extractor } from '#contracts/extractor.ts'
import type { PubSub } from '#contracts/pubsub.ts'
import type { JobQueue, ProcessMessagesJob } from '#contracts/queue.ts'
import type { ProcessingInput, ProcessingOutcome, Storage } from '#contracts/storage.ts'
import type { MessageProcessedEvent } from '#lib/events.ts'
import type { ParsedMail } from '#lib/mail.ts'
import type { AuthenticationResult, Envelope, ProcessingResult } from '#lib/types.ts'
import { inThreadMailWork, type MailWork } from './mail-offload.ts'

export type SenderAuthenticator = (raw: Uint8Array, envelope: Envelope) => Promise<AuthenticationResult>

/** Messages of a job analysed together (their DNS lookups overlap) before other work gets a turn. */
const ANALYSIS_SLICE = 4

/** Unprocessed messages re-enqueued per recovery pass; they are older than a minute, so their job was lost. */
const RECOVERY_BATCH = 500
/** Messages per recovered job: one job of 500 would hold a worker (and its event loop) for too long. */
const RECOVERY_JOB_SIZE = 16
const RECOVERY_AGE_MS = 60_000

/** The one extraction path: the worker and `ephemail extract` both call this. */
export function extractFromMail(extractor: Extractor, parsed: ParsedMail | null) {
  return extractor.extract({
    subject: parsed?.subject ?? null,
    text: parsed?.text ?? null,
    html: parsed?.html ?? null,
    fromAddress: parsed?.from?.address ?? null,
  })
}

/**
 * The messages of a job. Jobs queued on Redis before jobs were batched carry one `messageId`; a worker
 * of this version still runs them, so an upgrade with a full queue loses no time to failed jobs.
 */
function idsOf(job: ProcessMessagesJob | { messageId: string }): string[] {
  return 'messageIds' in job ? job.messageIds : [job.messageId]
}

/** One message's analysis within a job: what it found, or why it failed. */
type Analysis =
  | { input: ProcessingInput; parsed: ParsedMail | null; result: ProcessingResult }
  | { input: ProcessingInput; error: unknown }

export interface MessageProcessorDeps {
  storage: Storage
  pubsub: PubSub
  extractor: Extractor
  authenticateSender: SenderAuthenticator
  /**
   * Runs after the result is saved and announced (webhook dispatch), inside the job: if it fails the
   * job is retried, and a retry of a processed message runs only this step again.
   */
  afterProcessed?: (event: MessageProcessedEvent) => Promise<unknown>
  /** Where parsing and sanitising run: large messages on a worker thread (mail-offload.ts). */
  mail?: MailWork
  now?: () => Date
}

export function createMessageProcessor({
  storage,
  pubsub,
  extractor,
  authenticateSender,
  afterProcessed,
  mail = inThreadMailWork,
  now = () => new Date(),
}: MessageProcessorDeps) {
  /** A repeated job of a processed message: redo only what follows the save (it is idempotent). */
  async function repeatAfterProcessed(input: ProcessingInput): Promise<void> {
    if (!afterProcessed || input.processedSeq === null) return
    const seq = input.processedSeq
    const [event] = await storage.listMailboxEvents(input.mailboxId, seq - 1, seq)
    if (event?.type === 'message.processed' && event.messageId === input.id) await afterProcessed(event)
  }

  /**
   * Everything but the save: parse (unless done at ingest), authenticate, extract, sanitise. A stage
   * past its limit is skipped or given up, and says so in `notes`; the others still run.
   */
  async function analyse(
    input: ProcessingInput,
  ): Promise<{ parsed: ParsedMail | null; result: ProcessingResult }> {
    const notes: string[] = []
    let parsed: ParsedMail | null = input.parsed
    if (!parsed) parsed = await mail.parse(input.raw).catch(() => null)
    let authentication: AuthenticationResult | null
    try {
      authentication = await authenticateSender(input.raw, input.envelope)
      if (authentication.skipped) notes.push(`sender authentication skipped: ${authentication.skipped}`)
    } catch (error) {
      // Authentication is information, not a gate: a DNS failure must not hold the code back.
      authentication = {
        spf: 'temperror',
        dkim: 'temperror',
        dmarc: 'temperror',
        arc: 'temperror',
        header: (error as Error).message,
      }
    }
    const found = extractFromMail(extractor, parsed)
    let safeHtml: string | null = null
    if (parsed?.html)
      safeHtml = await mail.sanitize(parsed.html).catch((error: Error) => {
        notes.push(`HTML not sanitised (safeHtml is null): ${error.message}`)
        return null
      })
    const result: ProcessingResult = {
      otp: found.otp,
      link: found.link,
      extraction: {
        otpCandidates: found.otpCandidates.slice(0, 5),
        linkCandidates: found.linkCandidates.slice(0, 5),
      },
      authentication,
      safeHtml,
      notes,
    }
    return { parsed, result }
  }

  /**
   * Saves a job's results in one statement; if that fails, one message at a time, so a result that
   * cannot be saved fails only its own message (its error joins `failures`, the job is retried, and
   * the last attempt marks just that message failed) instead of holding back the whole job.
   */
  async function saveEach(outcomes: ProcessingOutcome[], failures: unknown[]) {
    try {
      return await storage.saveProcessingResults(outcomes)
    } catch (batchError) {
      if (outcomes.length <= 1) throw batchError
      const each = await Promise.all(
        outcomes.map((outcome) =>
          storage.saveProcessingResults([outcome]).catch((error: unknown) => {
            failures.push(error)
            return []
          }),
        ),
      )
      return each.flat()
    }
  }

  /**
   * One job: the messages stored by one group commit, loaded in one query and saved in one statement.
   * A message whose analysis throws is left unsaved while the others are saved; the job then fails, and
   * its retry finds only that message still to do (processed ones are skipped, so retries are cheap).
   */
  async function processMessages(job: ProcessMessagesJob): Promise<void> {
    const inputs = await storage.loadForProcessing(idsOf(job)) // deleted ones are simply absent
    const repeats = inputs.filter((input) => input.processed)
    const pending = inputs.filter((input) => !input.processed)
    // A few at a time, letting I/O in between: a job of a hundred messages analysed in one go would hold
    // the event loop for tens of milliseconds, and with it the 250s of SMTP sessions in this process.
    const analysed: Analysis[] = []
    for (let start = 0; start < pending.length; start += ANALYSIS_SLICE) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve))
      const slice = pending.slice(start, start + ANALYSIS_SLICE)
      analysed.push(
        ...(await Promise.all(
          slice.map((input) =>
            analyse(input).then(
              (done) => ({ input, ...done }),
              (error: unknown) => ({ input, error }),
            ),
          ),
        )),
      )
    }
    const failures = analysed.flatMap((entry) => ('error' in entry ? [entry.error] : []))
    const done = analysed.flatMap((entry) => ('error' in entry ? [] : [entry]))
    const processedAt = now()
    const outcomes = done.map(({ input, result }) => ({ id: input.id, result, processedAt }))
    const saved = new Map((await saveEach(outcomes, failures)).map((entry) => [entry.id, entry] as const))
    // Unsaved ones are gone meanwhile, or another run got there first and announced them.
    const events: MessageProcessedEvent[] = done.flatMap(({ input, parsed, result }) => {
      const entry = saved.get(input.id)
      if (!entry) return []
      return [
        {
          type: 'message.processed',
          mailboxId: input.mailboxId,
          seq: entry.seq,
          messageId: input.id,
          receivedAt: entry.receivedAt.toISOString(),
          from: parsed?.from ?? null,
          subject: parsed?.subject ?? null,
          otp: result.otp,
          link: result.link,
          processedAt: processedAt.toISOString(),
        },
      ]
    })
    // In number order, so listeners of a mailbox rarely have to wait for an earlier number.
    events.sort((a, b) => a.seq - b.seq)
    await Promise.all(events.map((event) => pubsub.publish(event)))
    await Promise.all([
      ...events.map((event) => afterProcessed?.(event)),
      ...repeats.map((input) => repeatAfterProcessed(input)),
    ])
    if (failures.length > 0) throw failures[0]
  }

  return {
    processMessages,
    /** Wires the job handler to the queue; the failure of a last attempt is recorded on its messages. */
    start(queue: JobQueue, concurrency: number) {
      queue.work(processMessages, {
        concurrency,
        onFinalFailure: (job, error) =>
          storage.markProcessingFailed(idsOf(job), error.message || String(error)),
      })
    },
    /**
     * Re-enqueues, in jobs the size live traffic makes, up to a batch of messages whose job was lost (a crash after the 250,
     * before the enqueue). Run at start and then periodically. Finding the same messages again gives
     * the same job key, which is ignored while that job is queued; a message that is in some other
     * queued job too is processed once, and the second run skips it.
     */
    async recover(queue: JobQueue): Promise<number> {
      const ids = await storage.findUnprocessed(new Date(now().getTime() - RECOVERY_AGE_MS), RECOVERY_BATCH)
      const jobs: ProcessMessagesJob[] = []
      for (let start = 0; start < ids.length; start += RECOVERY_JOB_SIZE)
        jobs.push({ messageIds: ids.slice(start, start + RECOVERY_JOB_SIZE) })
      if (jobs.length > 0) await queue.enqueue(jobs)
      return ids.length
    },
  }
}
