// The processing pipeline on the embedded queue: extraction saved on the message, the otp route with long-poll,
// failures kept readable, a slow DNS resolver, the extraction corpus, and the command line.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import crypto from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { dkimSign } from 'mailauth/lib/dkim/sign'
import type { PubSub } from '#contracts/pubsub.ts'
import type { JobQueue } from '#contracts/queue.ts'
import type { Storage } from '#contracts/storage.ts'
import { parseExtractionRules } from '#lib/extraction-rules.ts'
import { uuidv7 } from '#lib/ids.ts'
import { parseMail } from '#lib/mail.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createBullmqQueue } from '#plugins/queue/bullmq/index.ts'
import { createInlineQueue } from '#plugins/queue/inline/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { loadConfig } from '#server/config.ts'
import { createIngestFunnel } from '#server/pipeline/ingest-funnel.ts'
import { createMessageProcessor, extractFromMail } from '#server/pipeline/message-processor.ts'
import {
  authenticationInput,
  createSenderAuthenticator,
  type DnsResolver,
  withCache,
  withTimeout,
} from '#server/pipeline/sender-auth.ts'
import { createApiHarness, fixture } from './support/api-harness.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'

const CORPUS = join(import.meta.dir, 'fixtures', 'extraction')

/** Sender authentication that finds nothing, for tests about other steps. */
const noAuthentication = async () => ({
  spf: 'none',
  dkim: 'none',
  dmarc: 'none',
  arc: 'none',
  header: null,
})

/** A funnel over the given plugins, with one live mailbox `<localPart>@ephemail.test` to deliver to. */
async function funnelWithMailbox(storage: Storage, pubsub: PubSub, queue: JobQueue, localPart: string) {
  await storage.insertMailbox({
    id: crypto.randomUUID(),
    localPart,
    domain: 'ephemail.test',
    address: `${localPart}@ephemail.test`,
    tokenHash: crypto.randomUUID(),
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 60_000),
  })
  const config = loadConfig({}, [])
  return createIngestFunnel({ storage, pubsub, queue, domains: config.domains, maxMessageBytes: 1_000_000 })
}

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
      funnel.ingestMessage({ raw: fixture('confirm-de-qp.eml'), envelope }),
      funnel.ingestMessage({ raw: fixture('login-ja-base64.eml'), envelope }),
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

describe('sender authentication input', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  // The signer's DNS: its DKIM key, an SPF record that allows the sending address, and a DMARC policy.
  const resolver: DnsResolver = async (name, type) => {
    if (type === 'TXT' && name === 'mail._domainkey.example-shop.de')
      return [[`v=DKIM1; k=rsa; p=${publicDer}`]]
    if (type === 'TXT' && name === 'accounts.example-shop.de') return [['v=spf1 ip4:192.0.2.25 -all']]
    if (type === 'TXT' && name === '_dmarc.example-shop.de') return [['v=DMARC1; p=reject']]
    throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' })
  }
  const envelope = {
    mailFrom: 'noreply@accounts.example-shop.de',
    rcptTo: ['lena.schmidt@ephemail.test'],
    remoteAddress: '192.0.2.25',
    helo: 'mail-out.example-shop.de',
    source: 'smtp' as const,
  }
  const authenticate = createSenderAuthenticator({ resolver, mta: 'mx.ephemail.test' })
  // The fixture as it left the sender's MTA: without the DKIM signature it was given there.
  const unsignedFixture = () =>
    Buffer.from(
      Buffer.from(fixture('confirm-de-qp.eml'))
        .toString('latin1')
        .replace(/^DKIM-Signature:.*\r\n(?:[ \t].*\r\n)*/m, ''),
      'latin1',
    )

  test('unsigned mail is checked on its headers alone, with the verdicts the whole message gets', async () => {
    const raw = new Uint8Array(unsignedFixture())
    const input = authenticationInput(raw) as Buffer
    expect(input.length).toBeLessThan(raw.length)
    expect(input.toString('latin1')).toMatch(/\r?\n\r?\n$/)
    const headersOnly = await authenticate(raw, envelope)
    expect(headersOnly.spf).toBe('pass')
    expect(headersOnly.dkim).toBe('none')
    const { authenticate: whole } = await import('mailauth')
    const reference = (await whole(Buffer.from(raw), {
      ...envelope,
      ip: envelope.remoteAddress,
      sender: envelope.mailFrom,
      resolver,
      mta: 'mx.ephemail.test',
    })) as { spf: { status: { result: string } }; dmarc: { status: { result: string } } }
    expect(headersOnly.spf).toBe(reference.spf.status.result)
    expect(headersOnly.dmarc).toBe(reference.dmarc.status.result)
  })

  test('DKIM-signed mail is checked whole: the body hash passes, and a changed body no longer passes', async () => {
    const unsigned = unsignedFixture()
    const { signatures } = await dkimSign(unsigned, {
      signatureData: [
        {
          canonicalization: 'relaxed/relaxed',
          signingDomain: 'example-shop.de',
          selector: 'mail',
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        },
      ],
      // mailauth's typings list signer fields at the top level; its signer reads `signatureData`.
    } as unknown as Parameters<typeof dkimSign>[1])
    expect(signatures).toStartWith('DKIM-Signature:')
    const signed = new Uint8Array(Buffer.concat([Buffer.from(signatures), unsigned]))
    expect(authenticationInput(signed)?.length).toBe(signed.length)
    const verdict = await authenticate(signed, envelope)
    expect(verdict.dkim).toBe('pass')
    expect(verdict.dmarc).toBe('pass')
    const tampered = Buffer.from(signed)
    tampered.write('X', tampered.length - 10, 'latin1')
    // mailauth's verdict when the body hash does not verify (the signature itself is intact).
    expect((await authenticate(new Uint8Array(tampered), envelope)).dkim).toBe('neutral')
  })
})

