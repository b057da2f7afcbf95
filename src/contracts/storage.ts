// Storage contract: every driver (PostgreSQL, PGlite) offers exactly these operations, grouped by table.

import type { MailboxEvent } from '#lib/events.ts'
import type { ParsedMail } from '#lib/mail.ts'
import type {
  ApiKey,
  Envelope,
  Mailbox,
  MessageSummary,
  ProcessingResult,
  RegisteredDomain,
  StoredMessage,
  Webhook,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryState,
} from '#lib/types.ts'

export interface StorageLifecycle {
  readonly driver: 'postgres' | 'pglite'
  /** Applies pending migrations; safe when several processes start together. */
  migrate(): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface NewMailbox extends Omit<Mailbox, 'ownerKeyId'> {
  /** SHA-256 of the mailbox's bearer token; the token itself is never stored. */
  tokenHash: string
  /** The API key creating it; absent or null: anonymous or the admin key. */
  ownerKeyId?: string | null
  /** Messages it may hold at once (from the creator's plan); absent or null: no limit. */
  messageLimit?: number | null
}

export interface MailboxChange {
  localPart: string
  domain: string
  address: string
  expiresAt: Date
}

export interface ExpiredBatch {
  /** Mailboxes deleted in this call (their messages went first). */
  mailboxIds: string[]
  messagesDeleted: number
}

/** Reads take `now` so that a mailbox past its expiry is invisible at once, before the sweeper deletes it. */
export interface MailboxStore {
  insertMailbox(mailbox: NewMailbox): Promise<'created' | 'address-taken'>
  findLiveMailboxByAddress(address: string, now: Date): Promise<Mailbox | null>
  findLiveMailboxByTokenHash(tokenHash: string, now: Date): Promise<Mailbox | null>
  findLiveMailboxesByAddresses(addresses: string[], now: Date): Promise<Mailbox[]>
  findLiveMailboxById(id: string, now: Date): Promise<Mailbox | null>
  updateMailbox(id: string, change: MailboxChange): Promise<Mailbox | 'address-taken' | null>
  deleteMailbox(id: string): Promise<boolean>
  /** Live mailboxes of one API key (or, null, of every owner), newest first. */
  listLiveMailboxes(ownerKeyId: string | null, now: Date, limit: number): Promise<Mailbox[]>
  /** Mailboxes the key created since `since`: the mailboxes-per-hour budget, counted from the truth. */
  countMailboxesCreatedSince(ownerKeyId: string, since: Date): Promise<number>
  /**
   * Of `mailboxIds`, those holding at least their message limit (full): a recipient of a full
   * mailbox is refused at RCPT. Mailboxes without a limit are never full.
   */
  findFullMailboxes(mailboxIds: string[]): Promise<string[]>
  /**
   * One bounded sweep step: deletes up to `batchSize` messages of expired mailboxes, then (when
   * those are gone) up to `batchSize` expired mailboxes. Call again while a step comes back full.
   */
  deleteExpired(now: Date, batchSize: number): Promise<ExpiredBatch>
}

/** Each mailbox numbers its events (message.received, message.processed) with a counter of its own. */
export interface MailboxEventStore {
  /** The last event number handed out for the mailbox; null when it does not exist. */
  currentEventSeq(mailboxId: string): Promise<number | null>
  /** The mailbox's stored events numbered after `afterSeq` (and up to `upToSeq`), in order: replay and gap filling. */
  listMailboxEvents(mailboxId: string, afterSeq: number, upToSeq?: number | null): Promise<MailboxEvent[]>
}

export interface NewMessage {
  id: string
  mailboxId: string
  receivedAt: Date
  raw: Uint8Array
  envelope: Envelope
  parsed: ParsedMail | null
  parseError: string | null
  /** Which ingest source delivered it (`smtp`, `http:mailgun`, `imap:NAME`, ...). */
  source: string
  /** Unique per mailbox when set: a second message with the same key is refused (DuplicateMessageError). */
  dedupeKey: string | null
}

/** `insertMessages` refused a message whose (mailbox, dedupeKey) is already stored: nothing of the batch was written. */
export class DuplicateMessageError extends Error {
  override name = 'DuplicateMessageError'
}

export interface MessagePage {
  items: MessageSummary[]
  /** Pass as `before` to get the next (older) page; null on the last page. */
  nextCursor: string | null
}

/** Reads and changes take `now`: a message is visible only while its mailbox is live. */
export interface MessageStore {
  /**
   * Writes all messages in one transaction: all are stored or none is. Returns each message's
   * `message.received` event number, allocated from its mailbox's counter in the same transaction.
   */
  insertMessages(messages: NewMessage[]): Promise<number[]>
  /** Messages of these mailboxes already stored under `dedupeKey` (live or not), one per mailbox at most. */
  findByDedupeKey(
    dedupeKey: string,
    mailboxIds: string[],
  ): Promise<{ mailboxId: string; messageId: string }[]>
  /** Newest first; `before` pages back, `after` keeps only messages newer than that id. */
  listMessages(
    mailboxId: string,
    options: { limit: number; before?: string; after?: string },
  ): Promise<MessagePage>
  /** The mailbox a live message belongs to: a cheap ownership check before changing it. */
  findMessageOwner(id: string, now: Date): Promise<string | null>
  getMessage(id: string, now: Date): Promise<StoredMessage | null>
  getRawMessage(id: string, now: Date): Promise<{ mailboxId: string; raw: Uint8Array<ArrayBuffer> } | null>
  setMessageSeen(id: string, seen: boolean, now: Date): Promise<MessageSummary | null>
  deleteMessage(id: string, now: Date): Promise<boolean>
  deleteMessagesOfMailbox(mailboxId: string): Promise<number>
}

export interface ProcessingInput {
  id: string
  mailboxId: string
  raw: Uint8Array<ArrayBuffer>
  envelope: Envelope
  parsed: ParsedMail | null
  processed: boolean
  /** Number of the message.processed event, once processed. */
  processedSeq: number | null
}

export interface ProcessingOutcome {
  id: string
  result: ProcessingResult
  processedAt: Date
}

export interface SavedProcessingResult {
  id: string
  /** Number of the message.processed event. */
  seq: number
  receivedAt: Date
}

export interface LatestOtp {
  messageId: string
  otp: string | null
  link: string | null
  from: MessageSummary['from']
  subject: string | null
  receivedAt: Date
}

/** What the process-messages worker reads and writes on messages. */
export interface ProcessingStore {
  /** What the process-messages job needs, for those of `ids` that still exist (in no particular order). */
  loadForProcessing(ids: string[]): Promise<ProcessingInput[]>
  /**
   * Saves the results in one statement and numbers each `message.processed` event (in arrival order within
   * a mailbox). A message that is gone or was already processed by another run is left out of the
   * answer (and uses up no number).
   */
  saveProcessingResults(results: ProcessingOutcome[]): Promise<SavedProcessingResult[]>
  /** Records why processing gave up, on those of `ids` not processed meanwhile. */
  markProcessingFailed(ids: string[], error: string): Promise<void>
  /** Messages stored before `storedBefore` whose job never finished: the worker re-enqueues them at start. */
  findUnprocessed(storedBefore: Date, limit: number): Promise<string[]>
  /** The newest processed message with a code or a link, received after `since`. */
  findLatestOtp(mailboxId: string, since: Date | null): Promise<LatestOtp | null>
}

export interface NewWebhook extends Omit<Webhook, 'address' | 'ownerKeyId' | 'format'> {
  secret: string
  /** Absent: `standard`. */
  format?: string
  /** The API key registering it; absent or null: the admin key or a mailbox token. */
  ownerKeyId?: string | null
}

export interface WebhookStore {
  insertWebhook(webhook: NewWebhook): Promise<void>
  /** Every webhook, one mailbox's, or those an API key registered; newest first. */
  listWebhooks(scope: 'all' | { mailboxId: string } | { ownerKeyId: string }): Promise<Webhook[]>
  getWebhook(id: string): Promise<Webhook | null>
  deleteWebhook(id: string): Promise<boolean>
  countWebhooksOfMailbox(mailboxId: string): Promise<number>
  /**
   * The webhooks that may want this mailbox's mail, with secrets: its own, the admin's all-mail ones,
   * and the all-mail ones of the key that owns it.
   */
  findWebhooksForMailbox(mailboxId: string): Promise<(Webhook & { secret: string })[]>
}

export interface NewWebhookDelivery {
  id: string
  webhookId: string
  messageId: string
  eventType: string
  payload: string
  createdAt: Date
}

export interface WebhookDeliveryStore {
  /**
   * Creates one delivery per webhook for an event unless it exists (a repeated run creates none);
   * returns every delivery of that event for those webhooks that is not finished yet.
   */
  createWebhookDeliveries(deliveries: NewWebhookDelivery[]): Promise<{ id: string; webhookId: string }[]>
  /** A delivery with what sending it needs; null when it (or its webhook) is gone. */
  loadWebhookDelivery(
    id: string,
  ): Promise<{ delivery: WebhookDelivery; payload: string; url: string; secret: string } | null>
  /** Gives up on a delivery (its job used up its attempts). */
  markWebhookDeliveryDead(id: string): Promise<void>
  /** Appends an attempt and sets the state. */
  recordWebhookAttempt(id: string, attempt: WebhookAttempt, state: WebhookDeliveryState): Promise<void>
  listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>
  /** Deliveries not finished and untouched since `updatedBefore`: their job may be lost (recovery). */
  findUnfinishedWebhookDeliveries(
    updatedBefore: Date,
    limit: number,
  ): Promise<{ id: string; webhookId: string }[]>
  /** Deletes up to `batchSize` finished deliveries whose message is gone (their payload holds its summary). */
  deleteOrphanedWebhookDeliveries(batchSize: number): Promise<number>
}

export interface NewApiKey extends ApiKey {
  /** SHA-256 (hex) of the key; the key itself is never stored. */
  keyHash: string
}

export interface ApiKeyChange {
  name?: string
  scopes?: ApiKey['scopes']
  plan?: string
  allowedDomains?: string[] | null
  expiresAt?: Date | null
}

export interface ApiKeyStore {
  insertApiKey(key: NewApiKey): Promise<void>
  /** The key whose digest this is, unless it expired by `now`. */
  findApiKeyByHash(keyHash: string, now: Date): Promise<ApiKey | null>
  getApiKey(id: string): Promise<ApiKey | null>
  /** Newest first. */
  listApiKeys(): Promise<ApiKey[]>
  updateApiKey(id: string, change: ApiKeyChange): Promise<ApiKey | null>
  /** Revokes: the key stops working at once; its webhooks go, its mailboxes stay until they expire. */
  deleteApiKey(id: string): Promise<boolean>
  touchApiKey(id: string, usedAt: Date): Promise<void>
}

export interface DomainCheckOutcome {
  status: RegisteredDomain['status']
  problems: string[]
  mxHosts: string[]
  checkedAt: Date
}

export interface DomainStore {
  /** 'exists' when the name is registered already. */
  insertDomain(domain: RegisteredDomain): Promise<'created' | 'exists'>
  getDomain(name: string): Promise<RegisteredDomain | null>
  listDomains(): Promise<RegisteredDomain[]>
  /** Records a check; `verifiedAt` is set the first time it passes. */
  recordDomainCheck(name: string, outcome: DomainCheckOutcome): Promise<RegisteredDomain | null>
  deleteDomain(name: string): Promise<boolean>
}

export interface RateCounterStore {
  /**
   * Adds `cost` to the counter `key` in the fixed window starting at `windowStart` (a counter of an
   * older window restarts), in one atomic statement; returns the count after adding. A negative cost
   * (a hit given back) never takes a counter below zero.
   */
  incrementRateCounter(key: string, windowStart: Date, cost: number): Promise<number>
  /** Drops counters of windows that started before `before`. */
  deleteRateCountersBefore(before: Date): Promise<number>
}

export interface SettingsStore {
  getSetting(key: string): Promise<string | null>
  /** Stores the value unless the key exists; returns whichever value is stored afterwards. */
  putSettingIfAbsent(key: string, value: string): Promise<string>
}

/** Everything a driver offers; code that needs only one table may ask for that table's store. */
export interface Storage
  extends StorageLifecycle,
    MailboxStore,
    MailboxEventStore,
    MessageStore,
    ProcessingStore,
    WebhookStore,
    WebhookDeliveryStore,
    ApiKeyStore,
    DomainStore,
    RateCounterStore,
    SettingsStore {}

/** Every storage plugin exports `create` of this type. */
export type StorageFactory<Options> = (options: Options) => Storage
