// Re-checks the MX records of registered domains in the background: pending ones often, verified ones now and then.

import { recheckDomain } from '#core/admin-domains.ts'
import type { CoreDeps } from '#core/context.ts'
import { loggableError } from '#lib/loggable-error.ts'
import type { RegisteredDomain } from '#lib/types.ts'

/** A pending domain is re-checked this often: DNS changes usually land within minutes. */
export const PENDING_RECHECK_MS = 60_000

export interface DomainRechecker {
  start(): void
  stop(): Promise<void>
  /** Checks every registered domain whose last check is older than its interval; returns how many. */
  checkDue(): Promise<number>
}

export function createDomainRechecker({
  deps,
  verifiedEveryMs,
  pendingEveryMs = PENDING_RECHECK_MS,
}: {
  deps: CoreDeps
  verifiedEveryMs: number
  pendingEveryMs?: number
}): DomainRechecker {
  let timer: ReturnType<typeof setInterval> | null = null
  let running: Promise<unknown> | null = null

  const isDue = (domain: RegisteredDomain, at: number) =>
    domain.checkedAt === null ||
    at - domain.checkedAt.getTime() >= (domain.status === 'verified' ? verifiedEveryMs : pendingEveryMs)

  async function checkDue(): Promise<number> {
    const at = deps.now().getTime()
    const due = (await deps.storage.listDomains()).filter((domain) => isDue(domain, at))
    // One at a time: a handful of domains, and a slow DNS server should not be asked everything at once.
    for (const domain of due)
      await recheckDomain(deps, domain).catch((error) =>
        console.error(`re-checking domain ${domain.name} failed: ${loggableError(error)}`),
      )
    return due.length
  }

  return {
    checkDue,
    start() {
      if (timer) return
      // Several API processes each re-check: harmless (the result is the same), and no lock to lose.
      timer = setInterval(
        () => {
          if (running) return
          running = checkDue()
            .catch((error) => console.error(`domain re-check failed: ${loggableError(error)}`))
            .finally(() => {
              running = null
            })
        },
        Math.min(pendingEveryMs, verifiedEveryMs),
      )
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await running
    },
  }
}
