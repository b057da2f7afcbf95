// The processing pipeline on the embedded queue: extraction saved on the message, the otp route with long-poll,
// failures kept readable, and a slow DNS resolver cut off.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { JobQueue } from '#contracts/queue.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createInlineQueue } from '#plugins/queue/inline/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createMessageProcessor } from '#server/pipeline/message-processor.ts'
import { createSenderAuthenticator, withTimeout } from '#server/pipeline/sender-auth.ts'
import { createApiHarness, fixture } from './support/api-harness.ts'
import { funnelWithMailbox, noAuthentication } from './support/pipeline.ts'

describe('processing through the API', () => {
  let h: Awaited<ReturnType<typeof createApiHarness>>
  beforeAll(async () => {
    h = await createApiHarness()
  })
  afterAll(() => h.close())

  test('a stored message is processed: link, candidates, safe HTML and sender authentication saved', async () => {
    const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
    const { stored } = await h.deliver(fixture('confirm-de-qp.eml'), [box.address])
    await h.processed()
    const message = (await h.call('GET', `/v1/messages/${stored[0]?.messageId}`, { token: box.token })).json
    expect(message.processing.state).toBe('processed')
    expect(message.otp).toBeNull()
    expect(message.link).toBe('https://accounts.example-shop.de/confirm?token=9f8e7d6c5b4a&lang=de')
    expect(message.candidates.linkCandidates[0].value).toBe(message.link)
    expect(message.candidates.linkCandidates[0].reasons.length).toBeGreaterThan(0)
    expect(message.safeHtml).toContain(
      'href="https://accounts.example-shop.de/confirm?token=9f8e7d6c5b4a&amp;lang=de"',
    )
    expect(message.safeHtml).toContain('rel="noopener noreferrer"')
    // Offline: no DNS answers, so SPF cannot pass; DKIM has a signature that cannot be checked.
    expect(message.authentication.spf).not.toBe('pass')
    expect(message.authentication.dkim).not.toBe('pass')
    const list = (await h.call('GET', `/v1/mailboxes/${box.address}/messages`, { token: box.token })).json
    expect(list.items[0]).toMatchObject({ link: message.link, otp: null, processing: { state: 'processed' } })
  })

  test('GET /otp answers the latest code at once, waits for one with ?wait=, and honours ?since=', async () => {
    const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
    const empty = await h.call('GET', `/v1/mailboxes/${box.address}/otp`, { token: box.token })
    expect(empty.json).toEqual({
      otp: null,
      link: null,
      messageId: null,
      from: null,
      subject: null,
      receivedAt: null,
    })

    const waiting = h.call('GET', `/v1/mailboxes/${box.address}/otp?wait=20`, { token: box.token })
    await Bun.sleep(50)
    const { stored } = await h.deliver(fixture('login-ja-base64.eml'), [box.address])
    const woken = await waiting
    expect(woken.status).toBe(200)
    expect(woken.json).toMatchObject({
      otp: '482913',
      messageId: stored[0]?.messageId,
      subject: 'ログイン確認コード',
    })

    const later = await h.call(
      'GET',
      `/v1/mailboxes/${box.address}/otp?since=${encodeURIComponent(woken.json.receivedAt)}&wait=1`,
      {
        token: box.token,
      },
    )
    expect(later.json.otp).toBeNull() // nothing newer arrived: nulls after the wait, not an error

    const bad = await h.call('GET', `/v1/mailboxes/${box.address}/otp?wait=301`, { token: box.token })
    expect(bad.status).toBe(400)
    expect(bad.json.detail).toContain('query.wait')
  })
})

