// Pub/sub contract suite: what every PubSub promises, run by each pub/sub plugin's own test file beside it.

import { afterEach, describe, expect, spyOn } from 'bun:test'
import type { PubSub } from '#contracts/pubsub.ts'
import type { EphemailEvent, MailboxChangedEvent } from '#lib/events.ts'
import { waitFor } from '../support/wait-for.ts'
import { type ContractOptions, contractTest } from './known-gaps.ts'

/**
 * Opens an instance of the plugin under test on `channel`. Instances opened on the same channel are
 * one bus where the plugin can share it (Redis, like processes of one deployment); another channel is
 * another bus, like another deployment with its own prefix.
 */
export type OpenPubSub = (channel: string) => PubSub

/** Unique per run, so parallel runs and leftovers of an aborted one never share a channel. */
const RUN_PREFIX = `ephemail-test-${Date.now()}-${Math.floor(Math.random() * 1e6)}`
export const uniqueChannel = () => `${RUN_PREFIX}-${crypto.randomUUID()}:events`

/** Markers let a test know everything sent before them has arrived; recorders leave them out. */
const MARKER = 'marker-'
const isMarker = (event: EphemailEvent) => mailboxIdOf(event)?.startsWith(MARKER) === true
/** The mailbox an event is about; domains.changed is about none. */
const mailboxIdOf = (event: EphemailEvent) => ('mailboxId' in event ? event.mailboxId : undefined)

export const changed = (mailboxId: string): MailboxChangedEvent => ({ type: 'mailbox.changed', mailboxId })

/** A listener that keeps every event it hears except markers. */
export function recorder() {
  const events: EphemailEvent[] = []
  return {
    events,
    listener(event: EphemailEvent) {
      if (!isMarker(event)) events.push(event)
    },
  }
}

/**
 * Publishes a marker through `pubsub` and waits until `pubsub` itself hears it. Delivery to one
 * listener keeps publish order, so whatever was published (and awaited) before reached it first:
 * after this, "not heard" means "never will be".
 */
export async function settled(pubsub: PubSub): Promise<void> {
  const marker = changed(`${MARKER}${crypto.randomUUID()}`)
  let heard = false
  const unsubscribe = pubsub.subscribe((event) => {
    if (event.type === marker.type && mailboxIdOf(event) === marker.mailboxId) heard = true
  })
  try {
    await pubsub.publish(marker)
    await waitFor(() => heard, `${pubsub.name} to hear its own marker`)
  } finally {
    unsubscribe()
  }
}

/** One event of every type, with ids unique to the test so nothing from elsewhere can match. */
function eventsOfEveryType(tag: string): EphemailEvent[] {
  const mailboxId = `${tag}-${crypto.randomUUID()}`
  const at = new Date().toISOString()
  const from = { name: 'Sender', address: 'sender@example.org' }
  return [
    {
      type: 'message.received',
      mailboxId,
      seq: 1,
      messageId: 'm1',
      address: 'a@x.test',
      from,
      subject: 'hi',
      receivedAt: at,
    },
    {
      type: 'message.processed',
      mailboxId,
      seq: 2,
      messageId: 'm1',
      from: null,
      subject: null,
      otp: '123456',
      link: null,
      receivedAt: at,
      processedAt: at,
    },
    { type: 'mailbox.changed', mailboxId },
    { type: 'mailbox.expired', mailboxId, reason: 'deleted' },
    { type: 'webhooks.changed', mailboxId: null },
    { type: 'domains.changed', name: `${tag}.example` },
  ]
}

