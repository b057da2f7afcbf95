// Webhooks: which registered URLs want a processed message (dispatch), and sending one signed delivery (deliver).

import { Webhook as StandardWebhook } from 'standardwebhooks'
import type { PubSub } from '#contracts/pubsub.ts'
import { type DeliverWebhookJob, type JobQueue, PermanentJobError } from '#contracts/queue.ts'
import type { Storage } from '#contracts/storage.ts'
import type { WebhookPayloadBuilder } from '#core/compat.ts'
import type { MessageProcessedEvent } from '#lib/events.ts'
import { uuidv7 } from '#lib/ids.ts'
import { createTtlCache } from '#lib/ttl-cache.ts'
import type { WebhookFilter } from '#lib/types.ts'
import { eventData } from '#server/live/live-feed.ts'
import { OutboundBlockedError, type OutboundPolicy } from './address-policy.ts'
import { postOutbound } from './pinned-post.ts'

/** Unfinished deliveries re-enqueued per recovery pass (their job may have been lost with the process). */
const RECOVERY_BATCH = 500

/** Does the processed message pass the webhook's filter? Every field given must match. */
export function matchesFilter(filter: WebhookFilter, event: MessageProcessedEvent): boolean {
  if (filter.from !== undefined) {
    const sender = event.from?.address.toLowerCase() ?? ''
    const wanted = filter.from.toLowerCase()
    const matches = wanted.includes('@')
      ? sender === wanted
      : sender.endsWith(`@${wanted}`) || sender.endsWith(`.${wanted}`)
    if (!matches) return false
  }
  if (filter.subjectContains !== undefined) {
    if (!(event.subject ?? '').toLowerCase().includes(filter.subjectContains.toLowerCase())) return false
  }
  if (filter.hasOtp !== undefined && (event.otp !== null) !== filter.hasOtp) return false
  return true
}

/** The body every webhook gets: Standard Webhooks' `type`/`timestamp`/`data`, data as the streams show it. */
export function webhookPayload(event: MessageProcessedEvent, address: string, timestamp: Date): string {
  return JSON.stringify({
    type: event.type,
    timestamp: timestamp.toISOString(),
    data: eventData(event, address),
  })
}

export interface WebhookDispatcher {
  /** Creates the deliveries a processed message calls for and queues them; safe to repeat. */
  dispatch(event: MessageProcessedEvent): Promise<number>
  /** Re-queues unfinished deliveries untouched for `staleMs` (a lost job); returns how many. */
  recover(staleMs: number): Promise<number>
}

/** How long a mailbox's webhook list is reused; registering or deleting one clears it at once anyway. */
const WEBHOOK_CACHE_MS = 60_000
/** Mailboxes whose lists are kept at most: bounds memory; the longest kept go first and are read again. */
const WEBHOOK_CACHE_ENTRIES = 10_000

