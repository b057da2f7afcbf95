// The process-message job: parse, authenticate the sender, extract code and link, sanitise HTML, save, announce.

import type { Extractor } from '../contracts/extractor.ts'
import type { PubSub } from '../contracts/pubsub.ts'
import type { JobQueue, ProcessMessageJob } from '../contracts/queue.ts'
import type { Storage } from '../contracts/storage.ts'
import type { MessageProcessedEvent } from '../lib/events.ts'
import { type ParsedMail, parseMail } from '../lib/mail.ts'
import { sanitizeHtml } from '../lib/sanitize.ts'
import type { AuthenticationResult, Envelope } from '../lib/types.ts'

export type SenderAuthenticator = (raw: Uint8Array, envelope: Envelope) => Promise<AuthenticationResult>

/** Unprocessed messages re-enqueued per recovery pass; they are older than a minute, so their job was lost. */
const RECOVERY_BATCH = 500
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
  now?: () => Date
}

export function createMessageProcessor({
  storage,
  pubsub,
  extractor,
  authenticateSender,
  afterProcessed,
  now = () => new Date(),
}: MessageProcessorDeps) {
  /** A repeated job of a processed message: redo only what follows the save (it is idempotent). */
  async function repeatAfterProcessed(
    mailboxId: string,
    messageId: string,
    seq: number | null,
  ): Promise<void> {
    if (!afterProcessed || seq === null) return
    const [event] = await storage.listMailboxEvents(mailboxId, seq - 1, seq)
    if (event?.type === 'message.processed' && event.messageId === messageId) await afterProcessed(event)
  }

  async function processMessage({ messageId }: ProcessMessageJob): Promise<void> {
    const input = await storage.loadForProcessing(messageId)
    if (!input) return // deleted meanwhile
    if (input.processed) return repeatAfterProcessed(input.mailboxId, messageId, input.processedSeq)
    let parsed: ParsedMail | null = input.parsed
    if (!parsed) parsed = await parseMail(input.raw).catch(() => null)
    let authentication: AuthenticationResult | null
    try {
      authentication = await authenticateSender(input.raw, input.envelope)
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
    const result = {
      otp: found.otp,
      link: found.link,
      extraction: {
        otpCandidates: found.otpCandidates.slice(0, 5),
        linkCandidates: found.linkCandidates.slice(0, 5),
      },
      authentication,
      safeHtml: parsed?.html ? sanitizeHtml(parsed.html) : null,
    }
    const processedAt = now()
    const saved = await storage.saveProcessingResult(messageId, result, processedAt)
    if (!saved) return // gone meanwhile, or another run got there first and announced it
    const event: MessageProcessedEvent = {
      type: 'message.processed',
      mailboxId: input.mailboxId,
      seq: saved.seq,
      messageId,
      receivedAt: saved.receivedAt.toISOString(),
      from: parsed?.from ?? null,
      subject: parsed?.subject ?? null,
      otp: result.otp,
      link: result.link,
      processedAt: processedAt.toISOString(),
    }
    await pubsub.publish(event)
    await afterProcessed?.(event)
  }

  return {
    processMessage,
    /** Wires the job handler to the queue; the failure of a last attempt is recorded on the message. */
    start(queue: JobQueue, concurrency: number) {
      queue.work(processMessage, {
        concurrency,
        onFinalFailure: (job, error) =>
          storage.markProcessingFailed(job.messageId, error.message || String(error)),
      })
    },
    /**
     * Re-enqueues up to a batch of messages whose job was lost (a crash after the 250, before
     * the enqueue). Run at start and then periodically; duplicates of queued jobs are ignored.
     */
    async recover(queue: JobQueue): Promise<number> {
      const ids = await storage.findUnprocessed(new Date(now().getTime() - RECOVERY_AGE_MS), RECOVERY_BATCH)
      if (ids.length > 0) await queue.enqueue(ids.map((messageId) => ({ messageId })))
      return ids.length
    },
  }
}
