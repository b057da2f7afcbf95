// One-time code and action link extraction: the mail's purpose first, then ranked candidates with reasons; web standards only.

import type { Candidate } from '../types.ts'
import { findCodeCandidates } from './code.ts'
import { htmlToText, MAX_SCAN_CHARS } from './html-to-text.ts'
import { SETTLED_SUBJECT } from './lexicon.ts'
import { findLinkCandidates } from './link.ts'
import { classifyPurpose } from './purpose.ts'
import { rank } from './rank.ts'

export type { Candidate } from '../types.ts'
export { MAX_CODE_MATCHES, typedCode } from './code.ts'
export { htmlToText, MAX_SCAN_CHARS } from './html-to-text.ts'
export { classifyPurpose, type Purpose } from './purpose.ts'

/**
 * A candidate below this confidence is listed but not reported: a wrong code is worse than none
 * (README, extraction policy). Every candidate keeps its reasons, so a caller can see what fell short.
 */
export const MIN_CONFIDENCE = 0.5

export interface ExtractInput {
  subject: string | null
  text: string | null
  html: string | null
  /** The sender's address: its domain names the brand, whose name in a subject is not a topic ("PaketHub"). */
  fromAddress?: string | null
}

export interface Extraction {
  otp: string | null
  link: string | null
  otpCandidates: Candidate[]
  linkCandidates: Candidate[]
}

/** Invisible characters a sender puts inside a code (zero-width space, joiners, soft hyphen, BOM). */
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g

/**
 * The zero of each script's decimal digits a sender may write a code in (each run of ten is 0-9): Arabic-Indic,
 * Persian, NKo, the Indian scripts (Devanagari to Sinhala), Thai, Lao, Tibetan, Myanmar, Khmer, Mongolian, and
 * the Southeast Asian scripts of the Unicode BMP. Ascending, for the fold's search.
 */
