// The ingest funnel: every source (SMTP, inbound HTTP, IMAP) hands mail here; it is stored durably before anyone says 250/202.

import { type IngestFunnel, MessageTooLargeError } from '#contracts/ingest.ts'
import type { PubSub } from '#contracts/pubsub.ts'
import type { JobQueue } from '#contracts/queue.ts'
import { DuplicateMessageError, type NewMessage, type Storage } from '#contracts/storage.ts'
import { normalizeRecipient } from '#lib/address.ts'
import { createGroupCommitter } from '#lib/group-commit.ts'
import { uuidv7 } from '#lib/ids.ts'
import { loggableError } from '#lib/loggable-error.ts'
import type { ParsedMail } from '#lib/mail.ts'
import type { ServedDomainNames } from './domain-catalog.ts'
import { createLiveMailboxes, type LiveMailboxes } from './live-mailboxes.ts'
import { inThreadMailWork, type MailWork } from './mail-offload.ts'

/** Concurrent deliveries written in one transaction at most; bounds one commit's size and latency. */
export const MAX_MESSAGES_PER_COMMIT = 256

/** Commits whose messages may share one process-messages job; bounds a job to a few hundred messages. */
export const MAX_COMMITS_PER_JOB = 16

/** One turn of the event loop: deliveries whose DATA completed meanwhile join the next batch. */
const ioTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

export { MessageTooLargeError }

export interface IngestFunnelDeps {
  storage: Storage
  pubsub: PubSub
  /** Where process-messages jobs go once messages are stored. */
  queue: JobQueue
  /** Domains served right now (configured and verified registered ones), answered from memory. */
  domains: ServedDomainNames
  maxMessageBytes: number
  /** Where parsing runs: a large message on a worker thread, so it cannot hold up other sessions' replies. */
  mail?: MailWork
  /** Live-mailbox memory, shared with the API's lookups when both run in one process. */
  liveMailboxes?: LiveMailboxes
  now?: () => Date
}

