// Mailbox operations for every door (native routes, compatibility layers, CLI): create, find, change, delete.

import type { Principal } from '#contracts/auth.ts'
import type { MessagePage } from '#contracts/storage.ts'
import { type DomainType, localPartProblem, pickRandom, randomLocalPart } from '#lib/address.ts'
import { randomToken, sha256Hex } from '#lib/ids.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { CoreDeps } from './context.ts'
import { checkDomainFor, planOf, usableDomains } from './domains.ts'
import {
  mayCreateMailbox,
  mayUseMailbox,
  noMailbox,
  owningKeyId,
  requireScope,
  seesEverything,
} from './policy.ts'
import { MAILBOX_TOKEN_PREFIX } from './principals.ts'

/** Random local parts tried before giving up; each retry adds a digit, so collisions fade fast. */
const RANDOM_LOCAL_PART_ATTEMPTS = 8

export interface UpdateMailboxInput {
  localPart?: string
  domain?: string
  ttlSeconds?: number
}

export interface CreateMailboxInput extends UpdateMailboxInput {
  /** Without `domain`: a random domain of this type the caller may use. */
  domainType?: DomainType
}

export interface CreatedMailbox {
  mailbox: Mailbox
  /** The mailbox's own credential, shown once: only its digest is stored. */
  token: string
}

function checkLocalPart(localPart: string): string {
  const normalized = localPart.trim().toLowerCase()
  const reason = localPartProblem(normalized)
  if (reason) throw new ProblemError(422, 'invalid-local-part', `Local part "${normalized}" ${reason}`)
  return normalized
}

function expiryFrom({ settings }: CoreDeps, ttlSeconds: number | undefined, start: Date): Date {
  const seconds = ttlSeconds ?? settings.ttl.defaultSeconds
  const { minSeconds, maxSeconds } = settings.ttl
  if (seconds < minSeconds || seconds > maxSeconds)
    throw new ProblemError(
      422,
      'ttl-out-of-range',
      `ttlSeconds must be between ${minSeconds} and ${maxSeconds}; got ${seconds}`,
    )
  return new Date(start.getTime() + seconds * 1000)
}

/**
 * Random addresses go to a public domain the caller may use (with none, to any it may use), or to one
 * of the asked type.
 */
async function randomDomain(
  deps: CoreDeps,
  principal: Principal | null,
  type: DomainType | undefined,
): Promise<string> {
  const usable = await usableDomains(deps, principal, type)
  if (usable.length === 0)
    throw new ProblemError(
      422,
      'domain-not-allowed',
      type === undefined
        ? 'No receiving domain is open to this caller; see GET /v1/domains'
        : `No ${type} domain is open to this caller; see GET /v1/domains?type=${type}`,
    )
  const publicOnes = usable.filter((domain) => domain.type === 'public')
  return pickRandom(publicOnes.length > 0 ? publicOnes : usable).name
}

/** A key's mailboxes-per-hour budget, counted from the mailboxes table (exact across processes). */
async function checkMailboxBudget(deps: CoreDeps, principal: Principal | null): Promise<void> {
  if (principal?.kind !== 'key') return
  const { mailboxesPerHour } = planOf(deps, principal)
  const since = new Date(deps.now().getTime() - 3_600_000)
  const created = await deps.storage.countMailboxesCreatedSince(principal.keyId, since)
  if (created >= mailboxesPerHour)
    throw new ProblemError(
      429,
      'mailbox-quota-exceeded',
      `This API key's plan "${principal.plan}" allows ${mailboxesPerHour} new mailboxes per hour; it created ${created} in the last hour`,
      { headers: { 'retry-after': '60' } },
    )
}

const addressTaken = (address: string) =>
  new ProblemError(409, 'address-taken', `The address ${address} is already in use`)

