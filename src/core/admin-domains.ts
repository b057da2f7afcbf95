// Receiving domains registered through the admin API: register, list, read, re-check and delete (admin only).

import type { Principal } from '#contracts/auth.ts'
import { type DomainType, isValidDomainName } from '#lib/address.ts'
import { ProblemError } from '#lib/problem.ts'
import type { RegisteredDomain } from '#lib/types.ts'
import type { CoreDeps } from './context.ts'
import { checkMx } from './domain-check.ts'
import { requireAdmin } from './policy.ts'

/**
 * A domain as the admin sees it. Configured ones (EPHEMAIL_DOMAINS) are always served and never checked;
 * registered ones receive mail only while `verified`: a pending domain is not served, since mail for it
 * would not reach this deployment anyway, and serving it would let anyone claim a name they do not control.
 */
export interface DomainInfo extends Omit<RegisteredDomain, 'createdAt'> {
  source: 'configured' | 'registered'
  /** null for a configured domain. */
  createdAt: Date | null
}

export interface RegisterDomainInput {
  name: string
  type: DomainType
  /** API key ids that alone may use it; absent: every caller its type is open to. */
  privateToKeys?: string[]
}

/** API key ids are UUIDs; anything else names no key (and must not reach a uuid column). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const normalizeName = (name: string) => name.trim().toLowerCase().replace(/\.$/, '')

function configuredInfo(deps: CoreDeps, name: string): DomainInfo | null {
  const configured = deps.settings.domains.find((domain) => domain.name === name)
  if (!configured) return null
  return {
    name: configured.name,
    type: configured.type,
    privateToKeys: null,
    status: 'verified',
    problems: [],
    mxHosts: [],
    createdAt: null,
    checkedAt: null,
    verifiedAt: null,
    source: 'configured',
  }
}

const registeredInfo = (domain: RegisteredDomain): DomainInfo => ({ ...domain, source: 'registered' })

const noDomain = (name: string) => new ProblemError(404, 'not-found', `No domain ${name}`)

/** Tells every process's catalog (this one's first, so its next request sees it) that `name` changed. */
async function announce(deps: CoreDeps, name: string): Promise<void> {
  await deps.domains.refresh()
  await deps.pubsub.publish({ type: 'domains.changed', name })
}

/**
 * Checks a registered domain's MX now and records what was found. A verified domain whose re-check got
 * no answer (timeout, SERVFAIL) stays verified, the failure noted in `problems`: a DNS hiccup must not
 * stop its mail. An answer that says it no longer points here makes it pending, and it stops receiving.
 */
export async function recheckDomain(deps: CoreDeps, domain: RegisteredDomain): Promise<RegisteredDomain> {
  const check = await checkMx(deps.mxResolver, domain.name, deps.settings.domainChecks.mxHosts, deps.now())
  const keepServing = check.transient && domain.status === 'verified'
  const recorded = await deps.storage.recordDomainCheck(domain.name, {
    status: keepServing ? 'verified' : check.status,
    problems: keepServing
      ? check.problems.map((problem) => `${problem}; still served until a check gets an answer`)
      : check.problems,
    mxHosts: keepServing ? domain.mxHosts : check.mxHosts,
    checkedAt: check.checkedAt,
  })
  if (!recorded) throw noDomain(domain.name) // deleted while it was being checked
  if (recorded.status !== domain.status) await announce(deps, domain.name)
  return recorded
}

export async function registerDomain(
  deps: CoreDeps,
  principal: Principal | null,
  input: RegisterDomainInput,
): Promise<DomainInfo> {
  requireAdmin(principal)
  const name = normalizeName(input.name)
  if (!isValidDomainName(name))
    throw new ProblemError(422, 'invalid-domain', `"${input.name}" is not a domain name`)
  if (configuredInfo(deps, name))
    throw new ProblemError(
      409,
      'conflict',
      `Domain ${name} is already served: it is configured in EPHEMAIL_DOMAINS`,
    )
  let privateToKeys: string[] | null = null
  if (input.privateToKeys !== undefined) {
    privateToKeys = [...new Set(input.privateToKeys)]
    for (const keyId of privateToKeys)
      if (!UUID.test(keyId) || !(await deps.storage.getApiKey(keyId)))
        throw new ProblemError(422, 'validation-failed', `privateToKeys: no API key ${keyId}`)
  }
  const created = await deps.storage.insertDomain({
    name,
    type: input.type,
    privateToKeys,
    status: 'pending',
    problems: [],
    mxHosts: [],
    createdAt: deps.now(),
    checkedAt: null,
    verifiedAt: null,
  })
  if (created === 'exists') throw new ProblemError(409, 'conflict', `Domain ${name} is already registered`)
  const stored = (await deps.storage.getDomain(name)) as RegisteredDomain
  return registeredInfo(await recheckDomain(deps, stored))
}

/** Configured domains first (as in EPHEMAIL_DOMAINS), then registered ones by name. */
export async function listAllDomains(deps: CoreDeps, principal: Principal | null): Promise<DomainInfo[]> {
  requireAdmin(principal)
  const configured = deps.settings.domains.map((domain) => configuredInfo(deps, domain.name) as DomainInfo)
  const names = new Set(configured.map((domain) => domain.name))
  const registered = (await deps.storage.listDomains())
    .filter((domain) => !names.has(domain.name))
    .map(registeredInfo)
  return [...configured, ...registered]
}

export async function getDomainInfo(
  deps: CoreDeps,
  principal: Principal | null,
  name: string,
): Promise<DomainInfo> {
  requireAdmin(principal)
  const found = await findDomain(deps, name)
  return 'source' in found ? found : registeredInfo(found)
}

/** Re-checks a registered domain now; a configured one is answered as it is (it is never checked). */
export async function verifyDomain(
  deps: CoreDeps,
  principal: Principal | null,
  name: string,
): Promise<DomainInfo> {
  requireAdmin(principal)
  const found = await findDomain(deps, name)
  return 'source' in found ? found : registeredInfo(await recheckDomain(deps, found))
}

/** A configured domain's info, or a registered domain's row; a 404 when it is neither. */
async function findDomain(deps: CoreDeps, name: string): Promise<DomainInfo | RegisteredDomain> {
  const normalized = normalizeName(name)
  const configured = configuredInfo(deps, normalized)
  if (configured) return configured
  const registered = await deps.storage.getDomain(normalized)
  if (!registered) throw noDomain(normalized)
  return registered
}

/**
 * Deletes a registered domain: its mailboxes stop receiving at once (SMTP answers 550 for the domain);
 * the mailboxes and their mail stay until their lifetime ends, readable as before.
 */
export async function deleteDomain(deps: CoreDeps, principal: Principal | null, name: string): Promise<void> {
  requireAdmin(principal)
  const normalized = normalizeName(name)
  if (configuredInfo(deps, normalized))
    throw new ProblemError(
      409,
      'conflict',
      `Domain ${normalized} is configured in EPHEMAIL_DOMAINS, not registered: remove it there and restart`,
    )
  if (!(await deps.storage.deleteDomain(normalized))) throw noDomain(normalized)
  await announce(deps, normalized)
}
