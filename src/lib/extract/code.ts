// One-time code candidates: numbers and letter-digit groups in a text, each scored by the words around it.

import type { Candidate } from '../types.ts'
import {
  CONFIRMATION_WORD,
  findCodeWord,
  findNotCodeWord,
  findOneTimeCodeWord,
  findPurposeWord,
  findReceiptCodeWord,
  PHONE_WORD,
  PLACE_LABEL,
  TIME_UNIT,
} from './lexicon.ts'
import { findEntryWord, type Purpose } from './purpose.ts'

// After a colon only where a Latin letter or a digit is not before it: "コード：8140" labels a code (the full-width
// colon folds to ":"), "10:30" and "host:8080" do not. Not before a dash and a letter: "4471-AT" is an identifier.
const NUMBER_CANDIDATE =
  /(?<![\p{L}\p{N}$€£¥#./,=&?_@%+-])(?<![A-Za-z0-9]:)(\d{2,4}(?:[ -]\d{2,4}){1,3}|\d{4,8})(?![\p{N}%]|[.,:/-]\d|-\p{L}|\s?(?:%|€|\$|£|¥|usd|eur))/giu
/**
 * Letters and digits, either case, each group holding a digit: one group (A7b9Kq, 9f3a1c, KX8M2), two or
 * three groups (7KQ2 M9XP, ZP7-4KD), or three to five pairs joined by dashes with a digit among them
 * (R7-Q2-K9-X4, D4-81-F6, Q4-RM-8X: a pair of letters is as likely as any other in a random code).
 * Last, upper-case groups joined by a dash where a group holds no digit (XKP-7QM, HKT-4QZ, or only letters
 * as in a device code WDJB-MJHT): codes some services show instead of digits, counted only where they are
 * shown (see scoreCode). Then two upper-case groups of four and two (Q7XK-2P), shown too. One pattern, not two:
 * each pass over a body costs.
 */
const ALNUM_CANDIDATE =
  /(?<![\p{L}\p{N}\-/=.#_?&@%+~])((?=[A-Za-z]{0,3}\d)[A-Za-z0-9]{3,4}(?:[ -](?=[A-Za-z]{0,3}\d)[A-Za-z0-9]{3,4}){1,2}|(?=(?:[A-Za-z0-9]{2}-){0,4}[A-Za-z]?\d)[A-Za-z0-9]{2}(?:-[A-Za-z0-9]{2}){2,4}|(?=[A-Za-z]{0,9}\d)[A-Za-z0-9]{5,10}|[A-Z0-9]{3,4}(?:-[A-Z0-9]{3,4}){1,2}|[A-Z0-9]{4}-[A-Z0-9]{2})(?![\p{L}\p{N}_]|[-./@=][\p{L}\p{N}])/gu
/** A code drawn one character apart ("4 9 1 7 2 6"), as templates space a code out for reading. */
const SPACED_CANDIDATE = /(?<![\p{L}\p{N}])([A-Z0-9](?: [A-Z0-9]){3,7})(?![\p{L}\p{N}])/gu
const SPACED_CODE = /^[A-Z0-9](?: [A-Z0-9])+$/
const DASHED_LETTERS_CODE = /^[A-Z0-9]{3,4}(?:-[A-Z0-9]{3,4}){1,2}$/
/** Dashed upper-case groups where a group holds no digit (XKP-7QM, WDJB-MJHT). */
function isDashedLetters(raw: string): boolean {
  return DASHED_LETTERS_CODE.test(raw) && raw.split('-').some((group) => !DIGIT.test(group))
}
const PAIRED_CODE = /^[A-Za-z0-9]{2}(?:-[A-Za-z0-9]{2})+$/
/**
 * Round 20: two upper-case groups of four and two (Q7XK-2P, a Malaysian ID portal's code). Not two and four: that is
 * a reference's shape (ZK-4471, LH-1234).
 */
const UNEVEN_GROUPS = /^[A-Z0-9]{4}-[A-Z0-9]{2}$/
/** Words joined by dashes (maple-river-stone): a code some services send instead of digits. */
const WORD_CODE_CANDIDATE =
  /(?<![\p{L}\p{N}\-/=.#_?&@])([a-z]{3,10}(?:-[a-z]{3,10}){2,3})(?![\p{L}\p{N}_-])/gu
const DIGIT = /\d/
/** A word in a code's label besides the code word: what kind of code it is. */
const QUALIFIER = /\p{L}{2,}/u
/** A label that addresses the reader ("Your code:", "Ihr Code:", "Votre code :", "您的验证码"). */
const YOUR_LABEL =
  /(?<!\p{L})(?:your|ihr|ihre|dein|deine|votre|ton|tu|su|seu|sua|tuo|uw|je|ваш|ваша|твой|твоя|twój|twoja|váš|tvůj|sizin|sizning|sızdıñ|сіздің)(?!\p{L})|kodunuz|あなたの|您的|你的|귀하의/u
const GROUPED_DIGITS = /^\d+(?:[ -]\d+)+$/
const NEXT_GROUP = /^[ -]\d/
/** Grouped digits followed by another group: the first groups of a longer number (a phone number). */
function continuesNumber(text: string, index: number, raw: string): boolean {
  const end = index + raw.length
  return GROUPED_DIGITS.test(raw) && NEXT_GROUP.test(text.slice(end, end + 2))
}
/** Nothing but a closing stop or bracket after the value on its line: the value is shown, not quoted. */
const ENDS_LINE = /^[\s.!。)\]]*$/
/** "In order" is a sequence ("type these words on the new device, in order:"), not an order number. */
const IN_ORDER = /\bin (?:the )?order\b/g
/** "for this", "für diesen", "pour cette" right before a word (round 24: "für genau diesen"): what a code is for. */
const FOR_THIS = /(?<!\p{L})(?:for|für|pour|para|per|voor|för|dla|для|за)\s+(?:\p{L}+\s+){0,2}$/u
/** One bracket or quote framing a value shown on its own line: [628410], 【628410】, «628410». */
const OPENING_BRACKET = /^[[(【「『«“]$/
const CLOSING_BRACKET = /^[\])】」』»”]/
/**
 * A value after a warning word: the word labels that value, not a later one ("order 1234, code 482913"). Three
 * digits anywhere make a value, and so does any group with a digit right after the word (round 12: "reference
 * VHB-27) is 904172").
 */
const LABELS_A_VALUE = /^\W{0,3}[\p{L}\d-]*\d/u
function labelsAnotherValue(afterWord: string): boolean {
  return /\d{3,}/.test(afterWord) || LABELS_A_VALUE.test(afterWord)
}
/** Words follow the value on its line: it sits inside a sentence. */
const MID_SENTENCE = /^[^\n]{0,3}\p{L}{2,}/u
const LETTER = /[A-Za-z]/
const YEAR = /^(19|20)\d{2}$/
/** YYYYMMDD or DDMMYYYY: eight digits that are a date, not a code. */
const DATE_8 =
  /^(?:(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2})$/

/**
 * A table's label cell: a few words, no digits, no closing punctuation ("Case number", "Tax year"), maybe after a
 * number sign ("N° de orden", "Nº pedido", "No. de reserva", "№ заказа", "# of guests").
 */
const TABLE_LABEL = /^(?:[№#]|\p{L}{1,2}[°º.])?\s?\p{L}[\p{L} '’()/-]{1,29}$/u
/** Mask characters just before a value: the digits shown are the end of a hidden number ("**" alone is bold). */
const MASKED_BEFORE = /(?<!\p{L})(?:(?:[*•]{3,}|[xX#]{2,})[\s-]?)+$/u
const MASKED_VALUE = /[xX*•]{3,}/
/** After a value, a field of its own: a short label and its colon ("(Ref: KXTB)", ", order no. 4471"). */
const NEXT_FIELD = /^\s*[([,;|·-]?\s*[\p{L}.]{1,15}(?: [\p{L}.]{1,10})?\s?[:：=#]/u
/** A sentence ends here: a stop, then a space before a capital; or a CJK full stop. */
const SENTENCE_END = /[.!?]\s+(?=\p{Lu})|[。！？]/gu
/** A line that ends a sentence or a label: what follows on the next line is not its continuation. */
const LINE_ENDS_SENTENCE = /[.!?:：。！？]$/

/** The text after the last sentence end of `prefix`: the candidate's own sentence. */
function sentenceTail(prefix: string): string {
  let start = 0
  for (const match of prefix.matchAll(SENTENCE_END)) start = (match.index ?? 0) + match[0].length
  return start === 0 ? prefix : prefix.slice(start)
}

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

/** Lines above a shown code that may hold its label: a label, a note on validity, the code. */
const LABEL_LINES = 3

/** Up to LABEL_LINES non-blank lines before `lineStart`, within CONTEXT_CHARS. */
function linesAbove(text: string, lineStart: number): string {
  const window = text.slice(Math.max(0, lineStart - CONTEXT_CHARS), lineStart)
  const lines = window.split('\n').filter((line) => line.trim() !== '')
  return lines.slice(-LABEL_LINES).join(' ')
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

/** Where the text comes from and what the mail asks for: the scorer weighs a candidate by both. */
export interface CodeContext {
  inSubject: boolean
  /** The subject reports a finished transaction ("Reservation confirmed"). */
  settled: boolean
  purpose: Purpose
}

/** Every code-like value in `text`, scored. */
export function findCodeCandidates(text: string, context: CodeContext): Candidate[] {
  const found: Candidate[] = []
  for (const pattern of [NUMBER_CANDIDATE, ALNUM_CANDIDATE, WORD_CODE_CANDIDATE, SPACED_CANDIDATE]) {
    let matches = 0
    for (const match of text.matchAll(pattern)) {
      if (++matches > MAX_CODE_MATCHES) break
      // Grouped digits that go on ("0850 222" of the phone number 0850 222 41 41, which the number pattern saw
      // whole) are the start of a longer number, not a code.
      if (pattern === ALNUM_CANDIDATE && continuesNumber(text, match.index ?? 0, match[1] as string)) continue
      const candidate = scoreCode(text, match.index ?? 0, match[1] as string, context)
      if (candidate) found.push(candidate)
    }
  }
  return found
}

/**
 * The code as it is typed into a form (README, extraction policy): spaces and dashes between groups
 * of letters and digits go (482 913, 7KQ2 M9XP, ZP7-4KD); words joined by dashes keep them.
 */
export function typedCode(raw: string): string {
  return WORD_CODE.test(raw) ? raw : raw.replace(/[ -]/g, '')
}
const WORD_CODE = /^[a-z]{3,10}(?:-[a-z]{3,10}){2,3}$/

function scoreCode(text: string, index: number, raw: string, context: CodeContext): Candidate | null {
  const { inSubject, settled, purpose } = context
  const wordCode = WORD_CODE.test(raw)
  const spaced = SPACED_CODE.test(raw)
  const dashedLetters = isDashedLetters(raw)
  const value = typedCode(raw)
  const isNumeric = /^\d+$/.test(value)
  if (isNumeric && (value.length < 4 || value.length > 8)) return null
  if (spaced && !DIGIT.test(value)) return null
  const unevenGroups = UNEVEN_GROUPS.test(raw) && LETTER.test(raw)
  if (!isNumeric && !wordCode && !spaced && !dashedLetters) {
    // Round 18: three groups of four (7QMZ-X4RT-9KDP, a certificate authority's validation code) reach 12.
    if (!DIGIT.test(value) || !LETTER.test(value) || value.length > (raw.length > value.length ? 12 : 10))
      return null
    // Every group of a spaced code holds a digit: "Code 7KQ2 M9XP", not "Use this".
    if (raw.includes(' ') && raw.split(' ').some((group) => !DIGIT.test(group))) return null
  }
  // Lower and mixed case values, word codes and pairs (R7-Q2) are common in prose ("mp3",
  // "build-runner-07", "A4-B5"): they count only where a code is shown, alone on its line or right after its label.
  const needsDisplay =
    wordCode ||
    dashedLetters ||
    unevenGroups ||
    PAIRED_CODE.test(raw) ||
    (!isNumeric && value !== value.toUpperCase())
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
  // A code word counts only in the candidate's own sentence: "... ask for this code. Northmint is a
  // trading name of Northmint Payments Ltd, FRN 900127" labels no code.
  const prefix = sentenceTail(text.slice(lineStart, index))
  const suffix = text.slice(valueEnd, lineEnd)
  // A code framed by brackets on its line ("[628410]", "【628410】") is shown alone all the same.
  const linePrefixBlank = prefix.trim() === '' || OPENING_BRACKET.test(prefix.trim())
  const alone =
    !clippedBefore &&
    !clippedAfter &&
    linePrefixBlank &&
    suffix
      .trim()
      .replace(CLOSING_BRACKET, '')
      .replace(/[.!。]$/, '') === ''
  const previousLine = clippedBefore ? '' : lineBefore(text, lineStart)
  const nextLine = clippedAfter ? '' : lineAfter(text, lineEnd)
  // Round 18: a sentence wrapped over lines ("รหัส OTP สำหรับชำระเงิน ... ONLINE" / "ด้วยบัตร ... คือ 482913") is read
  // from its start on the line above, when neither this line nor the line above ends a sentence before the value;
  // only a one-time code word counts there (a "PIN" further up may be a card's).
  const wrapped =
    !linePrefixBlank &&
    prefix.length === index - lineStart &&
    previousLine.trim() !== '' &&
    !LINE_ENDS_SENTENCE.test(previousLine.trim())
  const before = (linePrefixBlank ? `${previousLine} ${prefix}` : prefix).slice(-80).toLowerCase()
  // A value on its own line is labelled by the line above when that line ends in a colon ("Booking code:")
  // or is a short label, as a table's label cell is ("Sort code" | "40-12-76").
  const labelLine = previousLine.trim()
  const label = linePrefixBlank && (/[:：]$/.test(labelLine) || labelLine.length <= 30) ? `${labelLine} ` : ''
  const near = `${label}${prefix}`.slice(-25).toLowerCase()
  const after = suffix.slice(0, 25).toLowerCase()
  // A code shown alone may sit a line or two below its label ("Your one-time passcode" / "Expires in
  // 15 minutes" / "739204"): the lines above are read, up to LABEL_LINES of them.
  // A value under a label of its own ("Case number" / "55201") is that label's: a code word further up
  // or on the next line ("Security code" / "604 118") labels another value.
  const ownLabel = alone && TABLE_LABEL.test(labelLine) && !findCodeWord(labelLine.toLowerCase())
  const labelAbove = alone && !clippedBefore && !ownLabel ? linesAbove(text, lineStart).toLowerCase() : ''
  // Round 21: a value ending its line after a colon shows it too, when its sentence names a code ("Saisissez ce code
  // d'activation sur la page d'activation : a3f9c2"), however far back.
  const afterLabelColon = /[:：]\s*$/.test(prefix) && ENDS_LINE.test(suffix)
  if (needsDisplay && !alone && !findCodeWord(near) && !(afterLabelColon && findCodeWord(before))) return null
  // A code spaced out one character apart is shown on its own line, never inside a sentence.
  if (spaced && !alone) return null
  const reasons: string[] = []
  let score = 0.2
  // A value shown alone below a request to type it ("On the new device, type these words exactly as
  // shown:") is what to type, whatever the request calls it.
  // The request may wrap over lines ("To finish signing in, type this\nthree-word phrase into the app:"): its
  // whole sentence is read.
  const requestSentence =
    alone && /[:：]$/.test(labelLine) ? sentenceTail(linesAbove(text, lineStart)).toLowerCase() : ''
  const typeRequest = requestSentence ? findEntryWord(requestSentence) : null
  const keyword =
    findCodeWord(before) ??
    (labelAbove ? findCodeWord(labelAbove) : null) ??
    (typeRequest ? typeRequest.trim() : null) ??
    (wrapped ? findOneTimeCodeWord(`${previousLine} ${prefix}`.slice(-120).toLowerCase()) : null)
  // Letters alone (WDJB-MJHT) are a code only when shown under its label or right after it, ending the line
  // ("Code: WDJB-MJHT"): inside a sentence they are a name.
  if (dashedLetters && !DIGIT.test(raw) && !((alone || afterLabelColon) && keyword)) return null
  if (keyword) {
    score += 0.45
    reasons.push(`after "${keyword}"`)
    if (findCodeWord(near)) score += 0.15
  } else if (!ownLabel) {
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
  // A word after the value that labels a field of its own ("318552 (Ref: KXTB)") names the next value.
  // A word in the label that names a value of its own ("code (valid 5 minutes, ref 2291):") does not
  // mark the code shown below it.
  // A request to type a one-time code names where it is typed ("enter this verification code on the Manage
  // Booking page:"): the page's words do not label the value.
  // Round 21: the request may wrap, its code word on the line above ("shigar da wannan lambar sirri a cikin manhajar" /
  // "Arewa Tel:"): its whole sentence is read.
  const typedOnPage = typeRequest !== null && findOneTimeCodeWord(requestSentence) !== null
  const nearBad = typedOnPage
    ? null
    : (findNotCodeWord(near.replace(IN_ORDER, ' ')) ??
      PLACE_LABEL.exec(near)?.[0].trim() ??
      (purpose.asksCode ? null : findReceiptCodeWord(near)))
  // Round 17: a label that names a one-time code for an order ("Ihre TAN für diesen Auftrag lautet:") labels the code
  // shown under it; the order is what the code approves. Not "Cod de verificare a stării": a status check's code.
  const lowerLabel = labelLine.toLowerCase()
  const beforeBad =
    nearBad !== null && alone && label !== '' ? lowerLabel.slice(0, lowerLabel.lastIndexOf(nearBad)) : ''
  const approvesOrder = FOR_THIS.test(beforeBad) && findOneTimeCodeWord(beforeBad) !== null
  const bad =
    (nearBad && !approvesOrder && !labelsAnotherValue(near.slice(near.lastIndexOf(nearBad) + nearBad.length))
      ? nearBad
      : null) ??
    (NEXT_FIELD.test(after) ? null : findNotCodeWord(after)) ??
    (TIME_UNIT.test(after) ? 'a time unit' : null)
  if (bad) {
    score -= 0.6
    reasons.push(`near "${bad}"`)
  }
  // The visible tail of a masked number (card XXXX XXXX 4417, ****7720, 98XXXXX210): a card or a phone.
  if (MASKED_BEFORE.test(text.slice(lineStart, index)) || MASKED_VALUE.test(raw)) {
    score -= 0.6
    reasons.push('part of a masked number')
  }
  if (isNumeric && value.length === 8 && DATE_8.test(value)) {
    score -= 0.6
    reasons.push('looks like a date')
  }
  // A dialling word labels a number on its own line or in its label ("Hotline:"), not a sentence above
  // it ("... signing in on a new phone." over a shown code).
  const phone =
    PHONE_WORD.exec(`${label}${prefix}`.slice(-60).toLowerCase())?.[0] ??
    (/[(+]\d{1,4}\)?[\s-]?$/.test(prefix) ? 'a dialling prefix' : null)
  // "On the new phone, type this phrase:" names the device the value is typed on, not a number to dial.
  if (phone && !findCodeWord(near) && !typeRequest) {
    score -= 0.6
    reasons.push(`a phone number ("${phone}")`)
  }
  if (isNumeric && YEAR.test(value) && !findCodeWord(near)) {
    score -= 0.5
    reasons.push('looks like a year')
  }
  if (!isNumeric && !wordCode && /^[A-Za-z]+\d{1,2}$/.test(value)) {
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
  // The mail's purpose weighs every candidate: a code in a mail that asks for one is likelier its code;
  // a number in a notice (an order, a parcel, a meeting) is a reference, whatever its label says.
  if (purpose.notice) {
    score -= 0.6
    reasons.push(`the mail is ${purpose.notice}`)
  } else if (purpose.asksCode && (keyword || alone || inSubject)) {
    score += 0.15
    reasons.push(`the mail ${purpose.asksCode}`)
  } else if (!purpose.asksCode && MID_SENTENCE.test(suffix) && !(keyword && findOneTimeCodeWord(keyword))) {
    // A code word in prose of a mail that asks for no code ("how our SMS code 123456 ended up in a log"):
    // a code that is shown ends its line ("Your code: 0417").
    score -= 0.45
    reasons.push('the mail asks for no code')
  } else if (
    !purpose.asksCode &&
    keyword &&
    !findOneTimeCodeWord(keyword) &&
    !inSubject &&
    !ENDS_LINE.test(suffix)
  ) {
    // A bare "code" inside a line of a mail that asks for no code is thin evidence: "(code 012345 ==
    // 12345)" in a newsletter. A shown code ends its line ("Your code: 0417").
    score -= 0.45
    reasons.push(`a bare "${keyword}" in a mail that asks for no code`)
  } else if (
    !purpose.asksCode &&
    keyword &&
    !findOneTimeCodeWord(before) &&
    !YOUR_LABEL.test(near) &&
    QUALIFIER.test(near.replace(keyword, ' ')) &&
    !inSubject &&
    !alone
  ) {
    // Round 6: a value after a code word qualified by another ("Door code: 4821B", "Código de consulta QX72M9", a
    // student's or a course's code), in a line with its label in a mail that asks for no code, names a thing,
    // not a sign-in. A code addressed to the reader ("Your code: 0417"), a bare "Code 333444" and a code shown
    // alone under its label are still the mail's code.
    score -= 0.35
    reasons.push(`a "${keyword}" of a kind named in its label, in a mail that asks for no code`)
  }
  return { value, confidence: Math.max(0, Math.min(1, Number(score.toFixed(2)))), reasons }
}
