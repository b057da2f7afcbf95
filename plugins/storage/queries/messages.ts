// The messages table: the batched insert that numbers events, the inbox list, reads, the seen flag, deletes.

import { and, eq, gt, inArray } from 'drizzle-orm'
import { DuplicateMessageError, type MessageStore } from '#contracts/storage.ts'
import { mailboxes, messages } from '#plugins/storage/schema.ts'
import { storableJson, storableText } from '#plugins/storage/storable.ts'
import { type RawSummaryRow, rawToSummary, summaryColumns, toSummary } from './message-rows.ts'
import { type Database, type DriverHooks, type IsoText, isUniqueViolation, param } from './shared.ts'

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

/** Parameters per row of the batch insert, in the order of INSERT_ROW's placeholders. */
const INSERT_PARAMS_PER_ROW = 14

/** One row of the insert's values: its position in the batch, then its 14 parameters from `first`. */
function insertRow(ord: number, first: number): string {
  const at = (offset: number) => `$${first + offset}`
  return `(${ord}, ${at(0)}::uuid, ${at(1)}::uuid, ${at(2)}::timestamptz, ${at(3)}::integer, ${at(4)}::text,
    ${at(5)}::text, ${at(6)}::text, ${at(7)}::boolean, ${at(8)}::jsonb, ${at(9)}::json, ${at(10)}::text,
    ${at(11)}::bytea, ${at(12)}::text, ${at(13)}::text)`
}

/**
 * The batch insert for `rows` messages, as fixed text with positional parameters: building it with
 * drizzle's sql template assembled and escaped every row's fragments on every commit. One statement,
 * so one round trip and atomic without BEGIN/COMMIT. Each mailbox's event counter moves by its count
 * of rows under its row lock, taken in id order (locked) so two commits touching the same mailboxes
 * wait for each other instead of deadlocking; the rows take their numbers in batch order. A mailbox
 * deleted meanwhile has no counter row: its message then fails the foreign key. A redelivery refused
 * by the dedupe index rolls back the counters too, so the mailbox's event numbers keep no hole.
 */
function buildInsertText(rows: number): string {
  const values = Array.from({ length: rows }, (_, ord) => insertRow(ord, ord * INSERT_PARAMS_PER_ROW + 1))
  return `
    with v(ord, id, mailbox_id, received_at, size, from_address, from_name, subject, has_attachments,
      envelope, parsed, parse_error, raw, source, dedupe_key) as (values ${values.join(', ')}),
    counts as (
      select mailbox_id as id, count(*)::integer as n from v group by mailbox_id
    ), locked as (
      select id from mailboxes where id in (select id from counts) order by id for update
    ), bumped as (
      update mailboxes as m set event_seq = m.event_seq + c.n
      from counts as c
      where m.id = c.id and m.id in (select id from locked)
      returning m.id, m.event_seq - c.n as base
    )
    insert into messages (id, mailbox_id, received_at, size, from_address, from_name, subject, has_attachments,
      envelope, parsed, parse_error, raw, source, dedupe_key, received_seq)
    select v.id, v.mailbox_id, v.received_at, v.size, v.from_address, v.from_name, v.subject, v.has_attachments,
      v.envelope, v.parsed, v.parse_error, v.raw, v.source, v.dedupe_key,
      b.base + row_number() over (partition by v.mailbox_id order by v.ord)
    from v left join bumped as b on b.id = v.mailbox_id
    returning id, received_seq`
}

/** Batch sizes whose insert text is kept; a larger batch (many recipients) builds its own. */
const CACHED_INSERT_SIZES = 512

/** Text columns bind made storable, as every write does (storable.ts). */
const nullableText = (value: string | null | undefined) => (value == null ? null : storableText(value))

export function createMessageQueries(db: Database, hooks: DriverHooks, isoText: IsoText): MessageStore {
  const insertTexts = new Map<number, string>()
  const insertText = (rows: number) => {
    let text = insertTexts.get(rows)
    if (text === undefined) {
      text = buildInsertText(rows)
      if (rows <= CACHED_INSERT_SIZES) insertTexts.set(rows, text)
    }
    return text
  }
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
      const params: unknown[] = []
      for (const message of batch) {
        const parsed = message.parsed
        params.push(
          message.id,
          message.mailboxId,
          message.receivedAt.toISOString(),
          message.raw.byteLength,
          nullableText(parsed?.from?.address),
          nullableText(parsed?.from?.name),
          nullableText(parsed?.subject),
          (parsed?.attachments.length ?? 0) > 0,
          storableJson(message.envelope),
          parsed ? storableJson(parsed) : null,
          nullableText(message.parseError),
          message.raw,
          storableText(message.source),
          nullableText(message.dedupeKey),
        )
      }
      const result = await hooks
        .query<{ id: string; received_seq: number }>(insertText(batch.length), params)
        .catch((error: unknown) => {
          // Ids are random UUIDv7s: the one unique key a new message can collide on is (mailbox, dedupe_key).
          if (isUniqueViolation(error))
            throw new DuplicateMessageError('a message with this dedupe key is already stored in its mailbox')
          throw error
        })
      const seqOf = new Map(result.map((row) => [row.id, Number(row.received_seq)]))
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
