// Message operations for every door: read in full, raw bytes, one attachment, mark seen, delete, latest code.

import type { Principal } from '#contracts/auth.ts'
import type { LatestOtp } from '#contracts/storage.ts'
import { isUuid } from '#lib/ids.ts'
import { readAttachment } from '#lib/mail.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Mailbox, MessageSummary, StoredMessage } from '#lib/types.ts'
import type { CoreDeps } from './context.ts'
import { isAdmin, mayUseMailbox, noMessage, requireScope } from './policy.ts'

/** Whether `principal` may see the messages of mailbox `mailboxId`. */
async function mayReadMailbox(deps: CoreDeps, principal: Principal, mailboxId: string): Promise<boolean> {
  if (principal.kind === 'mailbox') return principal.mailboxId === mailboxId
  if (isAdmin(principal)) return true
  // A key: the mailbox's owner decides (one indexed read, only for key callers).
  const mailbox = await deps.storage.findLiveMailboxById(mailboxId, deps.now())
  return mailbox !== null && mayUseMailbox(principal, mailbox)
}

/** Loads with `load` and returns the message if `principal` may see it, else a 404. */
async function visible<T extends { mailboxId: string }>(
  deps: CoreDeps,
  principal: Principal,
  id: string,
  load: (id: string) => Promise<T | null>,
  scope: 'read' | 'write' = 'read',
): Promise<T> {
  requireScope(principal, scope)
  const found = isUuid(id) ? await load(id) : null
  if (!found || !(await mayReadMailbox(deps, principal, found.mailboxId))) throw noMessage(id)
  return found
}

/** Only the owner is loaded: the cheap check before a change. */
async function checkOwner(deps: CoreDeps, principal: Principal, id: string): Promise<void> {
  await visible(
    deps,
    principal,
    id,
    async (messageId) => {
      const mailboxId = await deps.storage.findMessageOwner(messageId, deps.now())
      return mailboxId === null ? null : { mailboxId }
    },
    'write',
  )
}

export function getMessage(deps: CoreDeps, principal: Principal, id: string): Promise<StoredMessage> {
  return visible(deps, principal, id, (messageId) => deps.storage.getMessage(messageId, deps.now()))
}

/** Exactly the bytes received. */
export async function getRawMessage(
  deps: CoreDeps,
  principal: Principal,
  id: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const { raw } = await visible(deps, principal, id, (messageId) =>
    deps.storage.getRawMessage(messageId, deps.now()),
  )
  return raw
}

export async function getAttachment(deps: CoreDeps, principal: Principal, id: string, attachmentId: string) {
  const attachment = await readAttachment(await getRawMessage(deps, principal, id), attachmentId)
  if (!attachment) throw new ProblemError(404, 'not-found', `Message ${id} has no attachment ${attachmentId}`)
  return attachment
}

export async function setMessageSeen(
  deps: CoreDeps,
  principal: Principal,
  id: string,
  seen: boolean,
): Promise<MessageSummary> {
  await checkOwner(deps, principal, id)
  const updated = await deps.storage.setMessageSeen(id, seen, deps.now())
  if (!updated) throw noMessage(id)
  return updated
}

export async function deleteMessage(deps: CoreDeps, principal: Principal, id: string): Promise<void> {
  await checkOwner(deps, principal, id)
  await deps.storage.deleteMessage(id, deps.now())
}

/** The newest code and link of a mailbox (received after `since` when given), or null. */
export function findLatestOtp(
  deps: CoreDeps,
  mailbox: Mailbox,
  since: Date | null,
): Promise<LatestOtp | null> {
  return deps.storage.findLatestOtp(mailbox.id, since)
}
