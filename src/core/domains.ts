// Which receiving domains a caller may use: configured and registered ones, narrowed by plan, privacy and key.

import type { Principal } from '#contracts/auth.ts'
import type { DomainType } from '#lib/address.ts'
import { ProblemError } from '#lib/problem.ts'
import type { CoreDeps, Plan } from './context.ts'
import { isAdmin } from './policy.ts'

/** A domain this deployment receives mail for. */
export interface ServedDomain {
  name: string
  type: DomainType
  /** null: open to every caller allowed its type; else only to these API keys. */
  privateToKeys: readonly string[] | null
  /** `configured`: from EPHEMAIL_DOMAINS; `registered`: through the admin API (and its MX check passed). */
  source: 'configured' | 'registered'
}

/** The plan that meters `principal`: its key's, `admin` for the admin, `anonymous` for everyone else. */
export function planOf(deps: CoreDeps, principal: Principal | null): Plan {
  const { plans } = deps.settings
  if (principal?.kind === 'admin') return plans.admin as Plan
  if (principal?.kind === 'key') return (plans[principal.plan] ?? plans.default) as Plan
  return plans.anonymous as Plan
}

/** Whether `principal` may create mailboxes on `domain`. */
export function mayUseDomain(deps: CoreDeps, principal: Principal | null, domain: ServedDomain): boolean {
  if (principal !== null && isAdmin(principal)) return true
  if (!planOf(deps, principal).domainTypes.includes(domain.type)) return false
  if (principal?.kind === 'key') {
    if (domain.privateToKeys !== null && !domain.privateToKeys.includes(principal.keyId)) return false
    return principal.allowedDomains === null || principal.allowedDomains.includes(domain.name)
  }
  return domain.privateToKeys === null
}

/** The served domains `principal` may use, optionally of one type. */
export async function usableDomains(
  deps: CoreDeps,
  principal: Principal | null,
  type?: DomainType,
): Promise<ServedDomain[]> {
  const served = await deps.domains.list()
  return served.filter(
    (domain) => (type === undefined || domain.type === type) && mayUseDomain(deps, principal, domain),
  )
}

/**
 * The domain `principal` asked for, normalised, or a 422 that says whether it is not served here or
 * not open to this caller.
 */
export async function checkDomainFor(
  deps: CoreDeps,
  principal: Principal | null,
  requested: string,
): Promise<ServedDomain> {
  const name = requested.trim().toLowerCase()
  const domain = await deps.domains.find(name)
  if (!domain)
    throw new ProblemError(422, 'unknown-domain', `Domain "${name}" is not served here; see GET /v1/domains`)
  if (!mayUseDomain(deps, principal, domain))
    throw new ProblemError(
      422,
      'domain-not-allowed',
      `Domain "${name}" (${domain.type}) is not open to this ${principal?.kind === 'key' ? 'API key' : 'caller'}; GET /v1/domains lists the ones it may use`,
    )
  return domain
}

/** A catalog of the configured domains only (tests, tools; the server adds the registered ones). */
export function configuredDomainCatalog(
  configured: readonly { name: string; type: DomainType }[],
): import('./context.ts').DomainCatalog {
  const domains: ServedDomain[] = configured.map((domain) => ({
    name: domain.name,
    type: domain.type,
    privateToKeys: null,
    source: 'configured',
  }))
  return {
    list: async () => domains,
    find: async (name) => domains.find((domain) => domain.name === name) ?? null,
    refresh: async () => {},
  }
}
