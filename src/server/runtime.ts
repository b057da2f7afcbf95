// Composition root: picks the plugins the config asks for, starts the requested roles, and stops them in order.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { PubSub } from '#contracts/pubsub.ts'
import type { DeliverWebhookJob, JobQueue } from '#contracts/queue.ts'
import type { Storage } from '#contracts/storage.ts'
import { createBearerAuth } from '#plugins/auth/bearer/index.ts'
import { createBuiltinExtractor, parseExtractionRules } from '#plugins/extractor/builtin/index.ts'
import { createSmtpIngest } from '#plugins/ingest/smtp/index.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createRedisPubSub } from '#plugins/pubsub/redis/index.ts'
import { createBullmqQueue } from '#plugins/queue/bullmq/index.ts'
import { createInlineQueue } from '#plugins/queue/inline/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createPostgresStorage } from '#plugins/storage/postgres/index.ts'
import { buildApp } from '#server/http/app.ts'
import { createEventHub } from '#server/live/event-hub.ts'
import { createExpirySweeper } from '#server/pipeline/expiry-sweeper.ts'
import { createIngestFunnel } from '#server/pipeline/ingest-funnel.ts'
import { createMailOffload } from '#server/pipeline/mail-offload.ts'
import { createMessageProcessor } from '#server/pipeline/message-processor.ts'
import {
  createSenderAuthenticator,
  systemResolver,
  withCache,
  withTimeout,
} from '#server/pipeline/sender-auth.ts'
import { createWebhookDeliverer, createWebhookDispatcher } from '#server/webhooks/webhook-delivery.ts'
import packageJson from '../../package.json' with { type: 'json' }
import { resolveAdminKeyHash } from './admin-key.ts'
import type { Config } from './config.ts'

/** How long in-flight HTTP requests may take to finish when the process stops. */
const SHUTDOWN_GRACE_MS = 5000

export interface RunningEphemail {
  storage: Storage
  /** Bound ports (null for a role not started); useful when the config asked for port 0. */
  httpPort: number | null
  smtpPort: number | null
  stop(): Promise<void>
}

export function openStorage(config: Config): Storage {
  if (config.databaseUrl)
    return createPostgresStorage({ url: config.databaseUrl, poolSize: config.databasePoolSize })
  mkdirSync(config.dataDir, { recursive: true })
  return createPgliteStorage({ dataDir: join(config.dataDir, 'pglite') })
}

