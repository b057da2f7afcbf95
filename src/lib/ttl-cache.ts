// A bounded cache whose entries expire: remembered answers that may go stale, kept at most `ttlMs`.

export interface TtlCacheOptions {
  /** How long an entry is returned after it was set; at exactly `ttlMs` it has expired. */
  ttlMs: number
  /** Entries at most: setting one more first drops the oldest set, so memory stays bounded. */
  maxEntries: number
  /** Milliseconds on any steady scale (Date.now by default); tests pass a clock they move. */
  now?: () => number
}

export interface TtlCache<K, V> {
  /**
   * The value set for `key`, or undefined when there is none or it has expired (then it is dropped).
   * `at` is the time to judge by, for callers that already hold the time of what they are doing.
   */
  get(key: K, at?: number): V | undefined
  /** Remembers `value` until `at` (the clock by default) plus `ttlMs`; the entry counts as newest. */
  set(key: K, value: V, at?: number): void
  /** Drops the entry for `key`; true when there was one. */
  delete(key: K): boolean
  /** Drops every entry for which `matches` is true, expired or not. */
  deleteWhere(matches: (value: V, key: K) => boolean): void
  clear(): void
  /** Entries held, expired ones not yet dropped included. */
  readonly size: number
}

export function createTtlCache<K, V>({ ttlMs, maxEntries, now = Date.now }: TtlCacheOptions): TtlCache<K, V> {
  if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be at least 1, not ${maxEntries}`)
  // A Map iterates in insertion order, so its first key is the entry set longest ago.
  const entries = new Map<K, { value: V; expires: number }>()
  return {
    get(key, at = now()) {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (entry.expires > at) return entry.value
      entries.delete(key)
      return undefined
    },
    set(key, value, at = now()) {
      entries.delete(key)
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as K)
      entries.set(key, { value, expires: at + ttlMs })
    },
    delete: (key) => entries.delete(key),
    deleteWhere(matches) {
      for (const [key, entry] of entries) if (matches(entry.value, key)) entries.delete(key)
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size
    },
  }
}
