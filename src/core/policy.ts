// Who may act on what. Everything a principal may not see is reported as absent (404), so nothing can be probed.

import type { Principal } from '#contracts/auth.ts'
import { ProblemError } from '#lib/problem.ts'

/** Whether `principal` may read and manage the mailbox `mailboxId`. */
export function mayUseMailbox(principal: Principal, mailboxId: string): boolean {
  return principal.kind === 'admin' || principal.mailboxId === mailboxId
}

/** Whether `principal` may see a webhook of `mailboxId` (null: a webhook for every mailbox, admin only). */
export function mayUseWebhook(principal: Principal, mailboxId: string | null): boolean {
  return principal.kind === 'admin' || (mailboxId !== null && mailboxId === principal.mailboxId)
}

/** Whether `principal` sees every mailbox (lists are then not narrowed to one mailbox). */
export function seesEverything(principal: Principal): boolean {
  return principal.kind === 'admin'
}

/** The mailbox a principal acts for by default: its own for a mailbox token, none for the admin. */
export function ownMailboxId(principal: Principal): string | null {
  return principal.kind === 'mailbox' ? principal.mailboxId : null
}

export function mayCreateMailbox(principal: Principal | null, anonymousAllowed: boolean): boolean {
  return anonymousAllowed || principal?.kind === 'admin'
}

export const noMailbox = (address: string) =>
  new ProblemError(404, 'not-found', `No mailbox ${address} (it may have expired)`)
export const noMessage = (id: string) => new ProblemError(404, 'not-found', `No message ${id}`)
export const noWebhook = (id: string) => new ProblemError(404, 'not-found', `No webhook ${id}`)
