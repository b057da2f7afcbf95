// Built-in extractor: the library's heuristics, with operator rules (sender domain + regex) taking precedence.

import type { Extractor, ExtractorFactory } from '#contracts/extractor.ts'
import { extractOtpAndLink } from '#lib/extract/index.ts'
import type { ExtractionRule } from '#lib/extraction-rules.ts'

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

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'builtin'
export const create: ExtractorFactory<{ rules: readonly ExtractionRule[] }> = ({ rules }) =>
  createBuiltinExtractor(rules)
