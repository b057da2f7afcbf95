// The processing pipeline on BullMQ and the real Redis: jobs from the previous version, a slow resolver,
// and a poison message; skipped with a printed reason when Redis is not there.

import { describe, expect, test } from 'bun:test'
import crypto from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { uuidv7 } from '#lib/ids.ts'
import { parseMail } from '#lib/mail.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createBullmqQueue } from '#plugins/queue/bullmq/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createMessageProcessor } from '#server/pipeline/message-processor.ts'
import { createSenderAuthenticator, withTimeout } from '#server/pipeline/sender-auth.ts'
import { fixture } from './support/api-harness.ts'
import { funnelWithMailbox, noAuthentication } from './support/pipeline.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'

describe.skipIf(!(await redisAvailable()))('the pipeline on BullMQ and the real Redis', () => {
  async function setup(
    authenticateSender: Parameters<typeof createMessageProcessor>[0]['authenticateSender'],
    extractorThrows = false,
  ) {
    const storage = createPgliteStorage()
    await storage.migrate()
    const pubsub = createMemoryPubSub()
    const queue = createBullmqQueue({
      url: TEST_REDIS_URL,
      queueName: `pipeline-test-${crypto.randomUUID()}`,
      attempts: 2,
      backoffMs: 20,
    })
    const base = createBuiltinExtractor()
    const processor = createMessageProcessor({
      storage,
      pubsub,
      extractor: extractorThrows
        ? {
            name: 'poison',
            extract() {
              throw new Error('poison message')
            },
          }
        : base,
      authenticateSender,
    })
    processor.start(queue, 2)
    const funnel = await funnelWithMailbox(storage, pubsub, queue, 'redis')
    const events: string[] = []
    pubsub.subscribe((event) => events.push(event.type))
    const deliver = async () =>
      (
        await funnel.ingestMessage({
          raw: fixture('login-ja-base64.eml'),
          envelope: {
            mailFrom: 'no-reply@login.example.jp',
            rcptTo: ['redis@ephemail.test'],
            remoteAddress: '192.0.2.7',
            helo: 'mx.login.example.jp',
            source: 'smtp',
          },
          source: 'smtp',
        })
      ).stored[0]?.messageId as string
    const settled = async (id: string) => {
      for (let i = 0; i < 200; i++) {
        const message = await storage.getMessage(id, new Date())
        if (message && message.processing.state !== 'pending') return message
        await Bun.sleep(25)
      }
      throw new Error('the job did not finish')
    }
    const close = async () => {
      await queue.close()
      await storage.close()
    }
    return { deliver, settled, events, close }
  }

  test('a job queued before jobs were batched ({ messageId }) is still processed', async () => {
    const storage = createPgliteStorage()
    await storage.migrate()
    const queueName = `pipeline-legacy-${crypto.randomUUID()}`
    const queue = createBullmqQueue({ url: TEST_REDIS_URL, queueName, attempts: 2, backoffMs: 20 })
    const processor = createMessageProcessor({
      storage,
      pubsub: createMemoryPubSub(),
      extractor: createBuiltinExtractor(),
      authenticateSender: noAuthentication,
    })
    const connection = new Redis(TEST_REDIS_URL)
    const producer = new Queue(queueName, { connection })
    try {
      const mailboxId = crypto.randomUUID()
      await storage.insertMailbox({
        id: mailboxId,
        localPart: 'legacy',
        domain: 'ephemail.test',
        address: 'legacy@ephemail.test',
        tokenHash: crypto.randomUUID(),
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 60_000),
      })
      const raw = fixture('login-ja-base64.eml')
      const messageId = uuidv7()
      await storage.insertMessages([
        {
          id: messageId,
          mailboxId,
          receivedAt: new Date(),
          raw,
          envelope: {
            mailFrom: null,
            rcptTo: ['legacy@ephemail.test'],
            remoteAddress: null,
            helo: null,
            source: 'smtp',
          },
          parsed: await parseMail(raw),
          parseError: null,
          source: 'smtp',
          dedupeKey: null,
        },
      ])
      // Exactly what the previous version's funnel queued: one message per job, keyed by its id.
      await producer.add(queueName, { messageId }, { jobId: messageId })
      processor.start(queue, 1)
      let message = await storage.getMessage(messageId, new Date())
      for (let i = 0; i < 200 && message?.processing.state === 'pending'; i++) {
        await Bun.sleep(25)
        message = await storage.getMessage(messageId, new Date())
      }
      expect(message?.processing.state).toBe('processed')
      expect(message?.otp).toBe('482913')
    } finally {
      await producer.obliterate({ force: true })
      await producer.close()
      connection.disconnect()
      await queue.close()
      await storage.close()
    }
  })

  test('a slow resolver is cut off and the code still arrives', async () => {
    const never = () => new Promise<never>(() => {})
    const pipeline = await setup(
      createSenderAuthenticator({ resolver: withTimeout(never, 100), mta: 'mx.ephemail.test' }),
    )
    try {
      const message = await pipeline.settled(await pipeline.deliver())
      expect(message.processing.state).toBe('processed')
      expect(message.otp).toBe('482913')
      expect(message.authentication?.spf).toBe('temperror')
      expect(pipeline.events).toContain('message.processed')
    } finally {
      await pipeline.close()
    }
  })

  test('a poison message ends failed with its reason after the retries, and stays readable', async () => {
    const pipeline = await setup(
      async () => ({ spf: 'none', dkim: 'none', dmarc: 'none', arc: 'none', header: null }),
      true,
    )
    try {
      const message = await pipeline.settled(await pipeline.deliver())
      expect(message.processing).toEqual({ state: 'failed', error: 'poison message' })
      expect(message.parsed?.text).toContain('482913')
      expect(pipeline.events).not.toContain('message.processed')
    } finally {
      await pipeline.close()
    }
  })
})
