// The webhooks table: register, list, read, delete, and find the ones that want a mailbox's mail.

import { and, desc, eq, isNull, or, sql } from 'drizzle-orm'
import type { WebhookStore } from '#contracts/storage.ts'
import { mailboxes, webhooks } from '#plugins/storage/schema.ts'
import { type Database, param } from './shared.ts'

const webhookColumns = {
  id: webhooks.id,
  mailboxId: webhooks.mailboxId,
  ownerKeyId: webhooks.ownerKeyId,
  address: mailboxes.address,
  url: webhooks.url,
  filter: webhooks.filter,
  format: webhooks.format,
  createdAt: webhooks.createdAt,
}

export function createWebhookQueries(db: Database): WebhookStore {
  const webhooksFor = db
    .select({ ...webhookColumns, secret: webhooks.secret })
    .from(webhooks)
    .leftJoin(mailboxes, eq(webhooks.mailboxId, mailboxes.id))
    .where(
      or(
        eq(webhooks.mailboxId, param('mailboxId')),
        // All-mail webhooks: the admin's (no owner) get every mailbox's mail, a key's only its own mailboxes'.
        and(
          isNull(webhooks.mailboxId),
          or(
            isNull(webhooks.ownerKeyId),
            sql`${webhooks.ownerKeyId} = (select owner_key_id from mailboxes where id = ${param('mailboxId')})`,
          ),
        ),
      ),
    )
    .prepare('webhooks_for_mailbox')

  return {
    async insertWebhook(webhook) {
      await db.insert(webhooks).values(webhook)
    },

    async listWebhooks(scope) {
      return db
        .select(webhookColumns)
        .from(webhooks)
        .leftJoin(mailboxes, eq(webhooks.mailboxId, mailboxes.id))
        .where(
          scope === 'all'
            ? undefined
            : 'mailboxId' in scope
              ? eq(webhooks.mailboxId, scope.mailboxId)
              : eq(webhooks.ownerKeyId, scope.ownerKeyId),
        )
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
  }
}