describe('failures and slow dependencies', () => {
  test('a message whose job fails for good is marked failed with the reason and stays readable', async () => {
    const storage = createPgliteStorage()
    await storage.migrate()
    const pubsub = createMemoryPubSub()
    const queue = createInlineQueue({ attempts: 3, backoffMs: 5 })
    let calls = 0
    const processor = createMessageProcessor({
      storage,
      pubsub,
      extractor: {
        name: 'poison',
        extract() {
          calls++
          throw new Error('extractor exploded')
        },
      },
      authenticateSender: noAuthentication,
    })
    processor.start(queue, 2)
    const funnel = await funnelWithMailbox(storage, pubsub, queue, 'poison')
    const { stored } = await funnel.ingestMessage({
      raw: fixture('login-ja-base64.eml'),
      envelope: {
        mailFrom: null,
        rcptTo: ['poison@ephemail.test'],
        remoteAddress: null,
        helo: null,
        source: 'smtp',
      },
      source: 'smtp',
    })
    await queue.drained()
    expect(calls).toBe(3)
    const message = await storage.getMessage(stored[0]?.messageId as string, new Date())
    expect(message?.processing).toEqual({ state: 'failed', error: 'extractor exploded' })
    expect(message?.parsed?.subject).toBe('ログイン確認コード')
    // Failed messages are not picked up again by the recovery scan.
    expect(await storage.findUnprocessed(new Date(Date.now() + 3_600_000), 10)).toEqual([])
    await queue.close()
    await storage.close()
  })

  test('in a job of several messages, one that fails does not hold back the others, and only it is retried', async () => {
    const storage = createPgliteStorage()
    await storage.migrate()
    const pubsub = createMemoryPubSub()
    const queue = createInlineQueue({ attempts: 3, backoffMs: 5 })
    const calls = new Map<string, number>()
    const builtin = createBuiltinExtractor()
    const processor = createMessageProcessor({
      storage,
      pubsub,
      extractor: {
        name: 'picky',
        extract(input) {
          calls.set(input.subject ?? '', (calls.get(input.subject ?? '') ?? 0) + 1)
          if (input.subject === 'ログイン確認コード') throw new Error('extractor exploded')
          return builtin.extract(input)
        },
      },
      authenticateSender: noAuthentication,
    })
    const processed: string[] = []
    pubsub.subscribe((event) => {
      if (event.type === 'message.processed') processed.push(event.messageId)
    })
    const jobs: string[][] = []
    const recordingQueue: JobQueue = {
      ...queue,
      enqueue: (batch) => {
        jobs.push(...batch.map((job) => job.messageIds))
        return queue.enqueue(batch)
      },
    }
    const funnel = await funnelWithMailbox(storage, pubsub, recordingQueue, 'mixed')
    const envelope = {
      mailFrom: null,
      rcptTo: ['mixed@ephemail.test'],
      remoteAddress: null,
      helo: null,
      source: 'smtp' as const,
    }
    // Delivered together, so the group commit stores them in one batch and they share one job.
    const [good, bad] = await Promise.all([
      funnel.ingestMessage({ raw: fixture('confirm-de-qp.eml'), envelope, source: 'smtp' }),
      funnel.ingestMessage({ raw: fixture('login-ja-base64.eml'), envelope, source: 'smtp' }),
    ])
    processor.start(queue, 2)
    await queue.drained()
    const goodId = good?.stored[0]?.messageId as string
    const badId = bad?.stored[0]?.messageId as string
    expect(jobs).toEqual([[goodId, badId]])
    expect(processed).toEqual([goodId])
    expect((await storage.getMessage(goodId, new Date()))?.processing.state).toBe('processed')
    expect((await storage.getMessage(badId, new Date()))?.processing).toEqual({
      state: 'failed',
      error: 'extractor exploded',
    })
    expect(calls.get('ログイン確認コード')).toBe(3)
    expect([...calls.values()].reduce((sum, count) => sum + count, 0)).toBe(4) // the good one ran once
    await queue.close()
    await storage.close()
  })

  test('a resolver that never answers is cut off by the deadline; the check reports a temporary error', async () => {
    const never = () => new Promise<never>(() => {})
    const authenticate = createSenderAuthenticator({
      resolver: withTimeout(never, 100),
      mta: 'mx.ephemail.test',
    })
    const result = await authenticate(fixture('confirm-de-qp.eml'), {
      mailFrom: 'noreply@accounts.example-shop.de',
      rcptTo: ['lena.schmidt@ephemail.test'],
      remoteAddress: '192.0.2.25',
      helo: 'mail-out.example-shop.de',
      source: 'smtp',
    })
    expect(result.spf).toBe('temperror')
    expect(result.header).toContain('Authentication-Results')
  })
})
