// The plugin registry: every plugin by kind and name, and which ones (with which options) a config selects.

import type { CredentialStyle } from '#contracts/auth.ts'
import type { Extractor } from '#contracts/extractor.ts'
import type { IngestContext, IngestSource } from '#contracts/ingest.ts'
import type { PubSub } from '#contracts/pubsub.ts'
import type { JobQueue, QueueSpec } from '#contracts/queue.ts'
import type { RateLimiter } from '#contracts/rate-limit.ts'
import type { Storage } from '#contracts/storage.ts'
import type { CompatApiFactory, WebhookPayloadBuilder } from '#core/compat.ts'
import { parseExtractionRules } from '#lib/extraction-rules.ts'
import * as accessTokenStyle from '#plugins/auth/access-token/index.ts'
import * as bearerStyle from '#plugins/auth/bearer/index.ts'
import * as headerStyle from '#plugins/auth/header/index.ts'
import * as queryStyle from '#plugins/auth/query/index.ts'
import * as tempmailIoCompat from '#plugins/compat/tempmail-io/index.ts'
import * as tempmailV1Compat from '#plugins/compat/tempmail-v1/index.ts'
import * as tempmailWorkerCompat from '#plugins/compat/tempmail-worker/index.ts'
import * as tempmailgCompat from '#plugins/compat/tempmailg/index.ts'
import * as builtinExtractor from '#plugins/extractor/builtin/index.ts'
import * as httpIngest from '#plugins/ingest/http/index.ts'
import * as imapIngest from '#plugins/ingest/imap/index.ts'
import * as smtpIngest from '#plugins/ingest/smtp/index.ts'
import * as smtpBunIngest from '#plugins/ingest/smtp-bun/index.ts'
import * as memoryPubSub from '#plugins/pubsub/memory/index.ts'
import * as redisPubSub from '#plugins/pubsub/redis/index.ts'
import * as bullmqQueue from '#plugins/queue/bullmq/index.ts'
import * as inlineQueue from '#plugins/queue/inline/index.ts'
import * as memoryLimiter from '#plugins/ratelimit/memory/index.ts'
import * as redisLimiter from '#plugins/ratelimit/redis/index.ts'
import * as storageLimiter from '#plugins/ratelimit/storage/index.ts'
import * as pgliteStorage from '#plugins/storage/pglite/index.ts'
import * as postgresStorage from '#plugins/storage/postgres/index.ts'
import type { CompatName, Config } from './config.ts'

/** Every plugin module exports `name` and `create` (typed by its kind's factory in src/contracts). */
export const PLUGINS = {
  storage: { postgres: postgresStorage, pglite: pgliteStorage },
  queue: { bullmq: bullmqQueue, inline: inlineQueue },
  pubsub: { redis: redisPubSub, memory: memoryPubSub },
  auth: { bearer: bearerStyle, header: headerStyle, query: queryStyle, 'access-token': accessTokenStyle },
  ingest: { smtp: smtpIngest, 'smtp-bun': smtpBunIngest, http: httpIngest, imap: imapIngest },
  extractor: { builtin: builtinExtractor },
  ratelimit: { redis: redisLimiter, memory: memoryLimiter, storage: storageLimiter },
  compat: {
    'tempmail-io': tempmailIoCompat,
    'tempmail-v1': tempmailV1Compat,
    tempmailg: tempmailgCompat,
    'tempmail-worker': tempmailWorkerCompat,
  } satisfies Record<
    CompatName,
    { create: CompatApiFactory; webhookPayloads?: Readonly<Record<string, WebhookPayloadBuilder>> }
  >,
} as const

/**
 * Every webhook body format the compat plugins build, whether or not EPHEMAIL_COMPAT mounts them now:
 * a webhook registered through a layer keeps its documented body after the layer is switched off.
 */
export function webhookPayloadFormats(): Record<string, WebhookPayloadBuilder> {
  const formats: Record<string, WebhookPayloadBuilder> = {}
  for (const plugin of Object.values(PLUGINS.compat))
    if ('webhookPayloads' in plugin) Object.assign(formats, plugin.webhookPayloads)
  return formats
}

/** A queue maker: the plugin chosen once, each queue then made from the core's spec. */
export type MakeQueue = <Job extends object>(spec: QueueSpec<Job>) => JobQueue<Job>

/** The plugins of one process, created (or, for queues and ingest sources, ready to be created). */
export interface Plugins {
  storage: Storage
  pubsub: PubSub
  makeQueue: MakeQueue
  /** In order of precedence. */
  styles: CredentialStyle[]
  extractor: Extractor
  /** Rate-limit counters: shared through Redis when there is one, else this process's own. */
  limiter: RateLimiter
  /** Ingest sources are made once the funnel exists; each runs only in the roles that take mail. */
  ingest: { name: string; make(context: IngestContext): IngestSource }[]
  /** Compatibility layers to mount on the API (EPHEMAIL_COMPAT), each with its prefix. */
  compat: { name: string; prefix: string; create: CompatApiFactory }[]
}

