// Expiry: a mailbox past its time is invisible at once and then deleted for real, with its messages, by the sweeper.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { EphemailEvent } from '#lib/events.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createExpirySweeper } from '#server/pipeline/expiry-sweeper.ts'
import { createApiHarness, fixture } from './support/api-harness.ts'

let h: Awaited<ReturnType<typeof createApiHarness>>
beforeAll(async () => {
  h = await createApiHarness({ EPHEMAIL_TTL_MIN_SECONDS: '60' })
})
afterAll(() => h.close())

test('the sweeper deletes expired mailboxes and every message in small steps, and says so', async () => {
  const doomed = (await h.call('POST', '/v1/mailboxes', { body: { localPart: 'doomed', ttlSeconds: 60 } }))
    .json
  const survivor = (
    await h.call('POST', '/v1/mailboxes', { body: { localPart: 'survivor', ttlSeconds: 7200 } })
  ).json
  const ids: string[] = []
  for (let i = 0; i < 12; i++) {
    const result = await h.deliver(fixture('invoice-attachments.eml'), [doomed.address, survivor.address])
    ids.push(...result.stored.map((stored) => stored.messageId))
  }
  expect(ids).toHaveLength(24)

  const pubsub = createMemoryPubSub()
  const events: EphemailEvent[] = []
  pubsub.subscribe((event) => events.push(event))
  const inTwoMinutes = () => new Date(Date.now() + 120_000)
  const sweeper = createExpirySweeper({
    storage: h.storage,
    pubsub,
    intervalMs: 60_000,
    batchSize: 5,
    now: inTwoMinutes,
  })
  const swept = await sweeper.sweepOnce()
  expect(swept).toEqual({ mailboxes: 1, messages: 12 })
  expect(events).toEqual([{ type: 'mailbox.expired', mailboxId: doomed.id, reason: 'expired' }])

  // Really gone: not just hidden. Even a clock turned back cannot see them any more.
  const past = new Date(0)
  expect(await h.storage.findLiveMailboxByAddress(doomed.address, past)).toBeNull()
  for (const id of ids) {
    const owner = await h.storage.findMessageOwner(id, past)
    expect(owner === null || owner === survivor.id).toBe(true)
  }
  expect(
    (await h.call('GET', `/v1/mailboxes/${survivor.address}/messages?limit=100`)).json.items,
  ).toHaveLength(12)
  expect(await sweeper.sweepOnce()).toEqual({ mailboxes: 0, messages: 0 })
})

test('an expired mailbox is invisible before the sweep: API 404, its token 401, no delivery', async () => {
  const box = (await h.call('POST', '/v1/mailboxes', { body: { localPart: 'short-lived', ttlSeconds: 60 } }))
    .json
  // Move its expiry into the past directly, as time passing would.
  await h.storage.updateMailbox(box.id, {
    localPart: 'short-lived',
    domain: 'ephemail.test',
    address: box.address,
    expiresAt: new Date(Date.now() - 1),
  })
  expect((await h.call('GET', `/v1/mailboxes/${box.address}`)).status).toBe(404)
  expect((await h.call('GET', `/v1/mailboxes/${box.address}`, { token: box.token })).status).toBe(401)
  const result = await h.deliver(fixture('login-ja-base64.eml'), [box.address])
  expect(result).toEqual({ stored: [], rejected: [box.address] })
})

test('finished webhook deliveries go with their message; unfinished ones stay until they are done', async () => {
  const box = (await h.call('POST', '/v1/mailboxes', { body: { localPart: 'hooked', ttlSeconds: 60 } })).json
  const [stored] = (await h.deliver(fixture('confirm-de-qp.eml'), [box.address])).stored
  const webhook = {
    id: crypto.randomUUID(),
    mailboxId: null,
    url: 'https://hooks.example/x',
    filter: {},
    createdAt: new Date(),
  }
  await h.storage.insertWebhook({ ...webhook, secret: 'whsec_c2VjcmV0' })
  const delivery = (messageId: string, eventType: string) => ({
    id: crypto.randomUUID(),
    webhookId: webhook.id,
    messageId,
    eventType,
    payload: '{}',
    createdAt: new Date(),
  })
  const [done] = await h.storage.createWebhookDeliveries([
    delivery(stored?.messageId as string, 'message.processed'),
  ])
  const [waiting] = await h.storage.createWebhookDeliveries([
    delivery(stored?.messageId as string, 'other.event'),
  ])
  const attempt = { at: new Date().toISOString(), status: 200, latencyMs: 3, error: null }
  await h.storage.recordWebhookAttempt(done?.id as string, attempt, 'delivered')
  const sweeper = createExpirySweeper({
    storage: h.storage,
    pubsub: createMemoryPubSub(),
    intervalMs: 60_000,
    now: () => new Date(Date.now() + 120_000),
  })
  await sweeper.sweepOnce()
  const left = await h.storage.listWebhookDeliveries(webhook.id, 10)
  expect(left.map((row) => row.id)).toEqual([waiting?.id as string])
})
