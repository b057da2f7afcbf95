// One-time code candidates: numbers and letter-digit groups in a text, each scored by the words around it.

import type { Candidate } from '../types.ts'
import { CONFIRMATION_WORD, findCodeWord, findNotCodeWord, findPurposeWord, TIME_UNIT } from './lexicon.ts'

const NUMBER_CANDIDATE =
  /(?<![\p{L}\p{N}$€£¥#./:,=&?_@%+-])(\d{2,4}(?:[ -]\d{2,4}){1,3}|\d{4,8})(?![\p{N}%]|[.,:/-]\d|\s?(?:%|€|\$|£|¥|usd|eur))/giu
const ALNUM_CANDIDATE =
  /(?<![\p{L}\p{N}-])([A-Z0-9]{3,4}-[A-Z0-9]{3,4}|[A-Z0-9]{6,8})(?![\p{L}\p{N}]|-[A-Z0-9])/gu
const YEAR = /^(19|20)\d{2}$/
/** YYYYMMDD or DDMMYYYY: eight digits that are a date, not a code. */
const DATE_8 =
  /^(?:(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2})$/

/**
 * Characters of context read on each side of a candidate (labels and units sit close by). Reading
 * whole lines, or splitting the text before each candidate, made scoring quadratic: 5,000 numbered
 * parts took a second, one 100,000-character line of numbers 120 ms.
 */
const CONTEXT_CHARS = 200
const WHITESPACE = /\s/

/** The last non-blank line before `lineStart`, at most CONTEXT_CHARS of it. */
function lineBefore(text: string, lineStart: number): string {
  let end = Math.max(0, lineStart - 1)
  const stop = Math.max(0, end - CONTEXT_CHARS)
  while (end > stop && WHITESPACE.test(text[end - 1] as string)) end--
  const window = text.slice(Math.max(0, end - CONTEXT_CHARS), end)
  return window.slice(window.lastIndexOf('\n') + 1)
}

/** The first non-blank line after the line ending at `lineEnd`, at most CONTEXT_CHARS of it. */
function lineAfter(text: string, lineEnd: number): string {
  let start = lineEnd + 1
  const stop = Math.min(text.length, start + CONTEXT_CHARS)
  while (start < stop && WHITESPACE.test(text[start] as string)) start++
  const window = text.slice(start, start + CONTEXT_CHARS)
  const end = window.indexOf('\n')
  return end === -1 ? window : window.slice(0, end)
}

/**
 * Matches of each candidate pattern scored per text. A code sits among the first few numbers of a
 * message; a body of nothing but numbers (a 10 MB log) would otherwise cost 12 µs for each of them.
 */
export const MAX_CODE_MATCHES = 300

/** Every code-like value in `text`, scored; `settled` says the subject reports a finished transaction. */
export function findCodeCandidates(text: string, inSubject: boolean, settled: boolean): Candidate[] {
  const found: Candidate[] = []
  for (const pattern of [NUMBER_CANDIDATE, ALNUM_CANDIDATE]) {
    let matches = 0
    for (const match of text.matchAll(pattern)) {
      if (++matches > MAX_CODE_MATCHES) break
      const candidate = scoreCode(text, match.index ?? 0, match[1] as string, inSubject, settled)
      if (candidate) found.push(candidate)
    }
  }
  return found
}

/** Spaced or dashed digits (482 913, 482-913) are one code; letter groups keep their dash (ABC-123). */
function normalizeCode(raw: string): string {
  return /[A-Z]/.test(raw) ? raw : raw.replace(/[ -]/g, '')
}

function scoreCode(
  text: string,
  index: number,
  raw: string,
  inSubject: boolean,
  settled: boolean,
): Candidate | null {
  const value = normalizeCode(raw)
  const digits = value.replace(/\D/g, '').length
  const isNumeric = /^\d+$/.test(value)
  if (isNumeric && (value.length < 4 || value.length > 8)) return null
  if (!isNumeric && (digits === 0 || !/[A-Z]/.test(value))) return null
  // Context is read within the candidate's own line; a code standing alone on its line (or
  // ending one) takes the lines around it too, as in "Your code:\n\n482913".
  // Only CONTEXT_CHARS either side are read: a line longer than that is clipped, and its candidate is
  // not alone on it.
  const windowStart = Math.max(0, index - CONTEXT_CHARS)
  const newlineBefore = text.slice(windowStart, index).lastIndexOf('\n')
  const lineStart = newlineBefore === -1 ? windowStart : windowStart + newlineBefore + 1
  const clippedBefore = newlineBefore === -1 && windowStart > 0
  const valueEnd = index + raw.length
  const newlineAfter = text.slice(valueEnd, valueEnd + CONTEXT_CHARS).indexOf('\n')
  const lineEnd =
    newlineAfter === -1 ? Math.min(text.length, valueEnd + CONTEXT_CHARS) : valueEnd + newlineAfter
  const clippedAfter = newlineAfter === -1 && lineEnd < text.length
  const prefix = text.slice(lineStart, index)
  const suffix = text.slice(valueEnd, lineEnd)
  const alone =
    !clippedBefore && !clippedAfter && prefix.trim() === '' && suffix.trim().replace(/[.!。]$/, '') === ''
  const previousLine = clippedBefore ? '' : lineBefore(text, lineStart)
  const nextLine = clippedAfter ? '' : lineAfter(text, lineEnd)
  const before = (prefix.trim() === '' ? `${previousLine} ${prefix}` : prefix).slice(-80).toLowerCase()
  // A value on its own line is labelled by the line above when that line ends in a colon ("Booking code:")
  // or is a short label, as a table's label cell is ("Sort code" | "40-12-76").
  const labelLine = previousLine.trim()
  const label =
    prefix.trim() === '' && (/[:：]$/.test(labelLine) || labelLine.length <= 30) ? `${labelLine} ` : ''
  const near = `${label}${prefix}`.slice(-25).toLowerCase()
  const after = suffix.slice(0, 25).toLowerCase()
  const reasons: string[] = []
  let score = 0.2
  const keyword = findCodeWord(before)
  if (keyword) {
    score += 0.45
    reasons.push(`after "${keyword}"`)
    if (findCodeWord(near)) score += 0.15
  } else {
    const afterText = (alone ? `${suffix} ${nextLine}` : suffix).slice(0, 80).toLowerCase()
    const following = findCodeWord(afterText) ?? findPurposeWord(afterText)
    if (following) {
      score += 0.3
      reasons.push(`before "${following}"`)
    } else if (inSubject) score += 0.1
  }
  if (alone) {
    score += 0.2
    reasons.push('alone on its line')
  }
  const bad =
    findNotCodeWord(near) ?? findNotCodeWord(after) ?? (TIME_UNIT.test(after) ? 'a time unit' : null)
  if (bad) {
    score -= 0.6
    reasons.push(`near "${bad}"`)
  }
  if (isNumeric && value.length === 8 && DATE_8.test(value)) {
    score -= 0.6
    reasons.push('looks like a date')
  }
  if (isNumeric && YEAR.test(value) && !findCodeWord(near)) {
    score -= 0.5
    reasons.push('looks like a year')
  }
  if (!isNumeric && !/\d.*[A-Z]|[A-Z].*\d/.test(value)) score -= 0.3
  if (!isNumeric && /^[A-Z]+\d{1,2}$/.test(value)) {
    score -= 0.6 // SAVE20, SPRING25: word plus a number is a promotion, not a code
    reasons.push('word plus number')
  }
  // A "confirmation code" in mail that reports something done ("Reservation confirmed") is the
  // booking's reference, kept for later; a one-time code comes with a request to act now.
  if (settled && CONFIRMATION_WORD.test(before)) {
    score -= 0.6
    reasons.push('a reference in a confirmation')
  }
  if (inSubject) reasons.push('in the subject')
  return { value, confidence: Math.max(0, Math.min(1, Number(score.toFixed(2)))), reasons }
}
