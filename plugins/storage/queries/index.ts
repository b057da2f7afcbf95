// The storage operations written once against drizzle's pg-core API; each driver hands in its own database handle.

import { sql } from 'drizzle-orm'
import type { Storage } from '#contracts/storage.ts'
import { createApiKeyQueries } from './api-keys.ts'
import { createDomainQueries } from './domains.ts'
import { createMailboxEventQueries } from './mailbox-events.ts'
import { createMailboxQueries } from './mailboxes.ts'
import { createMessageQueries } from './messages.ts'
import { createProcessingQueries } from './processing.ts'
import { createRateCounterQueries } from './rate-counters.ts'
import { createSettingsQueries } from './settings.ts'
import { createIsoTexts, type Database, type DriverHooks } from './shared.ts'
import { createWebhookDeliveryQueries } from './webhook-deliveries.ts'
import { createWebhookQueries } from './webhooks.ts'

export type { Database, DriverHooks } from './shared.ts'

/** One flat object of plain functions, table by table: the PGlite driver wraps each to serialise calls. */
export function createDrizzleStorage(db: Database, hooks: DriverHooks): Storage {
  return {
    driver: hooks.driver,
    migrate: hooks.migrate,
    close: hooks.close,

    async ping() {
      await db.execute(sql`select 1`)
    },

    ...createMailboxQueries(db),
    ...createMailboxEventQueries(db),
    ...createMessageQueries(db, hooks, createIsoTexts()),
    ...createProcessingQueries(db, hooks),
    ...createWebhookQueries(db),
    ...createWebhookDeliveryQueries(db),
    ...createApiKeyQueries(db),
    ...createDomainQueries(db),
    ...createRateCounterQueries(db),
    ...createSettingsQueries(db),
  }
}