export function runPubSubContract(name: string, open: OpenPubSub, options: ContractOptions = {}) {
  describe(`pubsub contract: ${name}`, () => {
    const { test, checkSkips } = contractTest(`pubsub contract: ${name}`, options)
    const opened: PubSub[] = []
    afterEach(async () => {
      for (const pubsub of opened.splice(0)) await pubsub.close()
    })
    /** An instance that already hears its channel, so nothing published from here on is missed. */
    async function openListening(channel = uniqueChannel()): Promise<PubSub> {
      const pubsub = open(channel)
      opened.push(pubsub)
      await settled(pubsub)
      return pubsub
    }

    test('a listener hears every event its instance publishes, of every type, as an equal value', async () => {
      const pubsub = await openListening()
      const heard = recorder()
      pubsub.subscribe(heard.listener)
      const sent = eventsOfEveryType('every-type')
      for (const event of sent) await pubsub.publish(event)
      await waitFor(() => heard.events.length >= sent.length, 'every event')
      expect(heard.events).toEqual(sent)
    })

    test('every listener of an instance hears every event', async () => {
      const pubsub = await openListening()
      const listeners = [recorder(), recorder(), recorder()]
      for (const { listener } of listeners) pubsub.subscribe(listener)
      const sent = [changed(`several-${crypto.randomUUID()}`), changed(`several-${crypto.randomUUID()}`)]
      for (const event of sent) await pubsub.publish(event)
      await settled(pubsub)
      for (const { events } of listeners) expect(events).toEqual(sent)
    })

    test("instances sharing a channel hear each other's events, in publish order", async () => {
      const channel = uniqueChannel()
      const first = await openListening(channel)
      const second = await openListening(channel)
      const heardByFirst = recorder()
      const heardBySecond = recorder()
      first.subscribe(heardByFirst.listener)
      second.subscribe(heardBySecond.listener)
      const fromFirst = Array.from({ length: 20 }, (_, index) => changed(`from-first-${index}`))
      const fromSecond = changed(`from-second-${crypto.randomUUID()}`)
      await Promise.all(fromFirst.map((event) => first.publish(event)))
      await second.publish(fromSecond)
      await settled(first)
      await settled(second)
      // Both hear both; order is kept per publisher (two publishers' events may interleave).
      for (const { events } of [heardByFirst, heardBySecond]) {
        expect(events.filter((event) => mailboxIdOf(event)?.startsWith('from-first-'))).toEqual(fromFirst)
        expect(events.filter((event) => mailboxIdOf(event) === fromSecond.mailboxId)).toEqual([fromSecond])
      }
    })

    test('an instance on another channel hears nothing of this one', async () => {
      const here = await openListening()
      const elsewhere = await openListening()
      const heardHere = recorder()
      const heardElsewhere = recorder()
      here.subscribe(heardHere.listener)
      elsewhere.subscribe(heardElsewhere.listener)
      const sent = changed(`this-channel-${crypto.randomUUID()}`)
      await here.publish(sent)
      await settled(here)
      await settled(elsewhere)
      expect(heardHere.events).toEqual([sent])
      expect(heardElsewhere.events).toEqual([])
    })

    test('an unsubscribed listener hears nothing more while the others keep hearing', async () => {
      const pubsub = await openListening()
      const leaving = recorder()
      const staying = recorder()
      const unsubscribe = pubsub.subscribe(leaving.listener)
      pubsub.subscribe(staying.listener)
      const before = changed(`before-${crypto.randomUUID()}`)
      const after = changed(`after-${crypto.randomUUID()}`)
      await pubsub.publish(before)
      await settled(pubsub)
      unsubscribe()
      await pubsub.publish(after)
      await settled(pubsub)
      expect(leaving.events).toEqual([before])
      expect(staying.events).toEqual([before, after])
    })

    test('events of one publisher arrive in publish order, awaited one by one or published together', async () => {
      const pubsub = await openListening()
      const heard = recorder()
      pubsub.subscribe(heard.listener)
      // Together, as the processor publishes a batch's events (Promise.all); then one by one.
      const together = Array.from({ length: 100 }, (_, index) => changed(`together-${index}`))
      const oneByOne = Array.from({ length: 20 }, (_, index) => changed(`one-by-one-${index}`))
      await Promise.all(together.map((event) => pubsub.publish(event)))
      for (const event of oneByOne) await pubsub.publish(event)
      await waitFor(() => heard.events.length >= together.length + oneByOne.length, 'every event')
      expect(heard.events).toEqual([...together, ...oneByOne])
    })

    test('unicode, quotes, control characters and lone surrogates arrive unchanged', async () => {
      const pubsub = await openListening()
      const heard = recorder()
      pubsub.subscribe(heard.listener)
      const at = new Date().toISOString()
      const sent: EphemailEvent = {
        type: 'message.processed',
        mailboxId: `unicode-${crypto.randomUUID()}`,
        seq: 7,
        messageId: 'm-ü',
        from: { name: '"Zoë" \\ O\'Brien\r\n\t\u0000', address: 'пример@почта.рф' },
        subject: 'Ünïcödé 日本語 한국어 العربية עברית 🎉 👩‍👩‍👧 e\u0301 \u200d\ufeff \ud800 lone \udfff',
        otp: '١٢٣٤٥٦',
        link: 'https://例え.jp/verify?token=a%20b&x=ü#frag',
        receivedAt: at,
        processedAt: at,
      }
      await pubsub.publish(sent)
      await waitFor(() => heard.events.length > 0, 'the event')
      expect(heard.events).toEqual([sent])
    })

    test('publishing with no listener is harmless, and a listener added after it went by hears only later events', async () => {
      const pubsub = await openListening()
      const early = changed(`nobody-listens-${crypto.randomUUID()}`)
      expect(await pubsub.publish(early)).toBeUndefined()
      // Delivery may lag the publish (Redis): the early event has gone by only once a marker has.
      await settled(pubsub)
      const heard = recorder()
      pubsub.subscribe(heard.listener)
      const later = changed(`later-${crypto.randomUUID()}`)
      await pubsub.publish(later)
      await settled(pubsub)
      expect(heard.events).toEqual([later])
    })

    test('a listener that throws does not keep the event from the others', async () => {
      const pubsub = await openListening()
      const reported = spyOn(console, 'error').mockImplementation(() => {})
      try {
        const before = recorder()
        const after = recorder()
        pubsub.subscribe(before.listener)
        pubsub.subscribe((event) => {
          if (!isMarker(event)) throw new Error('listener failure')
        })
        pubsub.subscribe(after.listener)
        const sent = [
          changed(`thrown-at-1-${crypto.randomUUID()}`),
          changed(`thrown-at-2-${crypto.randomUUID()}`),
        ]
        for (const event of sent) await pubsub.publish(event)
        await settled(pubsub)
        expect(before.events).toEqual(sent)
        expect(after.events).toEqual(sent)
      } finally {
        reported.mockRestore()
      }
    })

    test('after close its listeners hear nothing, from itself or from instances on its channel', async () => {
      const channel = uniqueChannel()
      const closing = await openListening(channel)
      const staying = await openListening(channel)
      const heardByClosed = recorder()
      closing.subscribe(heardByClosed.listener)
      opened.splice(opened.indexOf(closing), 1)
      expect(await closing.close()).toBeUndefined()
      // Whether publishing on a closed instance fails is not promised; being heard afterwards is ruled out.
      await closing.publish(changed(`after-close-own-${crypto.randomUUID()}`)).catch(() => {})
      await staying.publish(changed(`after-close-peer-${crypto.randomUUID()}`))
      await settled(staying)
      await Bun.sleep(50) // the closed instance had its own connection: give a stray delivery time to show
      expect(heardByClosed.events).toEqual([])
    })

    checkSkips()
  })
}
