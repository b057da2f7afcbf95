// The webhook_deliveries table: one row per webhook and event, its attempts, recovery and cleanup.

import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import type { WebhookDeliveryStore } from '#contracts/storage.ts'
import { messages, webhookDeliveries, webhooks } from '#plugins/storage/schema.ts'
import type { Database } from './shared.ts'

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

export function createWebhookDeliveryQueries(db: Database): WebhookDeliveryStore {
  return {
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
  }
}
