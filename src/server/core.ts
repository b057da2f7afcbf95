// createCore: the one composition of Ephemail (plugins, core operations, funnel, processor, HTTP app), used by the runtime, the tests and the OpenAPI generator.

import type { IngestFunnel, IngestSource } from '#contracts/ingest.ts'
import type { PubSub } from '#contracts/pubsub.ts'
import type { DeliverWebhookJob, JobQueue } from '#contracts/queue.ts'
import type { Storage } from '#contracts/storage.ts'
import { type Authenticator, createAuthenticator } from '#core/authenticate.ts'
import type { CoreDeps } from '#core/context.ts'
import type { MxResolver } from '#core/domain-check.ts'
import { adminKeyResolver, apiKeyResolver, mailboxTokenResolver } from '#core/principals.ts'
import { ProblemError } from '#lib/problem.ts'
import { resolveAdminKeyHash } from './admin-key.ts'
import type { Config } from './config.ts'
import { type App, buildApp } from './http/app.ts'
import type { EventHub } from './live/event-hub.ts'
import { createAuthOffload } from './pipeline/auth-offload.ts'
import { createDomainCatalog, type LiveDomainCatalog } from './pipeline/domain-catalog.ts'
import { createIngestFunnel } from './pipeline/ingest-funnel.ts'
import { createLiveMailboxes, type LiveMailboxes } from './pipeline/live-mailboxes.ts'
import { createMailOffload, type MailWork } from './pipeline/mail-offload.ts'
import { createMessageProcessor } from './pipeline/message-processor.ts'
import { createMxResolver } from './pipeline/mx-resolver.ts'
import {
  createSenderAuthenticator,
  type DnsResolver,
  systemResolver,
  VERDICT_CACHE_MS,
  withCache,
  withTimeout,
} from './pipeline/sender-auth.ts'
import { createPlugins, type Plugins, webhookPayloadFormats } from './plugins.ts'
import { checkOutboundUrl, OutboundBlockedError } from './webhooks/address-policy.ts'
import { createWebhookDispatcher } from './webhooks/webhook-delivery.ts'

export interface CoreOptions {
  /** Swap plugins (tests; the OpenAPI generator's in-memory storage). */
  plugins?: Partial<Plugins>
  /** DNS for sender authentication; default: the system's, with a deadline and a cache. */
  resolver?: DnsResolver
  /** DNS for the MX check of registered domains; default: EPHEMAIL_DOMAIN_DNS_SERVERS or the system's. */
  mxResolver?: MxResolver
  /** Where large messages are parsed and sanitised; default: one worker thread. */
  mail?: MailWork
  /** Called once with a newly generated admin key (the only time it exists in clear text). */
  announceAdminKey?: (key: string) => void
  version: string
  now?: () => Date
}

export interface EphemailCore {
  readonly config: Config
  readonly storage: Storage
  readonly pubsub: PubSub
  readonly auth: Authenticator
  /** What the core operations (src/core) are called with, by every door. */
  readonly deps: CoreDeps
  readonly liveMailboxes: LiveMailboxes
  /** Served domains in memory (also `deps.domains`); the runtime starts its periodic reload. */
  readonly domainCatalog: LiveDomainCatalog
  /** process-messages jobs. */
  readonly queue: JobQueue
  readonly webhookQueue: JobQueue<DeliverWebhookJob>
  readonly funnel: IngestFunnel
  readonly processor: ReturnType<typeof createMessageProcessor>
  readonly webhooks: ReturnType<typeof createWebhookDispatcher>
  /** Created, not started: the runtime starts them in the roles that take mail. */
  readonly ingestSources: readonly IngestSource[]
  /**
   * The HTTP API (with every ingest source's routes); pass the hub to close it on shutdown. `metered:
   * false` leaves out request metering (benchmarks compare against it; not a setting).
   */
  buildApp(options?: { hub?: EventHub; metered?: boolean }): App
  /** Closes queues, the offload thread, pub/sub and storage (stop the roles first). */
  close(): Promise<void>
}

