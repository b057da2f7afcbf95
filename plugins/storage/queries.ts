// The storage operations written once against drizzle's pg-core API; each driver hands in its own database handle.

import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { MailboxChange, NewMailbox, NewMessage, Storage } from '#contracts/storage.ts'
import type { MailboxEvent } from '#lib/events.ts'
import type { Mailbox, MessageSummary, ProcessingState } from '#lib/types.ts'
import type * as schema from './schema.ts'
import { mailboxes, messages, settings, webhookDeliveries, webhooks } from './schema.ts'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

/** Operations that differ per driver; everything else is shared. */
export interface DriverHooks {
  driver: Storage['driver']
  /**
   * Runs a fixed statement with positional parameters and returns the rows as the driver typed them.
   * For the hottest reads only: no query building and no generic row mapping per call.
   */
  query<Row>(text: string, params: unknown[]): Promise<Row[]>
  migrate(): Promise<void>
  close(): Promise<void>
}

const UNIQUE_VIOLATION = '23505'

function isUniqueViolation(error: unknown): boolean {
  // PGlite puts the SQLSTATE on `code`, Bun's SQL client on `errno`. drizzle wraps it in `cause`.
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const { code, errno } = current as { code?: unknown; errno?: unknown }
    if (code === UNIQUE_VIOLATION || errno === UNIQUE_VIOLATION) return true
  }
  return false
}

const mailboxColumns = {
  id: mailboxes.id,
  address: mailboxes.address,
  localPart: mailboxes.localPart,
  domain: mailboxes.domain,
  createdAt: mailboxes.createdAt,
  expiresAt: mailboxes.expiresAt,
}

const webhookColumns = {
  id: webhooks.id,
  mailboxId: webhooks.mailboxId,
  address: mailboxes.address,
  url: webhooks.url,
  filter: webhooks.filter,
  createdAt: webhooks.createdAt,
}

const deliveryColumns = {
  id: webhookDeliveries.id,
  webhookId: webhookDeliveries.webhookId,
  messageId: webhookDeliveries.messageId,
  eventType: webhookDeliveries.eventType,
  state: webhookDeliveries.state,
  attempts: webhookDeliveries.attempts,
  createdAt: webhookDeliveries.createdAt,
  updatedAt: webhookDeliveries.updatedAt,
}

const summaryColumns = {
  id: messages.id,
  mailboxId: messages.mailboxId,
  fromAddress: messages.fromAddress,
  fromName: messages.fromName,
  subject: messages.subject,
  receivedAt: messages.receivedAt,
  seen: messages.seen,
  size: messages.size,
  hasAttachments: messages.hasAttachments,
  otp: messages.otp,
  link: messages.link,
  processedAt: messages.processedAt,
  processingError: messages.processingError,
}

type SummaryRow = {
  id: string
  mailboxId: string
  fromAddress: string | null
  fromName: string | null
  subject: string | null
  receivedAt: Date
  seen: boolean
  size: number
  hasAttachments: boolean
  otp: string | null
  link: string | null
  processedAt: Date | null
  processingError: string | null
}

function processingState(processedAt: string | null, processingError: string | null): ProcessingState {
  if (processedAt) return { state: 'processed', at: processedAt }
  if (processingError !== null) return { state: 'failed', error: processingError }
  return { state: 'pending' }
}

/** A summary row as the driver returns it (column names, values already typed). */
interface RawSummaryRow {
  id: string
  mailbox_id: string
  from_address: string | null
  from_name: string | null
  subject: string | null
  received_at: Date
  seen: boolean
  size: number
  has_attachments: boolean
  otp: string | null
  link: string | null
  processed_at: Date | null
  processing_error: string | null
}

/**
 * The inbox list, newest first, as fixed statements ($1 mailbox, $2 limit, $3/$4 cursors): building it
 * with drizzle and mapping its rows generically took a third of a list request's CPU. Timestamps come
 * as timestamptz and are formatted here: formatting them in PostgreSQL (to_char) saved no CPU and, with
 * a million rows stored, gave list requests latency tails of 200-800 ms (bench/README.md).
 */
