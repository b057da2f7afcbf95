// Mailbox operations for every door (native routes, compatibility layers, CLI): create, find, change, delete.

import type { Principal } from '#contracts/auth.ts'
import type { MessagePage } from '#contracts/storage.ts'
import { localPartProblem, pickRandom, type ReceivingDomain, randomLocalPart } from '#lib/address.ts'
import { randomToken, sha256Hex } from '#lib/ids.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { CoreDeps } from './context.ts'
import { mayCreateMailbox, mayUseMailbox, noMailbox } from './policy.ts'

/** Random local parts tried before giving up; each retry adds a digit, so collisions fade fast. */
const RANDOM_LOCAL_PART_ATTEMPTS = 8

export interface CreateMailboxInput {
  localPart?: string
  domain?: string
  ttlSeconds?: number
}

export interface UpdateMailboxInput extends CreateMailboxInput {}

export interface CreatedMailbox {
  mailbox: Mailbox
  /** The mailbox's own credential, shown once: only its digest is stored. */
  token: string
}

function checkDomain({ settings }: CoreDeps, domain: string): string {
  const name = domain.trim().toLowerCase()
  if (!settings.domains.some((served) => served.name === name))
    throw new ProblemError(422, 'unknown-domain', `Domain "${name}" is not served here; see GET /v1/domains`)
  return name
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

/** Random addresses go to public domains; with none configured, to any served domain. */
function randomDomain({ settings }: CoreDeps): ReceivingDomain {
  const publicDomains = settings.domains.filter((domain) => domain.type === 'public')
  return pickRandom(publicDomains.length > 0 ? publicDomains : settings.domains)
}

const addressTaken = (address: string) =>
  new ProblemError(409, 'address-taken', `The address ${address} is already in use`)

export async function createMailbox(
  deps: CoreDeps,
  principal: Principal | null,
  input: CreateMailboxInput,
): Promise<CreatedMailbox> {
  if (!mayCreateMailbox(principal, deps.settings.anonymous)) {
    if (principal === null) throw unauthorized('Anonymous creation is off: send the admin key')
    throw new ProblemError(403, 'forbidden', 'Creating mailboxes needs the admin key on this server')
  }
  const domain = input.domain === undefined ? randomDomain(deps).name : checkDomain(deps, input.domain)
  const chosenLocalPart = input.localPart === undefined ? null : checkLocalPart(input.localPart)
  const createdAt = deps.now()
  const expiresAt = expiryFrom(deps, input.ttlSeconds, createdAt)
  const token = randomToken('mbt_')
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
    }
    if ((await deps.storage.insertMailbox({ ...mailbox, tokenHash })) === 'created') return { mailbox, token }
    if (chosenLocalPart !== null) throw addressTaken(mailbox.address)
  }
  throw new ProblemError(
    503,
    'service-unavailable',
    'Could not find a free random address; try again or pick a local part',
  )
}

/** A live mailbox `principal` may use, or a 404 (also when it exists but belongs to someone else). */
export async function findMailbox(deps: CoreDeps, principal: Principal, address: string): Promise<Mailbox> {
  const normalized = address.trim().toLowerCase()
  const mailbox = await deps.mailboxes.findOne(normalized, deps.now())
  if (!mailbox || !mayUseMailbox(principal, mailbox.id)) throw noMailbox(normalized)
  return mailbox
}

/** Renames, switches domain and/or sets a new lifetime counted from now; the token and messages stay. */
export async function updateMailbox(
  deps: CoreDeps,
  principal: Principal,
  address: string,
  input: UpdateMailboxInput,
): Promise<Mailbox> {
  const mailbox = await findMailbox(deps, principal, address)
  const localPart = input.localPart === undefined ? mailbox.localPart : checkLocalPart(input.localPart)
  const domain = input.domain === undefined ? mailbox.domain : checkDomain(deps, input.domain)
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
  const mailbox = await findMailbox(deps, principal, address)
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
  const mailbox = await findMailbox(deps, principal, address)
  return deps.storage.deleteMessagesOfMailbox(mailbox.id)
}
