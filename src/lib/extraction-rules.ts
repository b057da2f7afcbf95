// Operator extraction rules (EPHEMAIL_EXTRACT_RULES): a sender domain and the pattern of its code.

export interface ExtractionRule {
  /** Applies to mail whose From domain is this domain or a subdomain of it. */
  senderDomain: string
  /** Its first capture group (or the whole match) is the code. Searched in the subject, then the text. */
  otpPattern: RegExp
}

/** Parses EPHEMAIL_EXTRACT_RULES: a JSON array of {"senderDomain": "...", "otpPattern": "..."}. */
export function parseExtractionRules(json: string): ExtractionRule[] {
  const value: unknown = JSON.parse(json)
  if (!Array.isArray(value)) throw new Error('must be a JSON array')
  return value.map((entry, index) => {
    const { senderDomain, otpPattern } = (entry ?? {}) as { senderDomain?: unknown; otpPattern?: unknown }
    if (typeof senderDomain !== 'string' || typeof otpPattern !== 'string')
      throw new Error(`entry ${index} needs string fields senderDomain and otpPattern`)
    try {
      return { senderDomain: senderDomain.toLowerCase(), otpPattern: new RegExp(otpPattern, 'u') }
    } catch (error) {
      throw new Error(`entry ${index}: ${(error as Error).message}`)
    }
  })
}
