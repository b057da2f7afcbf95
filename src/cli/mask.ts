// Secrets taken out of a configuration before it is printed: keys, tokens, passwords (in URLs too) and PEM keys.

export const MASK = '********'

/** Field names whose values are credentials wherever they sit (adminKey, smtpTls.key, a future webhookSecret). */
const SECRET_NAME = /(?:^key$|Key$|secret|password|passwd|token|credential)/i

/** A copy of `value` with every secret replaced by MASK; what is not a secret is kept as it is. */
export function maskSecrets(value: unknown, name = ''): unknown {
  if (value === null || value === undefined) return value
  if (typeof value === 'string') {
    if (SECRET_NAME.test(name)) return MASK
    if (value.includes('-----BEGIN ')) return `(PEM, ${value.length} characters)`
    return maskUrl(value)
  }
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, name))
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskSecrets(inner, key)]))
  return value
}

/** `postgres://app:s3cret@db/x?sslpassword=y` → `postgres://app:********@db/x?sslpassword=********`; other text unchanged. */
export function maskUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return text
  }
  let changed = false
  if (url.password) {
    url.password = MASK
    changed = true
  }
  for (const key of [...url.searchParams.keys()])
    if (SECRET_NAME.test(key)) {
      url.searchParams.set(key, MASK)
      changed = true
    }
  // Only a URL that held a secret is re-serialised, so the rest print exactly as configured.
  if (!changed) return text
  try {
    return decodeURI(url.toString())
  } catch {
    return url.toString()
  }
}