export async function createCore(config: Config, options: CoreOptions): Promise<EphemailCore> {
  const now = options.now ?? (() => new Date())
  const plugins = createPlugins(config, options.plugins)
  const { storage, pubsub } = plugins
  await storage.migrate()
  const adminKeyHash = await resolveAdminKeyHash(
    storage,
    config.adminKey,
    options.announceAdminKey ?? (() => {}),
  )
  const resolvers = [
    adminKeyResolver(adminKeyHash),
    apiKeyResolver({
      findApiKeyByHash: (digest, at) => storage.findApiKeyByHash(digest, at),
      touchApiKey: (id, at) => storage.touchApiKey(id, at),
      now,
    }),
    mailboxTokenResolver((digest) => storage.findLiveMailboxByTokenHash(digest, now())),
  ]
  const auth = createAuthenticator({ styles: plugins.styles, resolvers })
  // One live-mailbox memory per process, shared by the funnel (RCPT, DATA) and the API's lookups.
  const liveMailboxes = createLiveMailboxes({ storage, pubsub })
  const webhookPolicy = { allowedCidrs: config.webhooks.allowCidrs }
  // Configured and verified registered domains, kept current by domains.changed events.
  const domainCatalog = createDomainCatalog({ storage, pubsub, configured: config.domains })
  await domainCatalog.refresh()
  const deps: CoreDeps = {
    settings: config,
    domains: domainCatalog,
    storage,
    pubsub,
    mailboxes: liveMailboxes,
    checkWebhookUrl: (url) => checkWebhookUrl(url, webhookPolicy),
    mxResolver:
      options.mxResolver ??
      createMxResolver({ servers: config.domainChecks.dnsServers, timeoutMs: config.worker.dnsTimeoutMs }),
    now,
  }
  const queue = plugins.makeQueue<{ messageIds: string[] }>({
    name: 'process-message',
    attempts: config.worker.attempts,
  })
  // Webhook deliveries: their own queue, so a slow receiver never holds up message processing.
  const webhookQueue = plugins.makeQueue<DeliverWebhookJob>({
    name: 'deliver-webhook',
    attempts: config.webhooks.attempts,
    backoffMs: config.webhooks.backoffMs,
    backoffCapMs: config.webhooks.backoffCapMs,
    keyOf: (job) => job.deliveryId,
  })
  const webhooks = createWebhookDispatcher({
    storage,
    queue: webhookQueue,
    pubsub,
    payloadFormats: webhookPayloadFormats(),
  })
  // Large messages are parsed and sanitised on a worker thread, shared by the funnel and the processor.
  const mail = options.mail ?? createMailOffload()
  // Large signed messages are authenticated on a thread of their own (mailauth hashes the body in JavaScript).
  const authOffload = createAuthOffload()
  const processor = createMessageProcessor({
    storage,
    pubsub,
    extractor: plugins.extractor,
    authenticateSender: createSenderAuthenticator({
      resolver: options.resolver ?? withCache(withTimeout(systemResolver, config.worker.dnsTimeoutMs)),
      mta: config.smtpHostname,
      // Verdicts are reused only over the cached system resolver; a given resolver may change its answers.
      verdictCacheMs: options.resolver ? 0 : VERDICT_CACHE_MS,
      offload: authOffload,
    }),
    afterProcessed: (event) => webhooks.dispatch(event),
    mail,
  })
  const funnel = createIngestFunnel({
    storage,
    pubsub,
    queue,
    domains: domainCatalog,
    maxMessageBytes: config.limits.maxMessageBytes,
    mail,
    liveMailboxes,
  })
  const ingestSources = plugins.ingest.map((source) => source.make({ funnel, limiter: plugins.limiter }))

  return {
    config,
    storage,
    pubsub,
    auth,
    deps,
    liveMailboxes,
    domainCatalog,
    queue,
    webhookQueue,
    funnel,
    processor,
    webhooks,
    ingestSources,
    buildApp: ({ hub, metered = true } = {}) =>
      buildApp({
        config,
        core: deps,
        auth,
        hub,
        limiter: metered ? plugins.limiter : null,
        ingestRoutes: ingestSources.flatMap((source) => (source.http ? [source.http] : [])),
        compat: plugins.compat,
        authenticatorFor: (styles) => createAuthenticator({ styles, resolvers }),
        version: options.version,
        now,
      }),
    async close() {
      await queue.close()
      await webhookQueue.close()
      await mail.close()
      await authOffload.close()
      liveMailboxes.close()
      await domainCatalog.close()
      await plugins.limiter.close()
      await pubsub.close()
      await storage.close()
    },
  }
}

/** The outbound policy's verdict on a webhook URL, as the 422 every door answers. */
async function checkWebhookUrl(url: string, policy: { allowedCidrs: readonly string[] }): Promise<void> {
  try {
    await checkOutboundUrl(url, policy)
  } catch (error) {
    if (error instanceof OutboundBlockedError) throw new ProblemError(422, 'url-not-allowed', error.message)
    const code = (error as { code?: string }).code
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA')
      throw new ProblemError(
        422,
        'url-not-allowed',
        `url: the host ${new URL(url).hostname} does not resolve (${code}); deliveries could not reach it`,
      )
    throw new ProblemError(422, 'url-not-allowed', `url: ${(error as Error).message}`)
  }
}
