// Redis pub/sub: events cross processes, so a long-poll in one API process wakes on mail processed by a worker elsewhere.

import { Redis } from 'ioredis'
import type { EventListener, PubSub, PubSubFactory } from '#contracts/pubsub.ts'
import type { EphemailEvent } from '#lib/events.ts'
import { loggableError } from '#lib/loggable-error.ts'

export function createRedisPubSub({ url, channel = 'ephemail:events' }: { url: string; channel?: string }) {
  // Auto-pipelining: publishes issued in the same tick (a committed batch's events) share one write.
  const publisher = new Redis(url, { lazyConnect: false, enableAutoPipelining: true })
  // A connection in subscriber mode can do nothing else, so it is a second one.
  const subscriber = new Redis(url, { lazyConnect: false })
  const listeners = new Set<EventListener>()
  const subscribed = subscriber.subscribe(channel)
  subscriber.on('message', (from: string, payload: string) => {
    if (from !== channel) return
    let event: EphemailEvent
    try {
      event = JSON.parse(payload)
    } catch {
      return // not ours
    }
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        console.error(`event listener failed: ${loggableError(error)}`)
      }
    }
  })
  for (const connection of [publisher, subscriber])
    connection.on('error', (error) => console.error('redis pubsub', error.message))

  return {
    name: 'redis',
    async publish(event) {
      await subscribed
      await publisher.publish(channel, JSON.stringify(event))
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      listeners.clear()
      subscriber.disconnect()
      publisher.disconnect()
    },
  } satisfies PubSub
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'redis'
export const create: PubSubFactory<{ url: string; channel: string }> = createRedisPubSub
