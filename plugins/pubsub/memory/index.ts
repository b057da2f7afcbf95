// In-process pub/sub: the embedded default, where publisher and listeners share one process.

import type { EventListener, PubSub, PubSubFactory } from '#contracts/pubsub.ts'
import { loggableError } from '#lib/loggable-error.ts'

export function createMemoryPubSub() {
  const listeners = new Set<EventListener>()
  return {
    name: 'memory',
    async publish(event) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          console.error(`event listener failed: ${loggableError(error)}`)
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      listeners.clear()
    },
  } satisfies PubSub
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'memory'
export const create: PubSubFactory<Record<string, never>> = () => createMemoryPubSub()