export async function createMailbox(
  deps: CoreDeps,
  principal: Principal | null,
  input: CreateMailboxInput,
): Promise<CreatedMailbox> {
  if (!mayCreateMailbox(principal, deps.settings.anonymous)) {
    if (principal === null) throw unauthorized('Anonymous creation is off: send the admin key or an API key')
    throw new ProblemError(
      403,
      'forbidden',
      'Creating mailboxes needs an API key or the admin key on this server',
    )
  }
  if (principal?.kind === 'key') requireScope(principal, 'write')
  const domain =
    input.domain === undefined
      ? await randomDomain(deps, principal, input.domainType)
      : (await checkDomainFor(deps, principal, input.domain)).name
  if (input.domain !== undefined && input.domainType !== undefined) {
    const served = await deps.domains.find(domain)
    if (served && served.type !== input.domainType)
      throw new ProblemError(
        422,
        'domain-type-mismatch',
        `Domain "${domain}" is ${served.type}, not ${input.domainType}; send one of domain and domainType`,
      )
  }
  await checkMailboxBudget(deps, principal)
  const ownerKeyId = owningKeyId(principal)
  const messageLimit = planOf(deps, principal).messagesPerMailbox
  const chosenLocalPart = input.localPart === undefined ? null : checkLocalPart(input.localPart)
  const createdAt = deps.now()
  const expiresAt = expiryFrom(deps, input.ttlSeconds, createdAt)
  const token = randomToken(MAILBOX_TOKEN_PREFIX)
  const tokenHash = await sha256Hex(token)
  const attempts = chosenLocalPart === null ? RANDOM_LOCAL_PART_ATTEMPTS : 1
  for (let attempt = 0; attempt < attempts; attempt++) {
    const localPart = chosenLocalPart ?? randomLocalPart(attempt)
    const mailbox: Mailbox = {
      id: crypto.randomUUID(),
      localPart,
      domain,
      address: `${localPart}@${domain}`,
      createdAt,
      expiresAt,
      ownerKeyId,
    }
    if ((await deps.storage.insertMailbox({ ...mailbox, tokenHash, messageLimit })) === 'created')
      return { mailbox, token }
    if (chosenLocalPart !== null) throw addressTaken(mailbox.address)
  }
  throw new ProblemError(
    503,
    'service-unavailable',
    'Could not find a free random address; try again or pick a local part',
  )
}

/** A live mailbox `principal` may use, or a 404 (also when it exists but belongs to someone else). */
export async function findMailbox(
  deps: CoreDeps,
  principal: Principal,
  address: string,
  scope: 'read' | 'write' = 'read',
): Promise<Mailbox> {
  requireScope(principal, scope)
  const normalized = address.trim().toLowerCase()
  const mailbox = await deps.mailboxes.findOne(normalized, deps.now())
  if (!mailbox || !mayUseMailbox(principal, mailbox)) throw noMailbox(normalized)
  return mailbox
}

/** The live mailboxes `principal` may see, newest first: a key's own, every one for the admin. */
export async function listMailboxes(deps: CoreDeps, principal: Principal, limit: number): Promise<Mailbox[]> {
  requireScope(principal, 'read')
  if (principal.kind === 'mailbox') {
    const own = await deps.storage.findLiveMailboxById(principal.mailboxId, deps.now())
    return own ? [own] : []
  }
  const owner = seesEverything(principal) ? null : owningKeyId(principal)
  return deps.storage.listLiveMailboxes(owner, deps.now(), limit)
}

/** Renames, switches domain and/or sets a new lifetime counted from now; the token and messages stay. */
export async function updateMailbox(
  deps: CoreDeps,
  principal: Principal,
  address: string,
  input: UpdateMailboxInput,
): Promise<Mailbox> {
  const mailbox = await findMailbox(deps, principal, address, 'write')
  const localPart = input.localPart === undefined ? mailbox.localPart : checkLocalPart(input.localPart)
  const domain =
    input.domain === undefined ? mailbox.domain : (await checkDomainFor(deps, principal, input.domain)).name
  const expiresAt =
    input.ttlSeconds === undefined ? mailbox.expiresAt : expiryFrom(deps, input.ttlSeconds, deps.now())
  const newAddress = `${localPart}@${domain}`
  const updated = await deps.storage.updateMailbox(mailbox.id, {
    localPart,
    domain,
    address: newAddress,
    expiresAt,
  })
  if (updated === 'address-taken') throw addressTaken(newAddress)
  if (updated === null) throw noMailbox(mailbox.address)
  deps.mailboxes.forget(mailbox.id)
  await deps.pubsub.publish({ type: 'mailbox.changed', mailboxId: mailbox.id })
  return updated
}

/** Deletes a mailbox with all its mail; live streams of it end with mailbox.expired (reason deleted). */
export async function deleteMailbox(deps: CoreDeps, principal: Principal, address: string): Promise<void> {
  const mailbox = await findMailbox(deps, principal, address, 'write')
  if (await deps.storage.deleteMailbox(mailbox.id)) {
    deps.mailboxes.forget(mailbox.id)
    void deps.pubsub.publish({ type: 'mailbox.expired', mailboxId: mailbox.id, reason: 'deleted' })
  }
}

/** Newest first; `before` pages backwards with a cursor, `after` asks only for newer messages. */
export function listMessages(
  deps: CoreDeps,
  mailbox: Mailbox,
  page: { limit: number; before?: string; after?: string },
): Promise<MessagePage> {
  return deps.storage.listMessages(mailbox.id, page)
}

/** Deletes every message of a mailbox; answers how many went. */
export async function clearMailbox(deps: CoreDeps, principal: Principal, address: string): Promise<number> {
  const mailbox = await findMailbox(deps, principal, address, 'write')
  return deps.storage.deleteMessagesOfMailbox(mailbox.id)
}
