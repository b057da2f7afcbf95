// Ranking: candidates found more than once become one entry each, ordered by confidence.

import type { Candidate } from '../types.ts'

/**
 * One entry per value: its best-scoring occurrence, except that a warning seen at any occurrence
 * counts (text and HTML parts show the same number with different context, e.g. "Sort code: 40-12-76"
 * in one and a bare table cell in the other).
 */
export function rank(candidates: Candidate[]): Candidate[] {
  const best = new Map<string, Candidate>()
  const warned = new Map<string, string>()
  for (const candidate of candidates) {
    const seen = best.get(candidate.value)
    if (!seen || candidate.confidence > seen.confidence) best.set(candidate.value, candidate)
    const warning = candidate.reasons.find((reason) => reason.startsWith('near '))
    if (warning) warned.set(candidate.value, warning)
  }
  return [...best.values()]
    .map((candidate) => {
      const warning = warned.get(candidate.value)
      if (!warning || candidate.reasons.includes(warning)) return candidate
      return {
        value: candidate.value,
        confidence: Math.max(0, Number((candidate.confidence - 0.6).toFixed(2))),
        reasons: [...candidate.reasons, `elsewhere ${warning}`],
      }
    })
    .sort((a, b) => b.confidence - a.confidence)
}