/**
 * The plugins `config` selects, with options mapped from the one validated Config (so every setting
 * is parsed, defaulted and reported in one place). Pass `overrides` to swap one (tests, the OpenAPI
 * generator's in-memory storage).
 */
export function createPlugins(config: Config, overrides: Partial<Plugins> = {}): Plugins {
  const redis = config.redisUrl
  const storage =
    overrides.storage ??
    (config.databaseUrl
      ? PLUGINS.storage.postgres.create({ url: config.databaseUrl, poolSize: config.databasePoolSize })
      : PLUGINS.storage.pglite.create({ dataDir: `${config.dataDir}/pglite` }))
  const pubsub =
    overrides.pubsub ??
    (redis
      ? PLUGINS.pubsub.redis.create({ url: redis, channel: `${config.redisPrefix}:events` })
      : PLUGINS.pubsub.memory.create({}))
  const makeQueue: MakeQueue =
    overrides.makeQueue ??
    (redis
      ? (spec) => PLUGINS.queue.bullmq.create({ url: redis, prefix: config.redisPrefix }, spec)
      : (spec) => PLUGINS.queue.inline.create({}, spec))
  const limiter =
    overrides.limiter ??
    (redis
      ? PLUGINS.ratelimit.redis.create({ url: redis, prefix: config.redisPrefix })
      : PLUGINS.ratelimit.memory.create({}))
  // EPHEMAIL_INGEST's sources, each made with its options once the funnel exists.
  // EPHEMAIL_SMTP_SERVER: both front ends take the same options and give the same replies.
  const smtpFrontEnd = config.smtpServer === 'bun' ? PLUGINS.ingest['smtp-bun'] : PLUGINS.ingest.smtp
  const ingestMakers: Record<Config['ingest'][number], (context: IngestContext) => IngestSource> = {
    smtp: (context) =>
      smtpFrontEnd.create(
        {
          host: config.host,
          port: config.smtpPort,
          hostname: config.smtpHostname,
          maxMessageBytes: config.limits.maxMessageBytes,
          maxRecipients: config.limits.maxRecipients,
          maxClients: config.limits.smtpMaxClients,
          maxClientsPerAddress: config.limits.smtpMaxClientsPerAddress,
          socketTimeoutMs: config.limits.smtpSocketTimeoutMs,
          sessionTimeoutMs: config.limits.smtpSessionTimeoutMs,
          tls: config.smtpTls,
          implicitTlsPort: config.smtpsPort,
          connectionsPerMinutePerAddress: config.limits.smtpConnectionsPerMinutePerAddress,
          messagesPerHourPerAddress: config.limits.smtpMessagesPerHourPerAddress,
        },
        context,
      ),
    http: (context) =>
      PLUGINS.ingest.http.create(
        {
          secret: config.inbound.secret as string,
          mailgunSigningKey: config.inbound.mailgunSigningKey,
          sendgridPublicKey: config.inbound.sendgridPublicKey,
          postmark: config.inbound.postmark,
          maxBodyBytes: config.inbound.maxBodyBytes,
          maxRecipients: config.limits.maxRecipients,
        },
        context,
      ),
    imap: (context) =>
      PLUGINS.ingest.imap.create(
        {
          accounts: config.imap.accounts,
          after: config.imap.after,
          pollIntervalMs: config.imap.pollSeconds * 1000,
          idle: config.imap.idle,
          maxMessageBytes: config.limits.maxMessageBytes,
          maxRecipients: config.limits.maxRecipients,
          tlsCa: config.imap.tlsCa,
        },
        context,
      ),
  }
  return {
    storage,
    pubsub,
    makeQueue,
    limiter,
    // EPHEMAIL_AUTH's styles in its order, then access_token, which only the stream routes honour.
    styles: overrides.styles ?? [
      ...config.authStyles.map((style) => PLUGINS.auth[style].create({})),
      PLUGINS.auth['access-token'].create({}),
    ],
    extractor:
      overrides.extractor ??
      PLUGINS.extractor.builtin.create({
        rules: parseExtractionRules(config.worker.extractRules),
      }),
    compat:
      overrides.compat ??
      config.compat.map(({ name, prefix }) => ({ name, prefix, create: PLUGINS.compat[name].create })),
    ingest:
      overrides.ingest ??
      config.ingest.map((source) => ({
        name: source === 'smtp' ? smtpFrontEnd.name : source,
        make: ingestMakers[source],
      })),
  }
}
