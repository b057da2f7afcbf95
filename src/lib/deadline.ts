// Time limits on work that cannot be cancelled: its outcome, or an error once the time is up.

/**
 * Settles as `work` does, or rejects with `timeoutError()` if `ms` pass first. The work itself goes
 * on (a lookup cannot be cancelled); its late outcome is ignored, and the timer is cleared either way.
 */
export async function beforeTimeout<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms)
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}
