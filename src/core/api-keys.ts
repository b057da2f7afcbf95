// API key operations (admin only): issue a key (shown once, stored as a digest), list, read, change, revoke.

import type { Principal } from '#contracts/auth.ts'
import type { ApiKeyChange } from '#contracts/storage.ts'
import { isUuid, randomToken, sha256Hex, uuidv7 } from '#lib/ids.ts'
import { ProblemError } from '#lib/problem.ts'
import type { ApiKey, Scope } from '#lib/types.ts'
import type { CoreDeps } from './context.ts'
import { requireAdmin } from './policy.ts'
import { API_KEY_PREFIX } from './principals.ts'

/** Characters of a key kept to recognise it later (`eph_` and 8 more): too few to guess the rest. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8

export interface CreateApiKeyInput {
  name: string
  scopes?: Scope[]
  plan?: string
  allowedDomains?: string[] | null
  /** When the key stops working; null or absent: never. */
  expiresAt?: string | null
}

export interface UpdateApiKeyInput {
  name?: string
  scopes?: Scope[]
  plan?: string
  allowedDomains?: string[] | null
  expiresAt?: string | null
}

export interface IssuedApiKey {
  apiKey: ApiKey
  /** The key itself, shown once: only its SHA-256 is stored. */
  secret: string
}

const noKey = (id: string) => new ProblemError(404, 'not-found', `No API key ${id}`)

function checkPlan(deps: CoreDeps, plan: string): string {
  if (!(plan in deps.settings.plans))
    throw new ProblemError(
      422,
      'unknown-plan',
      `Plan "${plan}" is not configured; known plans: ${Object.keys(deps.settings.plans).join(', ')} (EPHEMAIL_RATE_PLANS)`,
    )
  return plan
}

function checkScopes(scopes: Scope[]): Scope[] {
  if (scopes.length === 0)
    throw new ProblemError(422, 'validation-failed', 'scopes: give at least one of read, write, admin')
  return [...new Set(scopes)]
}

async function checkAllowedDomains(
  deps: CoreDeps,
  domains: string[] | null | undefined,
): Promise<string[] | null> {
  if (domains === undefined || domains === null) return null
  const normalized = [...new Set(domains.map((domain) => domain.trim().toLowerCase()))]
  for (const name of normalized)
    if (!(await deps.domains.find(name)))
      throw new ProblemError(
        422,
        'unknown-domain',
        `allowedDomains: "${name}" is not served here; see GET /v1/admin/domains`,
      )
  return normalized
}

function checkExpiry(deps: CoreDeps, expiresAt: string | null | undefined): Date | null {
  if (expiresAt === undefined || expiresAt === null) return null
  const date = new Date(expiresAt)
  if (Number.isNaN(date.getTime()))
    throw new ProblemError(422, 'validation-failed', `expiresAt: "${expiresAt}" is not a date-time`)
  if (date <= deps.now())
    throw new ProblemError(422, 'validation-failed', `expiresAt: ${expiresAt} is not in the future`)
  return date
}

export async function createApiKey(
  deps: CoreDeps,
  principal: Principal | null,
  input: CreateApiKeyInput,
): Promise<IssuedApiKey> {
  requireAdmin(principal)
  const secret = randomToken(API_KEY_PREFIX)
  const apiKey: ApiKey = {
    id: uuidv7(deps.now().getTime()),
    name: input.name.trim(),
    prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
    scopes: checkScopes(input.scopes ?? ['read', 'write']),
    plan: checkPlan(deps, input.plan ?? 'default'),
    allowedDomains: await checkAllowedDomains(deps, input.allowedDomains),
    createdAt: deps.now(),
    expiresAt: checkExpiry(deps, input.expiresAt),
    lastUsedAt: null,
  }
  await deps.storage.insertApiKey({ ...apiKey, keyHash: await sha256Hex(secret) })
  return { apiKey, secret }
}

export async function listApiKeys(deps: CoreDeps, principal: Principal | null): Promise<ApiKey[]> {
  requireAdmin(principal)
  return deps.storage.listApiKeys()
}

export async function getApiKey(deps: CoreDeps, principal: Principal | null, id: string): Promise<ApiKey> {
  requireAdmin(principal)
  const key = isUuid(id) ? await deps.storage.getApiKey(id) : null
  if (!key) throw noKey(id)
  return key
}

export async function updateApiKey(
  deps: CoreDeps,
  principal: Principal | null,
  id: string,
  input: UpdateApiKeyInput,
): Promise<ApiKey> {
  requireAdmin(principal)
  if (!isUuid(id)) throw noKey(id)
  const change: ApiKeyChange = {}
  if (input.name !== undefined) change.name = input.name.trim()
  if (input.scopes !== undefined) change.scopes = checkScopes(input.scopes)
  if (input.plan !== undefined) change.plan = checkPlan(deps, input.plan)
  if (input.allowedDomains !== undefined)
    change.allowedDomains = await checkAllowedDomains(deps, input.allowedDomains)
  if (input.expiresAt !== undefined) change.expiresAt = checkExpiry(deps, input.expiresAt)
  const updated = await deps.storage.updateApiKey(id, change)
  if (!updated) throw noKey(id)
  await deps.pubsub.publish({ type: 'key.changed', keyId: id })
  return updated
}

/**
 * Revokes a key: requests with it fail at once in every process (keys are looked up per request), and
 * its open event streams and WebSockets are closed (the `key.changed` event reaches every process).
 */
export async function deleteApiKey(deps: CoreDeps, principal: Principal | null, id: string): Promise<void> {
  requireAdmin(principal)
  if (!isUuid(id) || !(await deps.storage.deleteApiKey(id))) throw noKey(id)
  await deps.pubsub.publish({ type: 'key.changed', keyId: id })
}
