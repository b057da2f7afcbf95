// The worker's side of the messages table: load a job's messages, save results and number their events.

import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import type { ProcessingStore } from '#contracts/storage.ts'
import { messages } from '#plugins/storage/schema.ts'
import { storableJson, storableText } from '#plugins/storage/storable.ts'
import { type Database, type DriverHooks, param } from './shared.ts'

/** Parameters per message of the processing save, in the order of saveRow's placeholders. */
const SAVE_PARAMS_PER_ROW = 8

function saveRow(first: number): string {
  const at = (offset: number) => `$${first + offset}`
  return `(${at(0)}::uuid, ${at(1)}::text, ${at(2)}::text, ${at(3)}::jsonb, ${at(4)}::jsonb, ${at(5)}::text,
    ${at(6)}::timestamptz, ${at(7)}::jsonb)`
}

/**
 * The processing save for `rows` messages, as fixed text with positional parameters (drizzle's sql
 * template rebuilt it row by row for every job). One statement for the whole job: the mailboxes'
 * counters move (under their row locks, taken in id order like the insert) by the number of messages
 * this run really saves. Two runs of the same job racing could still use up numbers without a message;
 * the event hub skips such holes after its short wait.
 */
function buildSaveText(rows: number): string {
  const values = Array.from({ length: rows }, (_, row) => saveRow(row * SAVE_PARAMS_PER_ROW + 1))
  return `
    with v(id, otp, link, extraction, authentication, safe_html, processed_at, processing_notes) as (values ${values.join(', ')}),
    targets as (
      select m.id, m.mailbox_id, row_number() over (partition by m.mailbox_id order by m.received_seq) as n
      from messages as m join v on v.id = m.id where m.processed_at is null
    ), counts as (
      select mailbox_id, count(*)::integer as c from targets group by mailbox_id
    ), locked as (
      select id from mailboxes where id in (select mailbox_id from counts) order by id for update
    ), bumped as (
      update mailboxes as b set event_seq = b.event_seq + counts.c
      from counts where b.id = counts.mailbox_id and b.id in (select id from locked)
      returning b.id, b.event_seq - counts.c as base
    )
    update messages as m set
      otp = v.otp, link = v.link, extraction = v.extraction, authentication = v.authentication,
      safe_html = v.safe_html, processed_at = v.processed_at, processing_error = null,
      processing_notes = v.processing_notes,
      processed_seq = bumped.base + targets.n
    from targets
    join bumped on bumped.id = targets.mailbox_id
    join v on v.id = targets.id
    where m.id = targets.id and m.processed_at is null
    returning m.id, m.processed_seq, m.received_at`
}

/** Job sizes whose save text is kept; a larger job builds its own. */
const CACHED_SAVE_SIZES = 512

export function createProcessingQueries(db: Database, hooks: DriverHooks): ProcessingStore {
  const saveTexts = new Map<number, string>()
  const saveText = (rows: number) => {
    let text = saveTexts.get(rows)
    if (text === undefined) {
      text = buildSaveText(rows)
      if (rows <= CACHED_SAVE_SIZES) saveTexts.set(rows, text)
    }
    return text
  }

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

  return {
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
      const params: unknown[] = []
      for (const { id, result, processedAt } of outcomes)
        params.push(
          id,
          result.otp === null ? null : storableText(result.otp),
          result.link === null ? null : storableText(result.link),
          result.extraction === null ? null : storableJson(result.extraction),
          result.authentication === null ? null : storableJson(result.authentication),
          result.safeHtml === null ? null : storableText(result.safeHtml),
          processedAt.toISOString(),
          result.notes.length > 0 ? storableJson(result.notes) : null,
        )
      const saved = await hooks.query<{ id: string; processed_seq: number; received_at: string | Date }>(
        saveText(outcomes.length),
        params,
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
  }
}
