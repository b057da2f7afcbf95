// Expiry sweeper: deletes expired mailboxes and their mail for real, in small steps so ingest never stalls.

import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import { loggableError } from '#lib/loggable-error.ts'

/** Rows per sweep step: small enough that one step is a short transaction even on PGlite. */
export const SWEEP_BATCH_SIZE = 500

export interface ExpirySweeper {
  start(): void
  stop(): Promise<void>
  /** Runs steps until nothing expired is left; returns what was deleted. */
  sweepOnce(): Promise<{ mailboxes: number; messages: number }>
}

export function createExpirySweeper({
  storage,
  pubsub,
  intervalMs,
  batchSize = SWEEP_BATCH_SIZE,
  now = () => new Date(),
}: {
  storage: Storage
  pubsub: PubSub
  intervalMs: number
  batchSize?: number
  now?: () => Date
}): ExpirySweeper {
  let timer: ReturnType<typeof setInterval> | null = null
  let running: Promise<unknown> | null = null

  async function sweepOnce() {
    let mailboxes = 0
    let messages = 0
    for (;;) {
      const step = await storage.deleteExpired(now(), batchSize)
      mailboxes += step.mailboxIds.length
      messages += step.messagesDeleted
      for (const mailboxId of step.mailboxIds)
        void pubsub.publish({ type: 'mailbox.expired', mailboxId, reason: 'expired' })
      if (step.messagesDeleted < batchSize && step.mailboxIds.length < batchSize) break
      // Let queued deliveries and reads run between steps.
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
    // Deliveries keep a copy of the message summary (code included): they go once the message has.
    while ((await storage.deleteOrphanedWebhookDeliveries(batchSize)) === batchSize)
      await new Promise((resolve) => setTimeout(resolve, 0))
    return { mailboxes, messages }
  }

  return {
    sweepOnce,
    start() {
      if (timer) return
      timer = setInterval(() => {
        if (running) return // a slow sweep is never overlapped by the next one
        running = sweepOnce()
          .catch((error) => console.error(`expiry sweep failed: ${loggableError(error)}`))
          .finally(() => {
            running = null
          })
      }, intervalMs)
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await running
    },
  }
}
