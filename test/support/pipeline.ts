// Test helper for the processing pipeline: sender authentication that finds nothing, and an ingest funnel
// over given plugins with one live mailbox to deliver to.

import crypto from 'node:crypto'
import type { PubSub } from '#contracts/pubsub.ts'
import type { JobQueue } from '#contracts/queue.ts'
import type { Storage } from '#contracts/storage.ts'
import { loadConfig } from '#server/config.ts'
import { staticDomainNames } from '#server/pipeline/domain-catalog.ts'
import { createIngestFunnel } from '#server/pipeline/ingest-funnel.ts'

/** Sender authentication that finds nothing, for tests about other steps. */
export const noAuthentication = async () => ({
  spf: 'none',
  dkim: 'none',
  dmarc: 'none',
  arc: 'none',
  header: null,
})

/** A funnel over the given plugins, with one live mailbox `<localPart>@ephemail.test` to deliver to. */
export async function funnelWithMailbox(
  storage: Storage,
  pubsub: PubSub,
  queue: JobQueue,
  localPart: string,
) {
  await storage.insertMailbox({
    id: crypto.randomUUID(),
    localPart,
    domain: 'ephemail.test',
    address: `${localPart}@ephemail.test`,
    tokenHash: crypto.randomUUID(),
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 60_000),
  })
  const config = loadConfig({}, [])
  return createIngestFunnel({
    storage,
    pubsub,
    queue,
    domains: staticDomainNames(config.domains),
    maxMessageBytes: 1_000_000,
  })
}
