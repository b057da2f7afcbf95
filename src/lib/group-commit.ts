// Group commit: items submitted while a commit is in flight are written together in the next one.

export interface GroupCommitter<I, O> {
  /** Resolves with this item's result once the batch holding it has been committed. */
  submit(item: I): Promise<O>
}

/**
 * Wraps a batch writer so concurrent callers share one durable write. There is no timer: a lone
 * item is written at once, and under load batches grow by themselves up to `maxBatchSize` while
 * the previous commit runs. `commit` must return one result per item.
 *
 * `beforeBatch`, when given, is awaited before each batch is taken; a runtime passes "let pending
 * I/O run" (setImmediate) there. That matters for a writer that runs on this thread (PGlite):
 * while it writes no I/O is read, so without the turn every batch would hold a single item.
 * (It is a parameter because web standards have no unclamped macrotask: setTimeout(0) costs 1 ms.)
 */
export function createGroupCommitter<I, O>(
  commit: (items: I[]) => Promise<O[]>,
  maxBatchSize: number,
  beforeBatch?: () => Promise<void>,
): GroupCommitter<I, O> {
  const waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = []
  let draining = false

  async function drain(): Promise<void> {
    draining = true
    while (waiting.length > 0) {
      if (beforeBatch) await beforeBatch()
      const batch = waiting.splice(0, maxBatchSize)
      try {
        const results = await commit(batch.map((entry) => entry.item))
        for (const [i, entry] of batch.entries()) entry.resolve(results[i] as O)
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      }
    }
    draining = false
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject })
        if (!draining) void drain()
      })
    },
  }
}
