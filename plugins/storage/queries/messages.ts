// The messages table: the batched insert that numbers events, the inbox list, reads, the seen flag, deletes.

import { and, eq, gt, inArray, sql } from 'drizzle-orm'
import { DuplicateMessageError, type MessageStore } from '#contracts/storage.ts'
import { mailboxes, messages } from '#plugins/storage/schema.ts'
import { type RawSummaryRow, rawToSummary, summaryColumns, toRow, toSummary } from './message-rows.ts'
import { type Database, type DriverHooks, type IsoText, isUniqueViolation, param, rowsOf } from './shared.ts'

/**
 * The inbox list, newest first, as fixed statements ($1 mailbox, $2 limit, $3/$4 cursors): building it
 * with drizzle and mapping its rows generically took a third of a list request's CPU. Timestamps come
 * as timestamptz and are formatted here: formatting them in PostgreSQL (to_char) saved no CPU and, with
 * a million rows stored, gave list requests latency tails of 200-800 ms (bench/README.md).
 */
const listPage = (bounds: string) => `
  select id, mailbox_id, from_address, from_name, subject, received_at, seen, size,
    has_attachments, otp, link, processed_at, processing_error, source
  from messages where mailbox_id = $1::uuid ${bounds} order by id desc limit $2::integer`
const LIST_PAGE = {
  newest: listPage(''),
  before: listPage('and id < $3::uuid'),
  after: listPage('and id > $3::uuid'),
  between: listPage('and id < $3::uuid and id > $4::uuid'),
}

