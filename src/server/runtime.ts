// Composition root: picks the plugins the config asks for, starts the requested roles, and stops them in order.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import packageJson from '../../package.json' with { type: 'json' }
import { createBearerAuth } from '../../plugins/auth/bearer/index.ts'
import { createBuiltinExtractor, parseExtractionRules } from '../../plugins/extractor/builtin/index.ts'
import { createSmtpIngest } from '../../plugins/ingest/smtp/index.ts'
import { createMemoryPubSub } from '../../plugins/pubsub/memory/index.ts'
import { createRedisPubSub } from '../../plugins/pubsub/redis/index.ts'
import { createBullmqQueue } from '../../plugins/queue/bullmq/index.ts'
import { createInlineQueue } from '../../plugins/queue/inline/index.ts'
import { createPgliteStorage } from '../../plugins/storage/pglite/index.ts'
import { createPostgresStorage } from '../../plugins/storage/postgres/index.ts'
import type { PubSub } from '../contracts/pubsub.ts'
import type { JobQueue } from '../contracts/queue.ts'
import type { Storage } from '../contracts/storage.ts'
import { resolveAdminKeyHash } from './admin-key.ts'
import { buildApp } from './app.ts'
import type { Config } from './config.ts'
import { createExpirySweeper } from './expiry-sweeper.ts'
import { createIngestFunnel } from './ingest-funnel.ts'
import { createMessageProcessor } from './message-processor.ts'
import { createSenderAuthenticator, systemResolver, withCache, withTimeout } from './sender-auth.ts'

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
  const pubsub: PubSub = config.redisUrl ? createRedisPubSub({ url: config.redisUrl }) : createMemoryPubSub()
  const adminKeyHash = await resolveAdminKeyHash(storage, config.adminKey, announceAdminKey)
  const auth = createBearerAuth({
    adminKeyHash,
    findMailboxByTokenHash: (tokenHash) => storage.findLiveMailboxByTokenHash(tokenHash, new Date()),
  })
  const queue: JobQueue = config.redisUrl
    ? createBullmqQueue({ url: config.redisUrl, attempts: config.worker.attempts })
    : createInlineQueue({ attempts: config.worker.attempts })
  const processor = createMessageProcessor({
    storage,
    pubsub,
    extractor: createBuiltinExtractor(parseExtractionRules(config.worker.extractRules)),
    authenticateSender: createSenderAuthenticator({
      resolver: withCache(withTimeout(systemResolver, config.worker.dnsTimeoutMs)),
      mta: config.smtpHostname,
    }),
  })
  const stops: (() => Promise<void> | void)[] = [() => queue.close()]
  let httpPort: number | null = null
  let smtpPort: number | null = null

  if (config.roles.includes('worker')) {
    const sweeper = createExpirySweeper({ storage, pubsub, intervalMs: config.sweepIntervalMs })
    sweeper.start()
    stops.push(() => sweeper.stop())
    processor.start(queue, config.worker.concurrency)
    await processor.recover(queue)
    const recovery = setInterval(() => {
      processor.recover(queue).catch((error) => console.error('recovery scan failed', error))
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
    const app = buildApp({ config, storage, pubsub, auth, version: packageJson.version })
    // Elysia's own listen, so handlers see the Bun server (long-polls lift its idle timeout).
    app.listen({
      hostname: config.host,
      port: config.httpPort,
      // A little above the API limit so the app, not Bun, answers (with problem+json).
      maxRequestBodySize: config.limits.httpMaxBodyBytes + 1024,
    })
    httpPort = app.server?.port ?? null
    stops.push(async () => {
      await app.stop()
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
