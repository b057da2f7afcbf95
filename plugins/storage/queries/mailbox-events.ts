// A mailbox's numbered events (message.received, message.processed), read back from its messages for replay.

import { and, eq, gt, or } from 'drizzle-orm'
import type { MailboxEventStore } from '#contracts/storage.ts'
import type { MailboxEvent } from '#lib/events.ts'
import { mailboxes, messages } from '#plugins/storage/schema.ts'
import { type Database, param } from './shared.ts'

export function createMailboxEventQueries(db: Database): MailboxEventStore {
  const eventSeqOf = db
    .select({ eventSeq: mailboxes.eventSeq })
    .from(mailboxes)
    .where(eq(mailboxes.id, param('id')))
    .prepare('event_seq')

  return {
    async currentEventSeq(mailboxId) {
      const [row] = await eventSeqOf.execute({ id: mailboxId })
      return row?.eventSeq ?? null
    },

    async listMailboxEvents(mailboxId, afterSeq, upToSeq = null) {
      const rows = await db
        .select({
          messageId: messages.id,
          receivedSeq: messages.receivedSeq,
          processedSeq: messages.processedSeq,
          address: mailboxes.address,
          fromAddress: messages.fromAddress,
          fromName: messages.fromName,
          subject: messages.subject,
          otp: messages.otp,
          link: messages.link,
          receivedAt: messages.receivedAt,
          processedAt: messages.processedAt,
        })
        .from(messages)
        .innerJoin(mailboxes, eq(messages.mailboxId, mailboxes.id))
        .where(
          and(
            eq(messages.mailboxId, mailboxId),
            or(gt(messages.receivedSeq, afterSeq), gt(messages.processedSeq, afterSeq)),
          ),
        )
      const inRange = (seq: number | null): seq is number =>
        seq !== null && seq > afterSeq && (upToSeq === null || seq <= upToSeq)
      const events: MailboxEvent[] = []
      for (const row of rows) {
        const from = row.fromAddress === null ? null : { address: row.fromAddress, name: row.fromName ?? '' }
        const common = { mailboxId, messageId: row.messageId, from, subject: row.subject }
        if (inRange(row.receivedSeq))
          events.push({
            type: 'message.received',
            ...common,
            seq: row.receivedSeq,
            address: row.address,
            receivedAt: row.receivedAt.toISOString(),
          })
        if (inRange(row.processedSeq) && row.processedAt)
          events.push({
            type: 'message.processed',
            ...common,
            seq: row.processedSeq,
            otp: row.otp,
            link: row.link,
            receivedAt: row.receivedAt.toISOString(),
            processedAt: row.processedAt.toISOString(),
          })
      }
      return events.sort((a, b) => a.seq - b.seq)
    },
  }
}
