// Who may act on what. Everything a principal may not see is reported as absent (404), so nothing can be probed.

import type { Principal } from '#contracts/auth.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import type { Scope } from '#lib/types.ts'

/** What ownership is judged on: a mailbox's or a webhook's id and owner. */
interface OwnedMailbox {
  id: string
  ownerKeyId: string | null
}

/** The admin key, or an API key with the admin scope: sees and manages everything. */
export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'admin' || (principal.kind === 'key' && principal.scopes.includes('admin'))
}

/** Whether `principal` may read and manage `mailbox`: the admin, the key that created it, or its own token. */
export function mayUseMailbox(principal: Principal, mailbox: OwnedMailbox): boolean {
  if (principal.kind === 'mailbox') return principal.mailboxId === mailbox.id
  return isAdmin(principal) || (principal.kind === 'key' && mailbox.ownerKeyId === principal.keyId)
}

/**
 * Whether `principal` may see a webhook: the admin any; a key those it (or its mailboxes' tokens)
 * registered; a mailbox token those of its mailbox.
 */
export function mayUseWebhook(
  principal: Principal,
  webhook: { mailboxId: string | null; ownerKeyId: string | null },
): boolean {
  if (principal.kind === 'mailbox')
    return webhook.mailboxId !== null && webhook.mailboxId === principal.mailboxId
  return isAdmin(principal) || (principal.kind === 'key' && webhook.ownerKeyId === principal.keyId)
}

/** Whether `principal` sees every mailbox (lists are then not narrowed to one owner). */
export function seesEverything(principal: Principal): boolean {
  return isAdmin(principal)
}

/** The mailbox a principal acts for by default: its own for a mailbox token, none otherwise. */
export function ownMailboxId(principal: Principal): string | null {
  return principal.kind === 'mailbox' ? principal.mailboxId : null
}

/** The key that will own what `principal` creates: an API key itself; nobody for the admin and anonymous. */
export function owningKeyId(principal: Principal | null): string | null {
  return principal?.kind === 'key' ? principal.keyId : null
}

export function mayCreateMailbox(principal: Principal | null, anonymousAllowed: boolean): boolean {
  if (principal === null) return anonymousAllowed
  if (principal.kind === 'mailbox') return anonymousAllowed
  return true
}

/**
 * Refuses a key that lacks `scope` (403: the key is known, the action is not allowed). The admin key has
 * every scope; a mailbox token reads and changes its own mailbox but administers nothing.
 */
export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.kind === 'admin') return
  if (principal.kind === 'mailbox') {
    if (scope === 'admin') throw adminOnly()
    return
  }
  if (!principal.scopes.includes(scope) && !principal.scopes.includes('admin'))
    throw new ProblemError(
      403,
      'insufficient-scope',
      `This API key lacks the "${scope}" scope (it has ${principal.scopes.map((s) => `"${s}"`).join(', ') || 'none'})`,
    )
}

/** Admin routes: the admin key or a key with the admin scope; anyone else is told so (they know the route exists). */
export function requireAdmin(principal: Principal | null): void {
  if (principal === null) throw unauthorized('Send the admin key or an API key with the admin scope')
  if (!isAdmin(principal)) throw adminOnly()
}

const adminOnly = () =>
  new ProblemError(403, 'forbidden', 'Only the admin key or an API key with the admin scope may do this')

export const noMailbox = (address: string) =>
  new ProblemError(404, 'not-found', `No mailbox ${address} (it may have expired)`)
export const noMessage = (id: string) => new ProblemError(404, 'not-found', `No message ${id}`)
export const noWebhook = (id: string) => new ProblemError(404, 'not-found', `No webhook ${id}`)
