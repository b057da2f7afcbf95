// Pub/sub contract: how events travel from where they happen to whoever listens (in-process or across processes).

import type { EphemailEvent } from '#lib/events.ts'

export type EventListener = (event: EphemailEvent) => void

export interface PubSub {
  readonly name: string
  publish(event: EphemailEvent): Promise<void>
  /** Returns the function that unsubscribes. A listener that throws does not affect the others. */
  subscribe(listener: EventListener): () => void
  close(): Promise<void>
}

/** Every pub/sub plugin exports `create` of this type. */
export type PubSubFactory<Options> = (options: Options) => PubSub