const DIGIT_ZEROS = [
  0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0de6,
  0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0,
  0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0,
]
const unicodeEscape = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`

/**
 * Characters typed differently from how they are shown: full-width forms (８２４１０６, ＡＢ１２, ：) and the
 * decimal digits of other scripts (Arabic-Indic ٤٨٢, Persian ۴۸۲, Devanagari ४८२, Bengali ৪৮২, Thai ๔๘๒, Khmer ៤៩១).
 * A form takes ASCII, so the code is read and returned in ASCII (the NFKC form of the full-width block).
 */
const FOLDED = new RegExp(
  `[\\uff01-\\uff5e${DIGIT_ZEROS.map((zero) => `${unicodeEscape(zero)}-${unicodeEscape(zero + 9)}`).join('')}]`,
  'g',
)
const HAS_FOLDED = new RegExp(FOLDED.source)

function foldCharacter(character: string): string {
  const code = character.charCodeAt(0)
  if (code >= 0xff01) return String.fromCharCode(code - 0xfee0)
  let zero = code
  for (const start of DIGIT_ZEROS) if (start <= code) zero = start
  return String(code - zero)
}

const COMBINING_MARK = /[\u0300-\u036f]/

/** Invisible characters out, full-width forms and other scripts' digits folded to ASCII. */
export function normaliseForCodes(text: string): string {
  // Decomposed accents (windows-1258 Vietnamese, text from macOS: "Ma\u0303" for "Mã") are composed first, so the
  // words around a code read as the lexicon writes them.
  const composed = COMBINING_MARK.test(text) ? text.normalize('NFC') : text
  const visible = composed.replace(INVISIBLE, '')
  return HAS_FOLDED.test(visible) ? visible.replace(FOLDED, foldCharacter) : visible
}

/** A leading tag of one word in square brackets ("[GitHub]", "[КодХаб]"): the sender's or a list's name. */
const BRAND_TAG = /^\s*\[[^\s\]]+\]/
/** Latin letters with accents, folded to their base letter to find a brand in a subject. */
const LATIN_ACCENTED = /[\u00C0-\u024F]/g
/** Domain labels that name a sender's department, not its brand: their words stay in the subject. */
const DEPARTMENT_LABELS = new Set(
  'email mailer notify notification notifications noreply no-reply newsletter account accounts orders order security support service services example alerts alert updates billing store delivery tracking booking bookings invoice invoices receipts'.split(
    ' ',
  ),
)

/**
 * The subject as its purpose is read: without a leading brand tag and without the sender's brand, taken from
 * its domain (a brand may hold a notice or a code word: "PaketHub" holds "paket", "КодХаб" "код").
 */
export function subjectTopic(subject: string, fromAddress: string | null): string {
  // Lower case once, and cut there: lower-casing may change a string's length ("İ"), so indexes found in a
  // lower-cased copy do not fit the original. The purpose is read in lower case anyway.
  let topic = subject.replace(BRAND_TAG, ' ').toLowerCase()
  const domain = fromAddress?.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase() ?? ''
  const labels = domain.split('.').slice(0, -1)
  for (const label of labels) {
    if (label.length < 5 || DEPARTMENT_LABELS.has(label)) continue
    // Round 24: the brand is found with its accents folded ("Fakturníku" from fakturnik.example, which holds
    // "faktur"); one character for one, so the index fits the topic.
    const at = topic.replace(LATIN_ACCENTED, (letter) => letter.normalize('NFD')[0] ?? letter).indexOf(label)
    if (at !== -1) topic = `${topic.slice(0, at)} ${topic.slice(at + label.length)}`
  }
  return topic
}

/** Distinct letter-and-digit values of one length that make a list, not a code (recovery codes: ten of them). */
const LIST_OF_CODES = 4
const LETTER_AND_DIGIT = /^(?=.*[A-Za-z])(?=.*\d)/

/**
 * A mail shows one one-time code. Four or more distinct letter-and-digit values of the same length are a list
 * (recovery or backup codes, kept for the day the authenticator is lost, or vouchers): each loses 0.6 (round 12).
 */
function listedCodesDown(candidates: Candidate[]): Candidate[] {
  const byLength = new Map<number, Set<string>>()
  for (const { value } of candidates) {
    if (!LETTER_AND_DIGIT.test(value)) continue
    const values = byLength.get(value.length) ?? new Set<string>()
    values.add(value)
    byLength.set(value.length, values)
  }
  const listed = new Set<string>()
  for (const values of byLength.values())
    if (values.size >= LIST_OF_CODES) for (const value of values) listed.add(value)
  if (listed.size === 0) return candidates
  return candidates.map((candidate) =>
    listed.has(candidate.value)
      ? {
          value: candidate.value,
          confidence: Math.max(0, Number((candidate.confidence - 0.6).toFixed(2))),
          reasons: [...candidate.reasons, 'one of a list of codes of the same form'],
        }
      : candidate,
  )
}

/** Finds the one-time code and the action link of a message, with the ranked candidates. */
export function extractOtpAndLink(input: ExtractInput): Extraction {
  const subject = normaliseForCodes(input.subject ?? '')
  const bodyText = normaliseForCodes(
    [input.text?.slice(0, MAX_SCAN_CHARS) ?? '', input.html ? htmlToText(input.html) : ''].join('\n'),
  )
  const purpose = classifyPurpose(
    subjectTopic(subject, input.fromAddress ?? null),
    input.text ? bodyText : bodyText.trimStart(),
  )
  const settled = SETTLED_SUBJECT.test(subject)
  const otpCandidates = rank(
    listedCodesDown([
      ...findCodeCandidates(subject, { inSubject: true, settled, purpose }),
      ...findCodeCandidates(bodyText, { inSubject: false, settled, purpose }),
    ]),
  )
  const linkCandidates = rank(findLinkCandidates(input, purpose))
  const top = (list: Candidate[]) => {
    const first = list[0]
    return first && first.confidence >= MIN_CONFIDENCE ? first.value : null
  }
  return { otp: top(otpCandidates), link: top(linkCandidates), otpCandidates, linkCandidates }
}
