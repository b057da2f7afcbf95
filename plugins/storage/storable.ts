// Values PostgreSQL can store: every text, json and jsonb column is written through these, so mail cannot make a save fail.

/**
 * PostgreSQL's text refuses NUL (0x00), and its json and jsonb refuse the `\u0000` escape and (jsonb,
 * and json when cast) lone UTF-16 surrogates, which JSON.stringify writes as `\udXXX`. Mail carries
 * both: a NUL in an HTML body or an RFC 2047 subject (`=?utf-8?B?YQBi?=`), a broken surrogate from a
 * mis-encoded part. Each is replaced by U+FFFD, the character Unicode reserves for what could not be
 * represented, so the save succeeds and the reader sees where something was dropped.
 */
const REPLACEMENT = '\uFFFD'

/** Text a PostgreSQL text column takes: NUL and lone surrogates replaced by U+FFFD. */
export function storableText(value: string): string {
  // Both checks are native scans; the copy is made only for the rare value that needs it.
  if (!value.includes('\0') && value.isWellFormed()) return value
  return value.replaceAll('\0', REPLACEMENT).toWellFormed()
}

/** The escapes JSON.stringify writes for NUL and for lone surrogates (paired ones it writes as is). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i

/** JSON text a json or jsonb column takes: every string inside is storable text. */
export function storableJson(value: unknown): string {
  const json = JSON.stringify(value)
  // A false alarm (the six characters `\u0000` written in a string) only costs the second pass.
  if (!UNSTORABLE_ESCAPE.test(json)) return json
  return JSON.stringify(value, (_key, inner) => (typeof inner === 'string' ? storableText(inner) : inner))
}
