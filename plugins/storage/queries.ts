// The storage operations written once against drizzle's pg-core API; each driver hands in its own database handle.

import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { MailboxChange, NewMailbox, NewMessage, Storage } from '../../src/contracts/storage.ts'
import type { Mailbox, MessageSummary, ProcessingState } from '../../src/lib/types.ts'
import type * as schema from './schema.ts'
import { mailboxes, messages, settings } from './schema.ts'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

/** Operations that differ per driver; everything else is shared. */
export interface DriverHooks {
  driver: Storage['driver']
  migrate(): Promise<void>
  close(): Promise<void>
}

const UNIQUE_VIOLATION = '23505'

function isUniqueViolation(error: unknown): boolean {
  // postgres.js puts the SQLSTATE on `code`; PGlite does too. drizzle wraps it in `cause`.
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === UNIQUE_VIOLATION) return true
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

function processingState(processedAt: Date | null, processingError: string | null): ProcessingState {
  if (processedAt) return { state: 'processed', at: processedAt }
  if (processingError !== null) return { state: 'failed', error: processingError }
  return { state: 'pending' }
}

function toSummary({
  fromAddress,
  fromName,
  processedAt,
  processingError,
  ...row
}: SummaryRow): MessageSummary {
  return {
    ...row,
    from: fromAddress === null ? null : { address: fromAddress, name: fromName ?? '' },
    processing: processingState(processedAt, processingError),
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

export function createDrizzleStorage(db: Database, hooks: DriverHooks): Storage {
  /** A message is visible only while its mailbox is live. */
  const liveMessage = (id: string, now: Date) =>
    and(
      eq(messages.id, id),
      inArray(
        messages.mailboxId,
        db.select({ id: mailboxes.id }).from(mailboxes).where(gt(mailboxes.expiresAt, now)),
      ),
    )

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
      const [row] = await db
        .select(mailboxColumns)
        .from(mailboxes)
        .where(and(eq(mailboxes.address, address), gt(mailboxes.expiresAt, now)))
      return row ?? null
    },

    async findLiveMailboxByTokenHash(tokenHash, now) {
      const [row] = await db
        .select(mailboxColumns)
        .from(mailboxes)
        .where(and(eq(mailboxes.tokenHash, tokenHash), gt(mailboxes.expiresAt, now)))
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

    async deleteMailbox(id) {
      const deleted = await db.delete(mailboxes).where(eq(mailboxes.id, id)).returning({ id: mailboxes.id })
      return deleted.length > 0
    },

    async insertMessages(batch) {
      if (batch.length === 0) return
      await db.insert(messages).values(batch.map(toRow))
    },

    async listMessages(mailboxId, { limit, before }) {
      const rows = await db
        .select(summaryColumns)
        .from(messages)
        .where(
          before
            ? and(eq(messages.mailboxId, mailboxId), lt(messages.id, before))
            : eq(messages.mailboxId, mailboxId),
        )
        .orderBy(desc(messages.id))
        .limit(limit + 1)
      const items = rows.slice(0, limit).map(toSummary)
      return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null }
    },

    async findMessageOwner(id, now) {
      const [row] = await db
        .select({ mailboxId: messages.mailboxId })
        .from(messages)
        .where(liveMessage(id, now))
      return row?.mailboxId ?? null
    },

    async getMessage(id, now) {
      const [row] = await db
        .select({
          ...summaryColumns,
          envelope: messages.envelope,
          parsed: messages.parsed,
          parseError: messages.parseError,
          extraction: messages.extraction,
          authentication: messages.authentication,
          safeHtml: messages.safeHtml,
        })
        .from(messages)
        .where(liveMessage(id, now))
      if (!row) return null
      const { envelope, parsed, parseError, extraction, authentication, safeHtml, ...summary } = row
      return { ...toSummary(summary), envelope, parsed, parseError, extraction, authentication, safeHtml }
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

    async loadForProcessing(id) {
      const [row] = await db
        .select({
          id: messages.id,
          mailboxId: messages.mailboxId,
          raw: messages.raw,
          envelope: messages.envelope,
          parsed: messages.parsed,
          processedAt: messages.processedAt,
        })
        .from(messages)
        .where(eq(messages.id, id))
      if (!row) return null
      const { processedAt, raw, ...rest } = row
      return { ...rest, raw: new Uint8Array(raw), processed: processedAt !== null }
    },

    async saveProcessingResult(id, result, processedAt) {
      await db
        .update(messages)
        .set({
          otp: result.otp,
          link: result.link,
          extraction: result.extraction,
          authentication: result.authentication,
          safeHtml: result.safeHtml,
          processedAt,
          processingError: null,
        })
        .where(eq(messages.id, id))
    },

    async markProcessingFailed(id, error) {
      await db
        .update(messages)
        .set({ processingError: error })
        .where(and(eq(messages.id, id), isNull(messages.processedAt)))
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
