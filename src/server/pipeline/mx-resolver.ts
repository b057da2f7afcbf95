// The MX lookups of the domain check, on the system's DNS (or the configured servers), with a deadline.

import { Resolver } from 'node:dns/promises'
import type { MxResolver } from '#core/domain-check.ts'

/** A DNS server that does not answer must not hold an admin request or the re-check timer. */
export const MX_LOOKUP_TIMEOUT_MS = 5_000

export function createMxResolver({
  servers = [],
  timeoutMs = MX_LOOKUP_TIMEOUT_MS,
}: {
  /** `ip` or `ip:port`; empty: the system's resolvers. */
  servers?: readonly string[]
  timeoutMs?: number
} = {}): MxResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 })
  if (servers.length > 0) resolver.setServers([...servers])
  return {
    async resolveMx(name) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error(`MX ${name} timed out`), { code: 'ETIMEOUT' })),
          timeoutMs,
        )
      })
      try {
        return await Promise.race([resolver.resolveMx(name), deadline])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
