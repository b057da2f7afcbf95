// Built-in extractor: the library's heuristics, with operator rules (sender domain + regex) taking precedence.

import type { Extractor } from '#contracts/extractor.ts'
import { extractOtpAndLink } from '#lib/extract/index.ts'

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

export function createBuiltinExtractor(rules: readonly ExtractionRule[] = []) {
  return {
    name: 'builtin',
    extract(input) {
      const found = extractOtpAndLink(input)
      const domain = input.fromAddress?.split('@')[1]?.toLowerCase() ?? ''
      for (const rule of rules) {
        if (domain !== rule.senderDomain && !domain.endsWith(`.${rule.senderDomain}`)) continue
        for (const source of [input.subject ?? '', input.text ?? '']) {
          const match = rule.otpPattern.exec(source)
          if (!match) continue
          const value = match[1] ?? match[0]
          const ruled = { value, confidence: 1, reasons: [`rule for ${rule.senderDomain}`] }
          return {
            ...found,
            otp: value,
            otpCandidates: [ruled, ...found.otpCandidates.filter((c) => c.value !== value)],
          }
        }
      }
      return found
    },
  } satisfies Extractor
}
