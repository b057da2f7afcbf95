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
}

export interface Extraction {
  otp: string | null
  link: string | null
  otpCandidates: Candidate[]
  linkCandidates: Candidate[]
}

/** Invisible characters a sender puts inside a code (zero-width space, joiners, soft hyphen, BOM). */
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g

/** Finds the one-time code and the action link of a message, with the ranked candidates. */
export function extractOtpAndLink(input: ExtractInput): Extraction {
  const subject = (input.subject ?? '').replace(INVISIBLE, '')
  const bodyText = [input.text?.slice(0, MAX_SCAN_CHARS) ?? '', input.html ? htmlToText(input.html) : '']
    .join('\n')
    .replace(INVISIBLE, '')
  const purpose = classifyPurpose(subject, input.text ? bodyText : bodyText.trimStart())
  const settled = SETTLED_SUBJECT.test(subject)
  const otpCandidates = rank([
    ...findCodeCandidates(subject, { inSubject: true, settled, purpose }),
    ...findCodeCandidates(bodyText, { inSubject: false, settled, purpose }),
  ])
  const linkCandidates = rank(findLinkCandidates(input, purpose))
  const top = (list: Candidate[]) => {
    const first = list[0]
    return first && first.confidence >= MIN_CONFIDENCE ? first.value : null
  }
  return { otp: top(otpCandidates), link: top(linkCandidates), otpCandidates, linkCandidates }
}