export function createIngestFunnel({
  storage,
  pubsub,
  queue,
  domains,
  maxMessageBytes,
  mail = inThreadMailWork,
  // RCPT and DATA of one message, and the next messages to the same mailbox, skip the lookups.
  liveMailboxes = createLiveMailboxes({ storage, pubsub }),
  now = () => new Date(),
}: IngestFunnelDeps): IngestFunnel {
  /**
   * Process-messages jobs: messages stored together are processed together (one load, one save, one
   * job's round trips on the queue). Commits that finish while an enqueue is in flight share the next
   * job, up to MAX_COMMITS_PER_JOB of them. Not awaited by the commit: the messages are stored, so the
   * 250 need not wait for the queue; a lost enqueue is repaired by the worker's recovery scan.
   */
  const enqueuer = createGroupCommitter<string[], void>(async (idLists) => {
    await queue.enqueue([{ messageIds: idLists.flat() }])
    return idLists.map(() => undefined)
  }, MAX_COMMITS_PER_JOB)
  function enqueue(rows: NewMessage[]): void {
    if (rows.length === 0) return
    enqueuer.submit(rows.map((row) => row.id)).catch((error) => {
      console.error(
        `enqueueing a process-messages job failed; recovery will pick it up: ${loggableError(error)}`,
      )
    })
  }

  // A failed batch is retried one delivery at a time, so a single bad delivery (its mailbox
  // deleted a moment ago) cannot make every other message of the batch fail.
  // Each delivery gets back the event numbers of its rows, or the error that kept them out.
  const committer = createGroupCommitter<NewMessage[], number[] | Error>(
    async (deliveries) => {
      try {
        const seqs = await storage.insertMessages(deliveries.flat())
        enqueue(deliveries.flat())
        let offset = 0
        return deliveries.map((rows) => {
          const own = seqs.slice(offset, offset + rows.length)
          offset += rows.length
          return own
        })
      } catch (batchError) {
        if (deliveries.length === 1) return [batchError as Error]
        const outcomes = await Promise.all(
          deliveries.map((rows) => storage.insertMessages(rows).catch((error: Error) => error)),
        )
        enqueue(deliveries.filter((_, index) => !(outcomes[index] instanceof Error)).flat())
        return outcomes
      }
    },
    MAX_MESSAGES_PER_COMMIT,
    ioTurn,
  )

  function addressOf(recipient: string): string | null {
    const parts = normalizeRecipient(recipient)
    return parts && domains.serves(parts.domain) ? `${parts.localPart}@${parts.domain}` : null
  }

  return {
    async checkRecipient(recipient) {
      const parts = normalizeRecipient(recipient)
      if (!parts) return { accepted: false, reason: 'invalid-address' }
      if (!domains.serves(parts.domain)) return { accepted: false, reason: 'unknown-domain' }
      const [mailbox] = await liveMailboxes.find([`${parts.localPart}@${parts.domain}`], now())
      if (!mailbox) return { accepted: false, reason: 'no-such-mailbox' }
      // Its plan's messagesPerMailbox: counted at RCPT, so a full mailbox is refused before any DATA.
      if ((await storage.findFullMailboxes([mailbox.id])).length > 0)
        return { accepted: false, reason: 'mailbox-full' }
      return { accepted: true, mailbox }
    },

    async ingestMessage({ raw, envelope: given, source, dedupeKey = null }) {
      if (raw.byteLength > maxMessageBytes)
        throw new MessageTooLargeError(
          `message of ${raw.byteLength} bytes exceeds the limit of ${maxMessageBytes}`,
        )
      // The source named in the call is the one stored, whatever the envelope it built says.
      const envelope = given.source === source ? given : { ...given, source }
      const wanted = new Map<string, string>() // normalized address -> recipient as given
      for (const recipient of envelope.rcptTo) {
        const address = addressOf(recipient)
        if (address && !wanted.has(address)) wanted.set(address, recipient)
      }
      const receivedAt = now()
      const mailboxes = await liveMailboxes.find([...wanted.keys()], receivedAt)
      const liveAddresses = new Set(mailboxes.map((mailbox) => mailbox.address))
      const rejected = envelope.rcptTo.filter((recipient) => {
        const address = addressOf(recipient)
        return !address || !liveAddresses.has(address)
      })
      if (mailboxes.length === 0) return { stored: [], rejected }

      // A redelivery (same dedupeKey) is answered with the copies stored earlier: looked up first, and
      // the unique index refuses one that raced past the look-up (its whole insert rolls back, event
      // numbers included), after which the look-up finds it.
      const earlier = new Map<string, string>() // mailbox id -> message id stored earlier
      const remember = async () => {
        if (dedupeKey === null) return
        const ids = mailboxes.filter((mailbox) => !earlier.has(mailbox.id)).map((mailbox) => mailbox.id)
        for (const found of await storage.findByDedupeKey(dedupeKey, ids))
          earlier.set(found.mailboxId, found.messageId)
      }
      await remember()

      let parsed: ParsedMail | null = null
      let parseError: string | null = null
      if (earlier.size < mailboxes.length) {
        try {
          parsed = await mail.parse(raw)
        } catch (error) {
          // Unparseable mail is still stored: the raw source is kept and can be downloaded.
          parseError = error instanceof Error ? error.message : String(error)
        }
      }
      const fresh = new Map<string, { row: NewMessage; seq: number }>() // mailbox id -> stored now
      for (let attempt = 0; earlier.size + fresh.size < mailboxes.length; attempt++) {
        const rows: NewMessage[] = mailboxes
          .filter((mailbox) => !earlier.has(mailbox.id))
          .map((mailbox) => ({
            id: uuidv7(receivedAt.getTime()),
            mailboxId: mailbox.id,
            receivedAt,
            raw,
            envelope,
            parsed,
            parseError,
            source,
            dedupeKey,
          }))
        const seqs = await committer.submit(rows)
        if (seqs instanceof DuplicateMessageError && attempt < mailboxes.length) {
          await remember()
          continue
        }
        if (seqs instanceof Error) throw seqs
        for (const [index, row] of rows.entries())
          fresh.set(row.mailboxId, { row, seq: seqs[index] as number })
      }

      for (const mailbox of mailboxes) {
        const stored = fresh.get(mailbox.id)
        if (!stored) continue
        void pubsub.publish({
          type: 'message.received',
          mailboxId: mailbox.id,
          seq: stored.seq,
          messageId: stored.row.id,
          address: mailbox.address,
          from: parsed?.from ?? null,
          subject: parsed?.subject ?? null,
          receivedAt: receivedAt.toISOString(),
        })
      }
      return {
        stored: mailboxes.map((mailbox) => {
          const earlierId = earlier.get(mailbox.id)
          return {
            messageId: earlierId ?? (fresh.get(mailbox.id)?.row.id as string),
            mailboxId: mailbox.id,
            address: mailbox.address,
            duplicate: earlierId !== undefined,
          }
        }),
        rejected,
      }
    },
  }
}