describe('sanitised HTML', () => {
  test('scripts, handlers, forms, frames and javascript: URLs go; layout and remote images stay, marked', () => {
    const html = sanitizeHtml(
      '<table bgcolor="#fff" onload="x()"><tr><td style="color:red">Hi<script>alert(1)</script></td></tr></table>' +
        '<a href="javascript:alert(1)">a</a><a href=" java\tscript:alert(1)">b</a><a href="https://ok.example/?a=1&amp;b=2">c</a>' +
        '<img src="https://t.example/p.gif" onerror="x()"><iframe src="https://x.example"></iframe>' +
        '<form action="https://x.example"><input name="q"></form><svg><script>1</script></svg>',
    )
    expect(html).not.toMatch(/script|onload|onerror|iframe|<form|<input|<svg|javascript/i)
    expect(html).toContain('<td style="color:red">Hi</td>')
    expect(html).toContain(
      '<a href="https://ok.example/?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">c</a>',
    )
    expect(html).toContain('<img src="https://t.example/p.gif" data-remote-image>')
  })
})

describe('extraction corpus', () => {
  const labels: { file: string; otp: string | null; link: string | null; kind: string }[] = JSON.parse(
    readFileSync(join(CORPUS, 'labels.json'), 'utf8'),
  )

  test('at least 98% exact codes and links, and no false positive on any negative', async () => {
    const extractor = createBuiltinExtractor()
    let otpRight = 0
    let linkRight = 0
    const falsePositives: string[] = []
    for (const label of labels) {
      const found = extractFromMail(
        extractor,
        await parseMail(new Uint8Array(readFileSync(join(CORPUS, label.file)))),
      )
      if (found.otp === label.otp) otpRight++
      if (found.link === label.link) linkRight++
      if (label.kind === 'negative' && (found.otp !== null || found.link !== null))
        falsePositives.push(label.file)
    }
    expect(labels.length).toBeGreaterThanOrEqual(100)
    expect(labels.filter((label) => label.kind === 'negative').length).toBeGreaterThanOrEqual(30)
    expect(otpRight / labels.length).toBeGreaterThanOrEqual(0.98)
    expect(linkRight / labels.length).toBeGreaterThanOrEqual(0.98)
    expect(falsePositives).toEqual([])
  })

  test('`npx ephemail extract` prints one JSON line per file, in order, from the same code path', () => {
    const files = labels.slice(0, 5).map((label) => join(CORPUS, label.file))
    const run = Bun.spawnSync([join(import.meta.dir, '..', 'bin', 'ephemail.mjs'), 'extract', ...files])
    expect(run.exitCode).toBe(0)
    const lines = run.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((line) => line.file)).toEqual(files)
    for (const [i, line] of lines.entries()) {
      expect(line.otp).toBe(labels[i]?.otp ?? null)
      expect(line.link).toBe(labels[i]?.link ?? null)
    }
  })
})

describe('DNS cache for sender authentication', () => {
  test('repeats of a lookup, failures included, are answered from the cache until they expire', async () => {
    const asked: string[] = []
    const upstream = async (name: string, type: string) => {
      asked.push(`${type} ${name}`)
      if (name.startsWith('_dmarc')) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' })
      return [['v=spf1 -all']]
    }
    const cached = withCache(upstream, 50, 2)
    expect(await cached('acme.example', 'TXT')).toEqual([['v=spf1 -all']])
    expect(await cached('ACME.example', 'TXT')).toEqual([['v=spf1 -all']])
    await expect(cached('_dmarc.acme.example', 'TXT')).rejects.toThrow('nx')
    await expect(cached('_dmarc.acme.example', 'TXT')).rejects.toThrow('nx')
    expect(asked).toEqual(['TXT acme.example', 'TXT _dmarc.acme.example'])
    await Bun.sleep(60)
    await cached('acme.example', 'TXT')
    expect(asked).toHaveLength(3) // expired, asked again
  })
})

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

describe('operator extraction rules', () => {
  test('a rule for the sender domain wins over the heuristics; other senders are unaffected', () => {
    const extractor = createBuiltinExtractor(
      parseExtractionRules('[{"senderDomain":"bank.example","otpPattern":"TAN:? (\\\\d{6})"}]'),
    )
    const text = 'Reference 123456. Your TAN: 987654 (order 555555).'
    expect(
      extractor.extract({ subject: 'TAN', text, html: null, fromAddress: 'tan@secure.bank.example' }).otp,
    ).toBe('987654')
    const other = extractor.extract({ subject: 'TAN', text, html: null, fromAddress: 'x@other.example' })
    expect(other.otpCandidates[0]?.reasons).not.toContain('rule for bank.example')
    expect(() => parseExtractionRules('[{"senderDomain":"x"}]')).toThrow('entry 0 needs string fields')
    expect(() => parseExtractionRules('[{"senderDomain":"x","otpPattern":"("}]')).toThrow('entry 0')
  })
})