export function createWebhookDispatcher({
  storage,
  queue,
  pubsub,
  payloadFormats = {},
  now = () => new Date(),
}: {
  storage: Storage
  queue: JobQueue<DeliverWebhookJob>
  /** Carries webhooks.changed, so every worker forgets a changed list (most mailboxes have none). */
  pubsub: PubSub
  /**
   * Body builders of the other formats, by the webhook's `format` (the compat plugins' own); `standard`
   * and any format no plugin builds any more get the Standard Webhooks body.
   */
  payloadFormats?: Readonly<Record<string, WebhookPayloadBuilder>>
  now?: () => Date
}): WebhookDispatcher {
  const known = createTtlCache<string, Awaited<ReturnType<Storage['findWebhooksForMailbox']>>>({
    ttlMs: WEBHOOK_CACHE_MS,
    maxEntries: WEBHOOK_CACHE_ENTRIES,
  })
  pubsub.subscribe((event) => {
    if (event.type === 'webhooks.changed') {
      if (event.mailboxId === null) known.clear()
      else known.delete(event.mailboxId)
    } else if (event.type === 'mailbox.expired') known.delete(event.mailboxId)
  })
  async function webhooksFor(mailboxId: string) {
    const at = now().getTime() // the injected clock, and a list's time starts before it is read
    const cached = known.get(mailboxId, at)
    if (cached !== undefined) return cached
    const webhooks = await storage.findWebhooksForMailbox(mailboxId)
    known.set(mailboxId, webhooks, at)
    return webhooks
  }

  return {
    async dispatch(event) {
      const candidates = await webhooksFor(event.mailboxId)
      const wanted = candidates.filter((webhook) => matchesFilter(webhook.filter, event))
      if (wanted.length === 0) return 0
      const mailbox = await storage.findLiveMailboxById(event.mailboxId, now())
      if (!mailbox) return 0
      const createdAt = now()
      // Each format's body is built once, however many webhooks want it.
      const payloads = new Map<string, string>()
      const payloadIn = (format: string) => {
        let payload = payloads.get(format)
        if (payload === undefined) {
          const build = Object.hasOwn(payloadFormats, format) ? payloadFormats[format] : undefined
          payload = (build ?? webhookPayload)(event, mailbox.address, createdAt)
          payloads.set(format, payload)
        }
        return payload
      }
      const created = await storage.createWebhookDeliveries(
        wanted.map((webhook) => ({
          id: uuidv7(createdAt.getTime()),
          webhookId: webhook.id,
          messageId: event.messageId,
          eventType: event.type,
          payload: payloadIn(webhook.format),
          createdAt,
        })),
      )
      await queue.enqueue(created.map(({ id, webhookId }) => ({ deliveryId: id, webhookId })))
      return created.length
    },
    async recover(staleMs) {
      const stale = await storage.findUnfinishedWebhookDeliveries(
        new Date(now().getTime() - staleMs),
        RECOVERY_BATCH,
      )
      if (stale.length > 0)
        await queue.enqueue(stale.map(({ id, webhookId }) => ({ deliveryId: id, webhookId })))
      return stale.length
    },
  }
}

export interface WebhookDelivererOptions {
  storage: Storage
  policy: OutboundPolicy
  timeoutMs: number
  /** Attempts before a delivery is dead; the last failed one is recorded as such. */
  attempts: number
  userAgent: string
  now?: () => Date
}

/**
 * Sends one delivery: signs the stored payload (webhook-id stays the same on every retry, the
 * timestamp and signature are fresh), POSTs it, records the attempt. A non-2xx answer or a network
 * failure throws, so the queue retries with backoff; a blocked address fails for good.
 */
export function createWebhookDeliverer({
  storage,
  policy,
  timeoutMs,
  attempts,
  userAgent,
  now = () => new Date(),
}: WebhookDelivererOptions) {
  return async function deliver({ deliveryId }: DeliverWebhookJob): Promise<void> {
    const loaded = await storage.loadWebhookDelivery(deliveryId)
    if (!loaded) return // the webhook was deleted meanwhile
    const { delivery, payload, url, secret } = loaded
    if (delivery.state === 'delivered' || delivery.state === 'dead') return // a repeated job
    const lastTry = delivery.attempts.length + 1 >= attempts
    const sentAt = now()
    const headers = {
      'content-type': 'application/json',
      'user-agent': userAgent,
      'webhook-id': deliveryId,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new StandardWebhook(secret).sign(deliveryId, sentAt, payload),
    }
    const started = performance.now()
    let status: number | null = null
    let latencyMs: number
    let failure: Error | null = null
    try {
      const result = await postOutbound(url, { body: payload, headers, timeoutMs, policy })
      status = result.status
      latencyMs = result.latencyMs
      if (result.status < 200 || result.status > 299)
        failure = new Error(`the receiver answered HTTP ${result.status}`)
    } catch (error) {
      latencyMs = performance.now() - started
      failure = error as Error
    }
    const blocked = failure instanceof OutboundBlockedError
    await storage.recordWebhookAttempt(
      deliveryId,
      { at: sentAt.toISOString(), status, latencyMs: Math.round(latencyMs), error: failure?.message ?? null },
      failure === null ? 'delivered' : blocked || lastTry ? 'dead' : 'retrying',
    )
    if (blocked) throw new PermanentJobError((failure as Error).message)
    if (failure) throw failure
  }
}
