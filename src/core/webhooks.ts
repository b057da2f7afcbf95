// Webhook operations for every door: register (URL checked against the outbound policy), list, read, delete.

import type { Principal } from '#contracts/auth.ts'
import { isUuid, uuidv7 } from '#lib/ids.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Webhook, WebhookDelivery, WebhookFilter } from '#lib/types.ts'
import type { CoreDeps } from './context.ts'
import { findMailbox } from './mailboxes.ts'
import {
  mayUseWebhook,
  noWebhook,
  owningKeyId,
  ownMailboxId,
  requireScope,
  seesEverything,
} from './policy.ts'

export interface RegisterWebhookInput {
  url: string
  /**
   * The mailbox to follow; omitted: the caller's own mailbox (a mailbox token), every mailbox of the
   * key (an API key), or every mailbox (the admin).
   */
  address?: string
  filter?: WebhookFilter
  /** Body format of its deliveries; absent: `standard`. A compatibility layer passes its own name. */
  format?: string
}

export interface RegisteredWebhook {
  webhook: Webhook
  /** The Standard Webhooks signing secret, shown once. */
  secret: string
}

export async function registerWebhook(
  deps: CoreDeps,
  principal: Principal,
  input: RegisterWebhookInput,
): Promise<RegisteredWebhook> {
  requireScope(principal, 'write')
  let mailboxId = ownMailboxId(principal)
  let address: string | null = null
  let ownerKeyId = owningKeyId(principal)
  if (input.address !== undefined) {
    const mailbox = await findMailbox(deps, principal, input.address, 'write')
    mailboxId = mailbox.id
    address = mailbox.address
    // A key sees the webhooks of its mailboxes, whoever registered them.
    ownerKeyId ??= mailbox.ownerKeyId
  } else if (mailboxId !== null) {
    const mailbox = await deps.storage.findLiveMailboxById(mailboxId, deps.now())
    address = mailbox?.address ?? null
    ownerKeyId ??= mailbox?.ownerKeyId ?? null
  }
  await deps.checkWebhookUrl(input.url)
  const max = deps.settings.webhooks.maxPerMailbox
  if (mailboxId !== null && (await deps.storage.countWebhooksOfMailbox(mailboxId)) >= max)
    throw new ProblemError(
      422,
      'limit-exceeded',
      `A mailbox may have at most ${max} webhooks (EPHEMAIL_WEBHOOK_MAX_PER_MAILBOX); delete one first`,
    )
  const created = {
    id: uuidv7(),
    mailboxId,
    ownerKeyId,
    url: input.url,
    filter: input.filter ?? {},
    format: input.format ?? 'standard',
    createdAt: deps.now(),
  }
  const secret = newWebhookSecret()
  await deps.storage.insertWebhook({ ...created, secret })
  await deps.pubsub.publish({ type: 'webhooks.changed', mailboxId })
  return { webhook: { ...created, address }, secret }
}

/** A webhook `principal` may see (its own mailbox's, or any for the admin), else a 404. */
export async function getWebhook(deps: CoreDeps, principal: Principal, id: string): Promise<Webhook> {
  requireScope(principal, 'read')
  const webhook = isUuid(id) ? await deps.storage.getWebhook(id) : null
  if (!webhook || !mayUseWebhook(principal, webhook)) throw noWebhook(id)
  return webhook
}

export function listWebhooks(deps: CoreDeps, principal: Principal): Promise<Webhook[]> {
  requireScope(principal, 'read')
  if (seesEverything(principal)) return deps.storage.listWebhooks('all')
  if (principal.kind === 'key') return deps.storage.listWebhooks({ ownerKeyId: principal.keyId })
  return deps.storage.listWebhooks({ mailboxId: ownMailboxId(principal) as string })
}

/** Deletes a webhook with its deliveries; queued retries stop. */
export async function deleteWebhook(deps: CoreDeps, principal: Principal, id: string): Promise<void> {
  requireScope(principal, 'write')
  const webhook = await getWebhook(deps, principal, id)
  await deps.storage.deleteWebhook(webhook.id)
  await deps.pubsub.publish({ type: 'webhooks.changed', mailboxId: webhook.mailboxId })
}

export async function listWebhookDeliveries(
  deps: CoreDeps,
  principal: Principal,
  id: string,
  limit: number,
): Promise<WebhookDelivery[]> {
  const webhook = await getWebhook(deps, principal, id)
  return deps.storage.listWebhookDeliveries(webhook.id, limit)
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64, as its libraries expect. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}
