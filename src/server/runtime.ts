// Composition root: picks the plugins the config asks for, starts the requested roles, and stops them in order.

import type { Storage } from '#contracts/storage.ts'
import { loggableError } from '#lib/loggable-error.ts'
import packageJson from '../../package.json' with { type: 'json' }
import type { Config } from './config.ts'
import { createCore } from './core.ts'
import { createEventHub } from './live/event-hub.ts'
import { createDomainRechecker } from './pipeline/domain-rechecker.ts'
import { createExpirySweeper } from './pipeline/expiry-sweeper.ts'
import { createWebhookDeliverer } from './webhooks/webhook-delivery.ts'

/** How long in-flight HTTP requests may take to finish when the process stops. */
const SHUTDOWN_GRACE_MS = 5000

export interface RunningEphemail {
  storage: Storage
  /** Bound ports (null for a role not started); useful when the config asked for port 0. */
  httpPort: number | null
  smtpPort: number | null
  /** The implicit-TLS SMTP port, when a certificate and EPHEMAIL_SMTPS_PORT are configured. */
  smtpsPort: number | null
  stop(): Promise<void>
}

export async function startEphemail(
  config: Config,
  {
    announceAdminKey = (key: string) => console.log(adminKeyBanner(key)),
    metered = true,
  }: {
    announceAdminKey?: (key: string) => void
    /** false: the API without request metering (bench/api-reads.ts measures its cost; not a setting). */
    metered?: boolean
  } = {},
): Promise<RunningEphemail> {
  const core = await createCore(config, { announceAdminKey, version: packageJson.version })
  const { storage, pubsub, queue, webhookQueue, processor, webhooks } = core
  const stops: (() => Promise<void> | void)[] = []
  let httpPort: number | null = null
  let smtpPort: number | null = null
  let smtpsPort: number | null = null

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
      recover().catch((error) => console.error(`recovery scan failed: ${loggableError(error)}`))
    }, config.sweepIntervalMs)
    stops.push(() => clearInterval(recovery))
  }
  if (config.roles.includes('smtp') || config.roles.includes('api')) {
    // The served domains follow domains.changed events; this reload is the safety net for a lost one.
    core.domainCatalog.start()
  }
  if (config.roles.includes('smtp')) {
    // Sources that listen on their own port (SMTP); HTTP sources come with the API's routes.
    for (const source of core.ingestSources.filter((candidate) => !candidate.http)) {
      await source.start()
      stops.push(() => source.stop())
      if (source.name === 'smtp' || source.name === 'smtp-bun') {
        smtpPort = source.port?.() ?? null
        smtpsPort = source.tlsPort?.() ?? null
      }
    }
  }
  if (config.roles.includes('api')) {
    // Registered domains' MX records, re-checked where the admin API that registers them runs.
    const rechecker = createDomainRechecker({
      deps: core.deps,
      verifiedEveryMs: config.domainChecks.recheckSeconds * 1000,
    })
    rechecker.start()
    stops.push(() => rechecker.stop())
    const hub = createEventHub({ pubsub, storage })
    const app = core.buildApp({ hub, metered })
    // Elysia's own listen, so handlers see the Bun server (long-polls lift its idle timeout).
    app.listen({
      hostname: config.host,
      port: config.httpPort,
      // The app enforces every body limit itself (declared lengths before reading, chunked bodies
      // while reading) and answers problem+json; Bun's own limit would answer an empty 413 first.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
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
    smtpsPort,
    async stop() {
      // Stop taking work first (reverse start order: API, SMTP, sweeper), then close storage.
      for (const stop of stops.reverse()) await stop()
      await core.close()
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
