// Per-mailbox event numbers: allocated with the stored change, gapless, and delivered in order by the hub
// even when publishes arrive out of order or one never arrives.

import { expect, test } from 'bun:test'
import { createMemoryPubSub } from '../plugins/pubsub/memory/index.ts'
import { createPgliteStorage } from '../plugins/storage/pglite/index.ts'
import type { EphemailEvent, MailboxEvent } from '../src/lib/events.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createEventHub } from '../src/server/event-hub.ts'

async function storageWithMailbox() {
  const storage = createPgliteStorage()
  await storage.migrate()
  const now = new Date()
  const mailbox = {
    id: uuidv7(),
    address: 'order@ephemail.test',
    localPart: 'order',
    domain: 'ephemail.test',
    tokenHash: 'f'.repeat(64),
    createdAt: now,
    expiresAt: new Date(now.getTime() + 600_000),
  }
  await storage.insertMailbox(mailbox)
  const store = (count: number) =>
    storage.insertMessages(
      Array.from({ length: count }, () => ({
        id: uuidv7(),
        mailboxId: mailbox.id,
        receivedAt: new Date(),
        raw: new TextEncoder().encode('Subject: hi\r\n\r\nbody\r\n'),
        envelope: {
          mailFrom: 'a@b.example',
          rcptTo: [mailbox.address],
          remoteAddress: null,
          helo: null,
          source: 'smtp' as const,
        },
        parsed: null,
        parseError: null,
      })),
    )
  return { storage, mailbox, store }
}

const result = {
  otp: '1234',
  link: null,
  extraction: { otpCandidates: [], linkCandidates: [] },
  authentication: null,
  safeHtml: null,
}

test('numbers are handed out per mailbox with each stored change, without holes, once per message processed', async () => {
  const { storage, mailbox, store } = await storageWithMailbox()
  expect(await store(3)).toEqual([1, 2, 3])
  expect(await store(1)).toEqual([4])
  const [event] = await storage.listMailboxEvents(mailbox.id, 0, 1)
  const messageId = (event as MailboxEvent).messageId
  expect((await storage.saveProcessingResult(messageId, result, new Date()))?.seq).toBe(5)
  // A second save of the same message uses no number: the sequence keeps no hole.
  expect(await storage.saveProcessingResult(messageId, result, new Date())).toBeNull()
  expect(await store(1)).toEqual([6])
  expect(await storage.currentEventSeq(mailbox.id)).toBe(6)
  const all = await storage.listMailboxEvents(mailbox.id, 0)
  expect(all.map((e) => `${e.seq} ${e.type}`)).toEqual([
    '1 message.received',
    '2 message.received',
    '3 message.received',
    '4 message.received',
    '5 message.processed',
    '6 message.received',
  ])
  expect((await storage.listMailboxEvents(mailbox.id, 4, 5)).map((e) => e.seq)).toEqual([5])
  await storage.close()
})

test('the hub delivers out-of-order publishes in order, and reads a number that never arrives from storage', async () => {
  const { storage, mailbox, store } = await storageWithMailbox()
  const pubsub = createMemoryPubSub()
  const hub = createEventHub({ pubsub, storage, gapWaitMs: 30 })
  const seen: number[] = []
  const subscription = await hub.subscribe(mailbox.id, (event) => {
    if (event.type !== 'mailbox.expired') seen.push(event.seq)
  })
  expect(subscription?.baselineSeq).toBe(0)
  await store(3)
  const stored = await storage.listMailboxEvents(mailbox.id, 0)
  const publish = (seq: number) => pubsub.publish(stored[seq - 1] as EphemailEvent)
  await publish(3)
  await publish(1)
  expect(seen).toEqual([1]) // 3 waits for 2
  await publish(1) // a repeat is dropped
  // 2 is never published (its publisher died after the commit): the hub fetches it.
  const deadline = Date.now() + 2000
  while (seen.length < 3 && Date.now() < deadline) await Bun.sleep(10)
  expect(seen).toEqual([1, 2, 3])

  // A late joiner starts where the hub is; an expiry reaches everyone.
  const late: string[] = []
  const second = await hub.subscribe(mailbox.id, (event) => late.push(event.type))
  expect(second?.baselineSeq).toBe(3)
  await pubsub.publish({ type: 'mailbox.expired', mailboxId: mailbox.id, reason: 'deleted' })
  expect(late).toEqual(['mailbox.expired'])
  expect(await hub.subscribe(uuidv7(), () => {})).toBeNull()
  subscription?.unsubscribe()
  second?.unsubscribe()
  expect(hub.listenerCount()).toBe(0)
  hub.close()
  await storage.close()
})