const listPage = (bounds: string) => `
  select id, mailbox_id, from_address, from_name, subject, received_at, seen, size,
    has_attachments, otp, link, processed_at, processing_error
  from messages where mailbox_id = $1::uuid ${bounds} order by id desc limit $2::integer`
const LIST_PAGE = {
  newest: listPage(''),
  before: listPage('and id < $3::uuid'),
  after: listPage('and id > $3::uuid'),
  between: listPage('and id < $3::uuid and id > $4::uuid'),
}

/**
 * Timestamps as the API's ISO 8601 text, remembered: a list page formats 40 of them and the same
 * messages are listed again and again, while toISOString was the list's largest JavaScript cost.
 * Bounded; cleared when full. One per storage instance.
 */
function createIsoTexts(max = 50_000): (date: Date) => string {
  const texts = new Map<number, string>()
  return (date) => {
    const ms = date.getTime()
    let text = texts.get(ms)
    if (text === undefined) {
      if (texts.size >= max) texts.clear()
      text = date.toISOString()
      texts.set(ms, text)
    }
    return text
  }
}

function rawToSummary(row: RawSummaryRow, isoText: (date: Date) => string): MessageSummary {
  return {
    id: row.id,
    mailboxId: row.mailbox_id,
    from: row.from_address === null ? null : { address: row.from_address, name: row.from_name ?? '' },
    subject: row.subject,
    receivedAt: isoText(row.received_at),
    seen: row.seen,
    size: row.size,
    hasAttachments: row.has_attachments,
    otp: row.otp,
    link: row.link,
    processing: processingState(
      row.processed_at === null ? null : isoText(row.processed_at),
      row.processing_error,
    ),
  }
}

/** Field by field rather than rest and spread: this runs for every row of every list (a hot path). */
function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    mailboxId: row.mailboxId,
    from: row.fromAddress === null ? null : { address: row.fromAddress, name: row.fromName ?? '' },
    subject: row.subject,
    receivedAt: row.receivedAt.toISOString(),
    seen: row.seen,
    size: row.size,
    hasAttachments: row.hasAttachments,
    otp: row.otp,
    link: row.link,
    processing: processingState(row.processedAt?.toISOString() ?? null, row.processingError),
  }
}

function toRow(message: NewMessage): typeof messages.$inferInsert {
  return {
    id: message.id,
    mailboxId: message.mailboxId,
    receivedAt: message.receivedAt,
    size: message.raw.byteLength,
    fromAddress: message.parsed?.from?.address ?? null,
    fromName: message.parsed?.from?.name ?? null,
    subject: message.parsed?.subject ?? null,
    hasAttachments: (message.parsed?.attachments.length ?? 0) > 0,
    envelope: message.envelope,
    parsed: message.parsed,
    parseError: message.parseError,
    raw: message.raw,
  }
}

