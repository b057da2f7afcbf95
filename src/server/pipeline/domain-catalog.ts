// The domains this process receives mail for: configured ones plus verified registered ones, held in memory.

import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import type { DomainCatalog } from '#core/context.ts'
import type { ServedDomain } from '#core/domains.ts'
import type { ReceivingDomain } from '#lib/address.ts'
import { loggableError } from '#lib/loggable-error.ts'

/**
 * How often the catalog reloads without being told: a safety net for a domains.changed event lost on
 * the way (Redis restarted, a process that was partitioned), and for a domain verified by another
 * process while this one's subscription was down.
 */
export const DOMAIN_CATALOG_REFRESH_MS = 30_000

/** What the SMTP funnel asks on every RCPT: answered from memory, never by a query. */
export interface ServedDomainNames {
  serves(name: string): boolean
}

export interface LiveDomainCatalog extends DomainCatalog, ServedDomainNames {
  /** Starts the periodic reload (the runtime does, in the roles that take mail or requests). */
  start(intervalMs?: number): void
  /** Stops the periodic reload and the event subscription; waits for a reload in flight. */
  close(): Promise<void>
}

/** A fixed set of names (tests, tools without storage). */
export function staticDomainNames(domains: readonly ReceivingDomain[]): ServedDomainNames {
  const names = new Set(domains.map((domain) => domain.name))
  return { serves: (name) => names.has(name) }
}

/**
 * Loads once when `refresh()` is first awaited (createCore does), then reloads on every domains.changed
 * event (pub/sub: Redis across processes, memory within one) and every `intervalMs`. Reloads never
 * overlap: one asked for while another runs follows it, so a change committed meanwhile is seen.
 */
export function createDomainCatalog({
  storage,
  pubsub,
  configured,
}: {
  storage: Pick<Storage, 'listDomains'>
  pubsub: PubSub
  configured: readonly ReceivingDomain[]
}): LiveDomainCatalog {
  const fixed: ServedDomain[] = configured.map((domain) => ({
    name: domain.name,
    type: domain.type,
    privateToKeys: null,
    source: 'configured',
  }))
  const configuredNames = new Set(fixed.map((domain) => domain.name))
  let served: ServedDomain[] = fixed
  let byName = new Map(fixed.map((domain) => [domain.name, domain]))
  let running: Promise<void> | null = null
  let following: Promise<void> | null = null
  let timer: ReturnType<typeof setInterval> | null = null

  async function load(): Promise<void> {
    const registered = (await storage.listDomains())
      .filter((domain) => domain.status === 'verified' && !configuredNames.has(domain.name))
      .map(
        (domain): ServedDomain => ({
          name: domain.name,
          type: domain.type,
          privateToKeys: domain.privateToKeys,
          source: 'registered',
        }),
      )
    served = [...fixed, ...registered]
    byName = new Map(served.map((domain) => [domain.name, domain]))
  }
  function refresh(): Promise<void> {
    if (following) return following
    if (running) {
      following = running
        .catch(() => {})
        .then(() => {
          following = null
          return refresh()
        })
      return following
    }
    running = load().finally(() => {
      running = null
    })
    return running
  }

  /** Background reloads: a failure keeps the last good list (configured domains are always in it). */
  const refreshQuietly = () => {
    refresh().catch((error) => console.error(`reloading the domain catalog failed: ${loggableError(error)}`))
  }

  const unsubscribe = pubsub.subscribe((event) => {
    if (event.type === 'domains.changed') refreshQuietly()
  })

  return {
    list: async () => served,
    find: async (name) => byName.get(name) ?? null,
    serves: (name) => byName.has(name),
    refresh,
    start(intervalMs = DOMAIN_CATALOG_REFRESH_MS) {
      if (timer) return
      timer = setInterval(refreshQuietly, intervalMs)
    },
    async close() {
      if (timer) clearInterval(timer)
      timer = null
      unsubscribe()
      await (following ?? running)?.catch(() => {})
    },
  }
}
