// The one database schema (drizzle pg-core) that both storage drivers share; drizzle-kit makes the migrations from it.

import { sql } from 'drizzle-orm'
import {
  boolean,
  customType,
  index,
  integer,
  pgTable,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import type { ParsedMail } from '#lib/mail.ts'
import type {
  AuthenticationResult,
  Envelope,
  MessageExtraction,
  WebhookAttempt,
  WebhookDeliveryState,
  WebhookFilter,
} from '#lib/types.ts'
import { storableJson, storableText } from './storable.ts'

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
})

// Every text, json and jsonb column writes through storable.ts: the one place where values PostgreSQL
// cannot store (NUL, lone surrogates) are replaced. Raw statements bind through these columns too.
const text = customType<{ data: string; driverData: string }>({
  dataType: () => 'text',
  toDriver: storableText,
})

/** The driver may hand json back parsed (PGlite, Bun SQL) or as text. */
const fromJson = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value)

const json = customType<{ data: unknown; driverData: string }>({
  dataType: () => 'json',
  toDriver: storableJson,
  fromDriver: fromJson,
})

const jsonb = customType<{ data: unknown; driverData: string }>({
  dataType: () => 'jsonb',
  toDriver: storableJson,
  fromDriver: fromJson,
})

export const mailboxes = pgTable(
  'mailboxes',
  {
    id: uuid('id').primaryKey(),
    address: text('address').notNull(),
    localPart: text('local_part').notNull(),
    domain: text('domain').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    // The last event sequence number handed out for this mailbox (see src/lib/events.ts).
    eventSeq: integer('event_seq').notNull().default(0),
  },
  (table) => [
    uniqueIndex('mailboxes_address_key').on(table.address),
    uniqueIndex('mailboxes_token_hash_key').on(table.tokenHash),
    index('mailboxes_expires_at_idx').on(table.expiresAt),
  ],
)

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey(),
    mailboxId: uuid('mailbox_id')
      .notNull()
      .references(() => mailboxes.id, { onDelete: 'cascade' }),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    size: integer('size').notNull(),
    seen: boolean('seen').notNull().default(false),
    fromAddress: text('from_address'),
    fromName: text('from_name'),
    subject: text('subject'),
    hasAttachments: boolean('has_attachments').notNull().default(false),
    envelope: jsonb('envelope').$type<Envelope>().notNull(),
    // json, not jsonb: it is only ever written whole and read whole, and for a large message jsonb's
    // conversion both ways was a quarter of PostgreSQL's time (bench/README.md).
    parsed: json('parsed').$type<ParsedMail>(),
    parseError: text('parse_error'),
    raw: bytea('raw').notNull(),
    // Filled in by the process-messages job; null until it has run.
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'date' }),
    processingError: text('processing_error'),
    otp: text('otp'),
    link: text('link'),
    extraction: jsonb('extraction').$type<MessageExtraction>(),
    authentication: jsonb('authentication').$type<AuthenticationResult>(),
    safeHtml: text('safe_html'),
    // What processing skipped or gave up on (a stage past its limit), each with the limit.
    processingNotes: jsonb('processing_notes').$type<string[]>(),
    // The mailbox event numbers of this message's message.received and message.processed events.
    receivedSeq: integer('received_seq').notNull().default(0),
    processedSeq: integer('processed_seq'),
  },
  (table) => [
    // Ids are UUIDv7, so (mailbox_id, id DESC) is "newest first" and doubles as the cursor.
    index('messages_mailbox_id_id_idx').on(table.mailboxId, sql`${table.id} DESC`),
    // The worker's recovery scan: stored but never processed (e.g. the process died after the 250).
    index('messages_unprocessed_idx')
      .on(table.id)
      .where(sql`${table.processedAt} is null and ${table.processingError} is null`),
  ],
)

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})

/** A registered webhook: one mailbox's mail (mailbox_id set) or all mail (null, admin only). */
export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey(),
    mailboxId: uuid('mailbox_id').references(() => mailboxes.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    // Kept in the clear: every delivery is signed with it (Standard Webhooks, HMAC-SHA256).
    secret: text('secret').notNull(),
    filter: jsonb('filter').$type<WebhookFilter>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [index('webhooks_mailbox_id_idx').on(table.mailboxId)],
)

/** One event to one webhook: its signed payload, its state and every attempt made so far. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    // Also the webhook-id header: the same on every retry, so receivers can deduplicate.
    id: uuid('id').primaryKey(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: text('payload').notNull(),
    state: text('state').$type<WebhookDeliveryState>().notNull(),
    attempts: jsonb('attempts').$type<WebhookAttempt[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    // One delivery per webhook and event, however often the job that creates it runs.
    uniqueIndex('webhook_deliveries_event_key').on(table.webhookId, table.messageId, table.eventType),
    index('webhook_deliveries_webhook_id_id_idx').on(table.webhookId, sql`${table.id} DESC`),
    index('webhook_deliveries_unfinished_idx')
      .on(table.updatedAt)
      .where(sql`${table.state} in ('pending', 'retrying')`),
  ],
)
