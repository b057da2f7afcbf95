// Per-mailbox event numbers: allocated with the stored change, gapless, and delivered in order by the hub
// even when publishes arrive out of order or one never arrives.

import { expect, test } from 'bun:test'
import type { EphemailEvent, MailboxEvent } from '#lib/events.ts'
import { uuidv7 } from '#lib/ids.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createEventHub } from '#server/live/event-hub.ts'

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
        source: 'smtp',
        dedupeKey: null,
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
  notes: [],
}

test('numbers are handed out per mailbox with each stored change, without holes, once per message processed', async () => {
  const { storage, mailbox, store } = await storageWithMailbox()
  expect(await store(3)).toEqual([1, 2, 3])
  expect(await store(1)).toEqual([4])
  const [event] = await storage.listMailboxEvents(mailbox.id, 0, 1)
  const messageId = (event as MailboxEvent).messageId
  const save = (ids: string[]) =>
    storage.saveProcessingResults(ids.map((id) => ({ id, result, processedAt: new Date() })))
  expect((await save([messageId])).map((saved) => saved.seq)).toEqual([5])
  // A second save of the same message uses no number: the sequence keeps no hole.
  expect(await save([messageId])).toEqual([])
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

test('one save of many messages numbers them in arrival order, skipping those processed already or gone', async () => {
  const { storage, mailbox, store } = await storageWithMailbox()
  await store(4)
  const [first, second, third, fourth] = (await storage.listMailboxEvents(mailbox.id, 0)).map(
    (event) => event.messageId,
  ) as [string, string, string, string]
  const save = (chosen: string[]) =>
    storage.saveProcessingResults(chosen.map((id) => ({ id, result, processedAt: new Date() })))
  expect(await save([second])).toMatchObject([{ id: second, seq: 5 }])
  await storage.deleteMessage(fourth, new Date())
  // Given out of order, with one processed already and one deleted: the other two take 6 and 7.
  const saved = await save([third, fourth, second, first])
  expect(saved.map(({ id, seq }) => `${seq} ${id}`).sort()).toEqual([`6 ${first}`, `7 ${third}`])
  expect(await storage.currentEventSeq(mailbox.id)).toBe(7)
  const loaded = await storage.loadForProcessing([first, second, third, fourth])
  expect(loaded.map((input) => input.id).sort()).toEqual([first, second, third].sort())
  expect(loaded.every((input) => input.processed)).toBe(true)
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
