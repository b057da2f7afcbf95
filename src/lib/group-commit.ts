// Group commit: items submitted while a commit is in flight are written together in the next one.

export interface GroupCommitter<I, O> {
  /** Resolves with this item's result once the batch holding it has been committed. */
  submit(item: I): Promise<O>
}

/**
 * Wraps a batch writer so concurrent callers share one durable write. There is no timer:
 * a lone item is written at once, and under load batches grow by themselves up to
 * `maxBatchSize` while the previous commit runs. `commit` must return one result per item.
 */
export function createGroupCommitter<I, O>(
  commit: (items: I[]) => Promise<O[]>,
  maxBatchSize: number,
): GroupCommitter<I, O> {
  const waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = []
  let draining = false

  async function drain(): Promise<void> {
    draining = true
    while (waiting.length > 0) {
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
