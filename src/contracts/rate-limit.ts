// Rate-limit counter contract: fixed-window counters shared by every process that uses the same backend.

/** A counter after one hit. */
export interface RateLimitHit {
  /** The window's count after this hit. */
  count: number
  /** When the window ends (epoch milliseconds): the counter starts again from zero then. */
  resetAt: number
}

/**
 * Counts hits per key in fixed windows. Implementations are atomic (two processes hitting the same key
 * never lose a count) and take one round trip per hit.
 */
export interface RateLimiter {
  readonly name: string
  /**
   * Adds `cost` (default 1; negative to give back a hit that should not count) to `key`'s counter in
   * the current window of `windowMs` and returns the count after it.
   */
  hit(key: string, windowMs: number, cost?: number): Promise<RateLimitHit>
  close(): Promise<void>
}

/** Every rate-limit plugin exports `create` of this type. */
export type RateLimiterFactory<Options> = (options: Options) => RateLimiter