/** Rows of a raw `db.execute`: Bun's SQL client hands back the rows, PGlite an object holding them. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}

export function createDrizzleStorage(db: Database, hooks: DriverHooks): Storage {
  const isoText = createIsoTexts()
  /** A message is visible only while its mailbox is live. */
  const liveMessage = (id: string, now: Date) =>
    and(
      eq(messages.id, id),
      inArray(
        messages.mailboxId,
        db.select({ id: mailboxes.id }).from(mailboxes).where(gt(mailboxes.expiresAt, now)),
      ),
    )

  // The hot reads, built once: drizzle otherwise assembles the SQL text on every call, which showed
  // as an eighth of the server's time under load (bench/api-reads.ts, bench/ingest-throughput.ts).
  // Bare placeholders skip drizzle's column encoders, so times go in as ISO strings; a key compared with
  // a column is wrapped in that column's encoder, so a text key is made storable like every write.
  const param = sql.placeholder
  const liveMailboxWhere = (
    column: typeof mailboxes.address | typeof mailboxes.tokenHash | typeof mailboxes.id,
  ) => and(eq(column, sql.param(param('key'), column)), gt(mailboxes.expiresAt, param('now')))
  const mailboxBy = {
    address: db
      .select(mailboxColumns)
      .from(mailboxes)
      .where(liveMailboxWhere(mailboxes.address))
      .prepare('mailbox_by_address'),
    tokenHash: db
      .select(mailboxColumns)
      .from(mailboxes)
      .where(liveMailboxWhere(mailboxes.tokenHash))
      .prepare('mailbox_by_token_hash'),
    id: db
      .select(mailboxColumns)
      .from(mailboxes)
      .where(liveMailboxWhere(mailboxes.id))
      .prepare('mailbox_by_id'),
  }
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
  const eventSeqOf = db
    .select({ eventSeq: mailboxes.eventSeq })
    .from(mailboxes)
    .where(eq(mailboxes.id, param('id')))
    .prepare('event_seq')
  const processingInputs = db
    .select({
      id: messages.id,
      mailboxId: messages.mailboxId,
      raw: messages.raw,
      envelope: messages.envelope,
      parsed: messages.parsed,
      processedAt: messages.processedAt,
      processedSeq: messages.processedSeq,
    })
    .from(messages)
    .where(sql`${messages.id} = any(${param('ids')}::uuid[])`)
    .prepare('processing_inputs')
  const webhooksFor = db
    .select({ ...webhookColumns, secret: webhooks.secret })
    .from(webhooks)
    .leftJoin(mailboxes, eq(webhooks.mailboxId, mailboxes.id))
    .where(or(eq(webhooks.mailboxId, param('mailboxId')), isNull(webhooks.mailboxId)))
    .prepare('webhooks_for_mailbox')

  return {
    driver: hooks.driver,
    migrate: hooks.migrate,
    close: hooks.close,

    async ping() {
      await db.execute(sql`select 1`)
    },

    async insertMailbox(mailbox: NewMailbox) {
      try {
        await db.insert(mailboxes).values(mailbox)
        return 'created'
      } catch (error) {
        if (isUniqueViolation(error)) return 'address-taken'
        throw error
      }
    },

    async findLiveMailboxByAddress(address, now) {
      const [row] = await mailboxBy.address.execute({ key: address, now: now.toISOString() })
      return row ?? null
    },

    async findLiveMailboxByTokenHash(tokenHash, now) {
      const [row] = await mailboxBy.tokenHash.execute({ key: tokenHash, now: now.toISOString() })
      return row ?? null
    },

    async findLiveMailboxesByAddresses(addresses, now) {
      if (addresses.length === 0) return []
      return db
        .select(mailboxColumns)
        .from(mailboxes)
        .where(and(inArray(mailboxes.address, addresses), gt(mailboxes.expiresAt, now)))
    },

    async updateMailbox(id, change: MailboxChange) {
      try {
        const [row] = await db
          .update(mailboxes)
          .set(change)
          .where(eq(mailboxes.id, id))
          .returning(mailboxColumns)
        return (row as Mailbox | undefined) ?? null
      } catch (error) {
        if (isUniqueViolation(error)) return 'address-taken'
        throw error
      }
    },

    async findLiveMailboxById(id, now) {
      const [row] = await mailboxBy.id.execute({ key: id, now: now.toISOString() })
      return row ?? null
    },

    async deleteMailbox(id) {
      const deleted = await db.delete(mailboxes).where(eq(mailboxes.id, id)).returning({ id: mailboxes.id })
      return deleted.length > 0
    },

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
            ${bound('parseError')}::text, ${row.raw}::bytea)`
        }),
        sql`, `,
      )
      const inserted = rowsOf<{ id: string; received_seq: number }>(
        await db.execute(sql`
          with locked as (
            select id from ${mailboxes} where id in (select id from (values ${counts}) as c(id, n)) order by id for update
          ), bumped as (
            update ${mailboxes} as m set event_seq = m.event_seq + c.n
            from (values ${counts}) as c(id, n)
            where m.id = c.id and m.id in (select id from locked)
            returning m.id, m.event_seq - c.n as base
          )
          insert into ${messages} (id, mailbox_id, received_at, size, from_address, from_name, subject, has_attachments,
            envelope, parsed, parse_error, raw, received_seq)
          select v.id, v.mailbox_id, v.received_at, v.size, v.from_address, v.from_name, v.subject, v.has_attachments,
            v.envelope, v.parsed, v.parse_error, v.raw,
            b.base + row_number() over (partition by v.mailbox_id order by v.ord)
          from (values ${values}) as v(ord, id, mailbox_id, received_at, size, from_address, from_name, subject,
            has_attachments, envelope, parsed, parse_error, raw)
          left join bumped as b on b.id = v.mailbox_id
          returning id, received_seq`),
      )
      const seqOf = new Map(inserted.map((row) => [row.id, Number(row.received_seq)]))
      return batch.map((message) => seqOf.get(message.id) as number)
    },

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

    async deleteExpired(now, batchSize) {
      // One bounded step per call: messages of expired mailboxes first, then the mailboxes
      // once they are empty. The sweeper calls again until a step comes back short, so no
      // statement holds locks (or PGlite's single connection) for long.
      const chunk = await db
        .delete(messages)
        .where(
          inArray(
            messages.id,
            db
              .select({ id: messages.id })
              .from(messages)
              .innerJoin(mailboxes, eq(messages.mailboxId, mailboxes.id))
              .where(lte(mailboxes.expiresAt, now))
              .limit(batchSize),
          ),
        )
        .returning({ id: messages.id })
      if (chunk.length === batchSize) return { mailboxIds: [], messagesDeleted: chunk.length }
      const gone = await db
        .delete(mailboxes)
        .where(
          inArray(
            mailboxes.id,
            db
              .select({ id: mailboxes.id })
              .from(mailboxes)
              .where(lte(mailboxes.expiresAt, now))
              .limit(batchSize),
          ),
        )
        .returning({ id: mailboxes.id })
      return { mailboxIds: gone.map((row) => row.id), messagesDeleted: chunk.length }
    },

    async loadForProcessing(ids) {
      if (ids.length === 0) return []
      const rows = await processingInputs.execute({ ids: `{${ids.join(',')}}` })
      return rows.map(({ processedAt, raw, ...rest }) => ({
        ...rest,
        raw: new Uint8Array(raw),
        processed: processedAt !== null,
      }))
    },

    async saveProcessingResults(outcomes) {
      if (outcomes.length === 0) return []
      // One statement for the whole job: the mailboxes' counters move (under their row locks, taken
      // in id order like insertMessages) by the number of messages this run really saves. Two runs of
      // the same job racing could still use up numbers without a message; the event hub skips such
      // holes after its short wait.
      const values = sql.join(
        outcomes.map(
          ({ id, result, processedAt }) => sql`(${id}::uuid, ${sql.param(result.otp, messages.otp)}::text,
            ${sql.param(result.link, messages.link)}::text, ${sql.param(result.extraction, messages.extraction)}::jsonb,
            ${sql.param(result.authentication, messages.authentication)}::jsonb,
            ${sql.param(result.safeHtml, messages.safeHtml)}::text, ${processedAt.toISOString()}::timestamptz,
            ${sql.param(result.notes.length > 0 ? result.notes : null, messages.processingNotes)}::jsonb)`,
        ),
        sql`, `,
      )
      const saved = rowsOf<{ id: string; processed_seq: number; received_at: string | Date }>(
        await db.execute(sql`
          with v(id, otp, link, extraction, authentication, safe_html, processed_at, processing_notes) as (values ${values}),
          targets as (
            select m.id, m.mailbox_id, row_number() over (partition by m.mailbox_id order by m.received_seq) as n
            from ${messages} as m join v on v.id = m.id where m.processed_at is null
          ), counts as (
            select mailbox_id, count(*)::integer as c from targets group by mailbox_id
          ), locked as (
            select id from ${mailboxes} where id in (select mailbox_id from counts) order by id for update
          ), bumped as (
            update ${mailboxes} as b set event_seq = b.event_seq + counts.c
            from counts where b.id = counts.mailbox_id and b.id in (select id from locked)
            returning b.id, b.event_seq - counts.c as base
          )
          update ${messages} as m set
            otp = v.otp, link = v.link, extraction = v.extraction, authentication = v.authentication,
            safe_html = v.safe_html, processed_at = v.processed_at, processing_error = null,
            processing_notes = v.processing_notes,
            processed_seq = bumped.base + targets.n
          from targets
          join bumped on bumped.id = targets.mailbox_id
          join v on v.id = targets.id
          where m.id = targets.id and m.processed_at is null
          returning m.id, m.processed_seq, m.received_at`),
      )
      return saved.map((row) => ({
        id: row.id,
        seq: Number(row.processed_seq),
        receivedAt: new Date(row.received_at),
      }))
    },

    async markProcessingFailed(ids, error) {
      if (ids.length === 0) return
      await db
        .update(messages)
        .set({ processingError: error })
        .where(and(inArray(messages.id, ids), isNull(messages.processedAt)))
    },

    async findUnprocessed(storedBefore, limit) {
      const rows = await db
        .select({ id: messages.id })
        .from(messages)
        .where(
          and(
            isNull(messages.processedAt),
            isNull(messages.processingError),
            lt(messages.receivedAt, storedBefore),
          ),
        )
        .orderBy(messages.id)
        .limit(limit)
      return rows.map((row) => row.id)
    },

    async findLatestOtp(mailboxId, since) {
      const conditions = [
        eq(messages.mailboxId, mailboxId),
        or(isNotNull(messages.otp), isNotNull(messages.link)),
      ]
      if (since) conditions.push(gt(messages.receivedAt, since))
      const [row] = await db
        .select({
          messageId: messages.id,
          otp: messages.otp,
          link: messages.link,
          fromAddress: messages.fromAddress,
          fromName: messages.fromName,
          subject: messages.subject,
          receivedAt: messages.receivedAt,
        })
        .from(messages)
        .where(and(...conditions))
        .orderBy(desc(messages.id))
        .limit(1)
      if (!row) return null
      const { fromAddress, fromName, ...rest } = row
      return { ...rest, from: fromAddress === null ? null : { address: fromAddress, name: fromName ?? '' } }
    },

    async insertWebhook(webhook) {
      await db.insert(webhooks).values(webhook)
    },

    async listWebhooks(mailboxId) {
      return db
        .select(webhookColumns)
        .from(webhooks)
        .leftJoin(mailboxes, eq(webhooks.mailboxId, mailboxes.id))
        .where(mailboxId === null ? undefined : eq(webhooks.mailboxId, mailboxId))
        .orderBy(desc(webhooks.id))
    },

    async getWebhook(id) {
      const [row] = await db
        .select(webhookColumns)
        .from(webhooks)
        .leftJoin(mailboxes, eq(webhooks.mailboxId, mailboxes.id))
        .where(eq(webhooks.id, id))
      return row ?? null
    },

    async deleteWebhook(id) {
      const deleted = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id })
      return deleted.length > 0
    },

    async countWebhooksOfMailbox(mailboxId) {
      const [row] = await db
        .select({ count: sql<number>`count(*)::integer` })
        .from(webhooks)
        .where(eq(webhooks.mailboxId, mailboxId))
      return row?.count ?? 0
    },

    async findWebhooksForMailbox(mailboxId) {
      return webhooksFor.execute({ mailboxId })
    },

    async createWebhookDeliveries(deliveries) {
      if (deliveries.length === 0) return []
      await db
        .insert(webhookDeliveries)
        .values(
          deliveries.map((delivery) => ({
            ...delivery,
            state: 'pending' as const,
            attempts: [],
            updatedAt: delivery.createdAt,
          })),
        )
        .onConflictDoNothing()
      const first = deliveries[0] as (typeof deliveries)[number]
      return db
        .select({ id: webhookDeliveries.id, webhookId: webhookDeliveries.webhookId })
        .from(webhookDeliveries)
        .where(
          and(
            eq(webhookDeliveries.messageId, first.messageId),
            eq(webhookDeliveries.eventType, first.eventType),
            inArray(
              webhookDeliveries.webhookId,
              deliveries.map((delivery) => delivery.webhookId),
            ),
            inArray(webhookDeliveries.state, ['pending', 'retrying']),
          ),
        )
    },

    async loadWebhookDelivery(id) {
      const [row] = await db
        .select({
          ...deliveryColumns,
          payload: webhookDeliveries.payload,
          url: webhooks.url,
          secret: webhooks.secret,
        })
        .from(webhookDeliveries)
        .innerJoin(webhooks, eq(webhookDeliveries.webhookId, webhooks.id))
        .where(eq(webhookDeliveries.id, id))
      if (!row) return null
      const { payload, url, secret, ...delivery } = row
      return { delivery, payload, url, secret }
    },

    async markWebhookDeliveryDead(id) {
      await db
        .update(webhookDeliveries)
        .set({ state: 'dead', updatedAt: new Date() })
        .where(and(eq(webhookDeliveries.id, id), inArray(webhookDeliveries.state, ['pending', 'retrying'])))
    },

    async recordWebhookAttempt(id, attempt, state) {
      await db
        .update(webhookDeliveries)
        .set({
          attempts: sql`${webhookDeliveries.attempts} || ${JSON.stringify([attempt])}::jsonb`,
          state,
          updatedAt: new Date(),
        })
        .where(eq(webhookDeliveries.id, id))
    },

    async listWebhookDeliveries(webhookId, limit) {
      return db
        .select(deliveryColumns)
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.webhookId, webhookId))
        .orderBy(desc(webhookDeliveries.id))
        .limit(limit)
    },

    async findUnfinishedWebhookDeliveries(updatedBefore, limit) {
      return db
        .select({ id: webhookDeliveries.id, webhookId: webhookDeliveries.webhookId })
        .from(webhookDeliveries)
        .where(
          and(
            inArray(webhookDeliveries.state, ['pending', 'retrying']),
            lt(webhookDeliveries.updatedAt, updatedBefore),
          ),
        )
        .orderBy(webhookDeliveries.updatedAt)
        .limit(limit)
    },

    async deleteOrphanedWebhookDeliveries(batchSize) {
      const deleted = await db
        .delete(webhookDeliveries)
        .where(
          inArray(
            webhookDeliveries.id,
            db
              .select({ id: webhookDeliveries.id })
              .from(webhookDeliveries)
              .where(
                and(
                  inArray(webhookDeliveries.state, ['delivered', 'dead']),
                  sql`not exists (select 1 from ${messages} where ${messages.id} = ${webhookDeliveries.messageId})`,
                ),
              )
              .limit(batchSize),
          ),
        )
        .returning({ id: webhookDeliveries.id })
      return deleted.length
    },

    async getSetting(key) {
      const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key))
      return row?.value ?? null
    },

    async putSettingIfAbsent(key, value) {
      await db.insert(settings).values({ key, value }).onConflictDoNothing()
      const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key))
      if (!row) throw new Error(`setting ${key} vanished right after it was written`)
      return row.value
    },
  }
}