export function createMessageQueries(db: Database, hooks: DriverHooks, isoText: IsoText): MessageStore {
  /** A message is visible only while its mailbox is live. */
  const liveMessage = (id: string, now: Date) =>
    and(
      eq(messages.id, id),
      inArray(
        messages.mailboxId,
        db.select({ id: mailboxes.id }).from(mailboxes).where(gt(mailboxes.expiresAt, now)),
      ),
    )
  const liveMessageWhere = and(
    eq(messages.id, param('id')),
    inArray(
      messages.mailboxId,
      db
        .select({ id: mailboxes.id })
        .from(mailboxes)
        .where(gt(mailboxes.expiresAt, param('now'))),
    ),
  )
  const fullMessage = db
    .select({
      ...summaryColumns,
      envelope: messages.envelope,
      parsed: messages.parsed,
      parseError: messages.parseError,
      extraction: messages.extraction,
      authentication: messages.authentication,
      safeHtml: messages.safeHtml,
      processingNotes: messages.processingNotes,
    })
    .from(messages)
    .where(liveMessageWhere)
    .prepare('full_message')
  const messageOwner = db
    .select({ mailboxId: messages.mailboxId })
    .from(messages)
    .where(liveMessageWhere)
    .prepare('message_owner')

  return {
    async insertMessages(batch) {
      if (batch.length === 0) return []
      const perMailbox = new Map<string, number>()
      for (const message of batch)
        perMailbox.set(message.mailboxId, (perMailbox.get(message.mailboxId) ?? 0) + 1)
      // One statement, so one round trip and atomic without BEGIN/COMMIT. Each mailbox's event counter
      // moves under its row lock, taken in id order (locked) so two commits touching the same mailboxes
      // wait for each other instead of deadlocking; the rows take their numbers in batch order.
      // A mailbox deleted meanwhile has no counter row: its message then fails the foreign key.
      const counts = sql.join(
        [...perMailbox].map(([id, n]) => sql`(${id}::uuid, ${n}::integer)`),
        sql`, `,
      )
      const values = sql.join(
        batch.map((message, index) => {
          const row = toRow(message)
          // Text and json bind through their columns, so they are made storable as in every other write.
          const bound = <K extends keyof typeof row>(key: K) =>
            sql.param(row[key] ?? null, messages[key as keyof typeof messages.$inferInsert])
          return sql`(${index}::integer, ${row.id}::uuid, ${row.mailboxId}::uuid, ${message.receivedAt.toISOString()}::timestamptz,
            ${row.size}::integer, ${bound('fromAddress')}::text, ${bound('fromName')}::text, ${bound('subject')}::text,
            ${row.hasAttachments}::boolean, ${bound('envelope')}::jsonb, ${bound('parsed')}::json,
            ${bound('parseError')}::text, ${row.raw}::bytea, ${bound('source')}::text, ${bound('dedupeKey')}::text)`
        }),
        sql`, `,
      )
      // One statement: a redelivery refused by the dedupe index rolls back the counters too, so the
      // mailbox's event numbers keep no hole.
      const result = await db
        .execute(sql`
          with locked as (
            select id from ${mailboxes} where id in (select id from (values ${counts}) as c(id, n)) order by id for update
          ), bumped as (
            update ${mailboxes} as m set event_seq = m.event_seq + c.n
            from (values ${counts}) as c(id, n)
            where m.id = c.id and m.id in (select id from locked)
            returning m.id, m.event_seq - c.n as base
          )
          insert into ${messages} (id, mailbox_id, received_at, size, from_address, from_name, subject, has_attachments,
            envelope, parsed, parse_error, raw, source, dedupe_key, received_seq)
          select v.id, v.mailbox_id, v.received_at, v.size, v.from_address, v.from_name, v.subject, v.has_attachments,
            v.envelope, v.parsed, v.parse_error, v.raw, v.source, v.dedupe_key,
            b.base + row_number() over (partition by v.mailbox_id order by v.ord)
          from (values ${values}) as v(ord, id, mailbox_id, received_at, size, from_address, from_name, subject,
            has_attachments, envelope, parsed, parse_error, raw, source, dedupe_key)
          left join bumped as b on b.id = v.mailbox_id
          returning id, received_seq`)
        .catch((error: unknown) => {
          // Ids are random UUIDv7s: the one unique key a new message can collide on is (mailbox, dedupe_key).
          if (isUniqueViolation(error))
            throw new DuplicateMessageError('a message with this dedupe key is already stored in its mailbox')
          throw error
        })
      const inserted = rowsOf<{ id: string; received_seq: number }>(result)
      const seqOf = new Map(inserted.map((row) => [row.id, Number(row.received_seq)]))
      return batch.map((message) => seqOf.get(message.id) as number)
    },

    async findByDedupeKey(dedupeKey, mailboxIds) {
      if (mailboxIds.length === 0) return []
      const rows = await db
        .select({ mailboxId: messages.mailboxId, messageId: messages.id })
        .from(messages)
        .where(and(eq(messages.dedupeKey, dedupeKey), inArray(messages.mailboxId, mailboxIds)))
      return rows
    },

    async listMessages(mailboxId, { limit, before, after }) {
      const rows = await hooks.query<RawSummaryRow>(
        before ? (after ? LIST_PAGE.between : LIST_PAGE.before) : after ? LIST_PAGE.after : LIST_PAGE.newest,
        [mailboxId, limit + 1, ...(before ? [before] : []), ...(after ? [after] : [])],
      )
      const items = rows.slice(0, limit).map((row) => rawToSummary(row, isoText))
      return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null }
    },

    async findMessageOwner(id, now) {
      const [row] = await messageOwner.execute({ id, now: now.toISOString() })
      return row?.mailboxId ?? null
    },

    async getMessage(id, now) {
      const [row] = await fullMessage.execute({ id, now: now.toISOString() })
      if (!row) return null
      const {
        envelope,
        parsed,
        parseError,
        extraction,
        authentication,
        safeHtml,
        processingNotes,
        ...summary
      } = row
      return {
        ...toSummary(summary),
        envelope,
        parsed,
        parseError,
        extraction,
        authentication,
        safeHtml,
        processingNotes: processingNotes ?? [],
      }
    },

    async getRawMessage(id, now) {
      const [row] = await db
        .select({ mailboxId: messages.mailboxId, raw: messages.raw })
        .from(messages)
        .where(liveMessage(id, now))
      return row ? { mailboxId: row.mailboxId, raw: new Uint8Array(row.raw) } : null
    },

    async setMessageSeen(id, seen, now) {
      const [row] = await db
        .update(messages)
        .set({ seen })
        .where(liveMessage(id, now))
        .returning(summaryColumns)
      return row ? toSummary(row) : null
    },

    async deleteMessage(id, now) {
      const deleted = await db.delete(messages).where(liveMessage(id, now)).returning({ id: messages.id })
      return deleted.length > 0
    },

    async deleteMessagesOfMailbox(mailboxId) {
      const deleted = await db
        .delete(messages)
        .where(eq(messages.mailboxId, mailboxId))
        .returning({ id: messages.id })
      return deleted.length
    },
  }
}
