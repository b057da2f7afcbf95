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

/**
 * An API key: only the SHA-256 of the secret is stored; `prefix` (the first characters) identifies it in
 * lists. Deleting the row revokes it: every request looks the digest up, so no process keeps using it.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    prefix: text('prefix').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    plan: text('plan').notNull(),
    // null: every domain the key's plan allows.
    allowedDomains: jsonb('allowed_domains').$type<string[] | null>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    // Written at most once a minute per key and process, so a busy key does not turn reads into writes.
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [uniqueIndex('api_keys_key_hash_key').on(table.keyHash)],
)

/** A receiving domain registered through the API (those from EPHEMAIL_DOMAINS are not stored). */
export const domains = pgTable('domains', {
  name: text('name').primaryKey(),
  type: text('type').$type<'public' | 'custom' | 'premium'>().notNull(),
  // null: every caller whose plan allows the type; else only these key ids.
  privateToKeys: jsonb('private_to_keys').$type<string[] | null>(),
  status: text('status').$type<'pending' | 'verified'>().notNull(),
  // What the last MX check found wrong (empty when verified), and the MX hosts it saw.
  problems: jsonb('problems').$type<string[]>().notNull(),
  mxHosts: jsonb('mx_hosts').$type<string[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  checkedAt: timestamp('checked_at', { withTimezone: true, mode: 'date' }),
  verifiedAt: timestamp('verified_at', { withTimezone: true, mode: 'date' }),
})

/** Fixed-window counters for rate limits when several processes share PostgreSQL but no Redis. */
export const rateCounters = pgTable('rate_counters', {
  key: text('key').primaryKey(),
  windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
  count: integer('count').notNull(),
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
    // The API key that created it (null: anonymous or the admin key). A deleted key leaves its mailboxes
    // to their own tokens and the admin until they expire.
    ownerKeyId: uuid('owner_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    // Messages it may hold at once (from the creator's plan); null: no limit.
    messageLimit: integer('message_limit'),
  },
  (table) => [
    index('mailboxes_owner_key_id_idx').on(table.ownerKeyId),
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
    // Which ingest source delivered it (smtp, http:mailgun, imap:NAME, ...), shown in the API.
    source: text('source').notNull().default('smtp'),
    // A redelivery's identity (provider message id, IMAP UIDVALIDITY+UID, Message-ID): stored once per mailbox.
    dedupeKey: text('dedupe_key'),
  },
  (table) => [
    // Ids are UUIDv7, so (mailbox_id, id DESC) is "newest first" and doubles as the cursor.
    index('messages_mailbox_id_id_idx').on(table.mailboxId, sql`${table.id} DESC`),
    // The worker's recovery scan: stored but never processed (e.g. the process died after the 250).
    index('messages_unprocessed_idx')
      .on(table.id)
      .where(sql`${table.processedAt} is null and ${table.processingError} is null`),
    // The funnel looks a redelivery up here first; the index refuses the one that races past that look-up.
    uniqueIndex('messages_mailbox_dedupe_key_idx')
      .on(table.mailboxId, table.dedupeKey)
      .where(sql`${table.dedupeKey} is not null`),
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
    // The API key that registered it; with mailbox_id null it gets the mail of that key's mailboxes only.
    // Gone with its key, so it can never widen into an all-mail webhook.
    ownerKeyId: uuid('owner_key_id').references(() => apiKeys.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    // Kept in the clear: every delivery is signed with it (Standard Webhooks, HMAC-SHA256).
    secret: text('secret').notNull(),
    filter: jsonb('filter').$type<WebhookFilter>().notNull(),
    // The delivery body's shape: 'standard', or the compatibility layer that registered it.
    format: text('format').notNull().default('standard'),
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
