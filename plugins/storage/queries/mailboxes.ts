// The mailboxes table: create, look up while live, rename, delete, and the bounded expiry sweep.

import { and, desc, eq, gt, gte, inArray, isNotNull, lte, sql } from 'drizzle-orm'
import type { MailboxChange, MailboxStore, NewMailbox } from '#contracts/storage.ts'
import type { Mailbox } from '#lib/types.ts'
import { mailboxes, messages } from '#plugins/storage/schema.ts'
import { type Database, isUniqueViolation, param } from './shared.ts'

const mailboxColumns = {
  id: mailboxes.id,
  address: mailboxes.address,
  localPart: mailboxes.localPart,
  domain: mailboxes.domain,
  createdAt: mailboxes.createdAt,
  expiresAt: mailboxes.expiresAt,
  ownerKeyId: mailboxes.ownerKeyId,
}

export function createMailboxQueries(db: Database): MailboxStore {
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

  return {
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

    async listLiveMailboxes(ownerKeyId, now, limit) {
      return db
        .select(mailboxColumns)
        .from(mailboxes)
        .where(
          and(
            gt(mailboxes.expiresAt, now),
            ownerKeyId === null ? undefined : eq(mailboxes.ownerKeyId, ownerKeyId),
          ),
        )
        .orderBy(desc(mailboxes.createdAt))
        .limit(limit)
    },

    async countMailboxesCreatedSince(ownerKeyId, since) {
      const [row] = await db
        .select({ count: sql<number>`count(*)::integer` })
        .from(mailboxes)
        .where(and(eq(mailboxes.ownerKeyId, ownerKeyId), gte(mailboxes.createdAt, since)))
      return row?.count ?? 0
    },

    async findFullMailboxes(mailboxIds) {
      if (mailboxIds.length === 0) return []
      // Only mailboxes with a limit are counted, and each count stops at the limit.
      const rows = await db
        .select({ id: mailboxes.id })
        .from(mailboxes)
        .where(
          and(
            inArray(mailboxes.id, mailboxIds),
            isNotNull(mailboxes.messageLimit),
            sql`(select count(*) from (select 1 from ${messages} where ${messages.mailboxId} = ${mailboxes.id} limit ${mailboxes.messageLimit}) held) >= ${mailboxes.messageLimit}`,
          ),
        )
      return rows.map((row) => row.id)
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
  }
}