export async function startEphemail(
  config: Config,
  {
    announceAdminKey = (key: string) => console.log(adminKeyBanner(key)),
  }: { announceAdminKey?: (key: string) => void } = {},
): Promise<RunningEphemail> {
  const storage = openStorage(config)
  await storage.migrate()
  const pubsub: PubSub = config.redisUrl
    ? createRedisPubSub({ url: config.redisUrl, channel: `${config.redisPrefix}:events` })
    : createMemoryPubSub()
  const adminKeyHash = await resolveAdminKeyHash(storage, config.adminKey, announceAdminKey)
  const auth = createBearerAuth({
    adminKeyHash,
    findMailboxByTokenHash: (tokenHash) => storage.findLiveMailboxByTokenHash(tokenHash, new Date()),
  })
  const queue: JobQueue = config.redisUrl
    ? createBullmqQueue({
        url: config.redisUrl,
        queueName: `${config.redisPrefix}-process-message`,
        attempts: config.worker.attempts,
      })
    : createInlineQueue({ attempts: config.worker.attempts })
  // Webhook deliveries: their own queue, so a slow receiver never holds up message processing.
  const webhookQueue: JobQueue<DeliverWebhookJob> = config.redisUrl
    ? createBullmqQueue<DeliverWebhookJob>({
        url: config.redisUrl,
        queueName: `${config.redisPrefix}-deliver-webhook`,
        attempts: config.webhooks.attempts,
        backoffMs: config.webhooks.backoffMs,
        backoffCapMs: config.webhooks.backoffCapMs,
        keyOf: (job) => job.deliveryId,
      })
    : createInlineQueue<DeliverWebhookJob>({
        attempts: config.webhooks.attempts,
        backoffMs: config.webhooks.backoffMs,
        backoffCapMs: config.webhooks.backoffCapMs,
        keyOf: (job) => job.deliveryId,
      })
  const webhooks = createWebhookDispatcher({ storage, queue: webhookQueue, pubsub })
  // Large messages are parsed and sanitised on a worker thread, shared by the funnel and the processor.
  const mail = createMailOffload()
  const processor = createMessageProcessor({
    storage,
    pubsub,
    extractor: createBuiltinExtractor(parseExtractionRules(config.worker.extractRules)),
    authenticateSender: createSenderAuthenticator({
      resolver: withCache(withTimeout(systemResolver, config.worker.dnsTimeoutMs)),
      mta: config.smtpHostname,
    }),
    afterProcessed: (event) => webhooks.dispatch(event),
    mail,
  })
  const stops: (() => Promise<void> | void)[] = [
    () => mail.close(),
    () => queue.close(),
    () => webhookQueue.close(),
  ]
  let httpPort: number | null = null
  let smtpPort: number | null = null

  if (config.roles.includes('worker')) {
    const sweeper = createExpirySweeper({ storage, pubsub, intervalMs: config.sweepIntervalMs })
    sweeper.start()
    stops.push(() => sweeper.stop())
    processor.start(queue, config.worker.concurrency)
    const deliver = createWebhookDeliverer({
      storage,
      policy: { allowedCidrs: config.webhooks.allowCidrs },
      timeoutMs: config.webhooks.timeoutMs,
      attempts: config.webhooks.attempts,
      userAgent: `Ephemail-Webhooks/${packageJson.version}`,
    })
    webhookQueue.work(deliver, {
      concurrency: config.webhooks.concurrency,
      onFinalFailure: (job) => storage.markWebhookDeliveryDead(job.deliveryId),
      group: {
        of: (job) => job.webhookId,
        limit: config.webhooks.concurrencyPerEndpoint,
        leaseMs: config.webhooks.timeoutMs * 2,
      },
    })
    // A delivery untouched for longer than any retry waits has lost its job (the process died).
    const deliveryStaleMs = config.webhooks.backoffCapMs * 1.5 + config.webhooks.timeoutMs + 60_000
    const recover = async () => {
      await processor.recover(queue)
      await webhooks.recover(deliveryStaleMs)
    }
    await recover()
    const recovery = setInterval(() => {
      recover().catch((error) => console.error('recovery scan failed', error))
    }, config.sweepIntervalMs)
    stops.push(() => clearInterval(recovery))
  }
  if (config.roles.includes('smtp')) {
    const funnel = createIngestFunnel({
      storage,
      pubsub,
      queue,
      domains: config.domains,
      maxMessageBytes: config.limits.maxMessageBytes,
      mail,
    })
    const smtp = createSmtpIngest({
      funnel,
      host: config.host,
      port: config.smtpPort,
      hostname: config.smtpHostname,
      maxMessageBytes: config.limits.maxMessageBytes,
      maxRecipients: config.limits.maxRecipients,
      maxClients: config.limits.smtpMaxClients,
      socketTimeoutMs: config.limits.smtpSocketTimeoutMs,
      sessionTimeoutMs: config.limits.smtpSessionTimeoutMs,
    })
    await smtp.start()
    smtpPort = smtp.port()
    stops.push(() => smtp.stop())
  }
  if (config.roles.includes('api')) {
    const hub = createEventHub({ pubsub, storage })
    const app = buildApp({ config, storage, pubsub, hub, auth, version: packageJson.version })
    // Elysia's own listen, so handlers see the Bun server (long-polls lift its idle timeout).
    app.listen({
      hostname: config.host,
      port: config.httpPort,
      // A little above the API limit so the app, not Bun, answers (with problem+json).
      maxRequestBodySize: config.limits.httpMaxBodyBytes + 1024,
    })
    httpPort = app.server?.port ?? null
    stops.push(async () => {
      // Streams and long-polls end first (clients resume elsewhere); then in-flight requests get a
      // grace period before the rest is cut.
      hub.close()
      const graceful = app.stop().then(() => true)
      if (!(await Promise.race([graceful, Bun.sleep(SHUTDOWN_GRACE_MS).then(() => false)])))
        await app.stop(true)
    })
  }

  return {
    storage,
    httpPort,
    smtpPort,
    async stop() {
      // Stop taking work first (reverse start order: API, SMTP, sweeper), then close storage.
      for (const stop of stops.reverse()) await stop()
      await pubsub.close()
      await storage.close()
    },
  }
}

function adminKeyBanner(key: string): string {
  return [
    '',
    '  A new admin key was generated. It is shown this once and stored only as a digest:',
    '',
    `    EPHEMAIL_ADMIN_KEY=${key}`,
    '',
    '  Use it as "Authorization: Bearer <key>". Set EPHEMAIL_ADMIN_KEY to choose your own.',
    '',
  ].join('\n')
}
