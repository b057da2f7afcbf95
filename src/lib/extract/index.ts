// One-time code and verification link extraction: ranked candidates with reasons, web standards only.

import type { Candidate } from '../types.ts'
import { findCodeCandidates } from './code.ts'
import { htmlToText, MAX_SCAN_CHARS } from './html-to-text.ts'
import { SETTLED_SUBJECT } from './lexicon.ts'
import { findLinkCandidates } from './link.ts'
import { rank } from './rank.ts'

export type { Candidate } from '../types.ts'
export { MAX_CODE_MATCHES } from './code.ts'
export { htmlToText, MAX_SCAN_CHARS } from './html-to-text.ts'

/** A candidate below this confidence is listed but not reported: a wrong code is worse than none. */
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

/** Finds the one-time code and the verification link of a message, with the ranked candidates. */
export function extractOtpAndLink(input: ExtractInput): Extraction {
  const settled = SETTLED_SUBJECT.test(input.subject ?? '')
  const bodyText = [
    input.text?.slice(0, MAX_SCAN_CHARS) ?? '',
    input.html ? htmlToText(input.html) : '',
  ].join('\n')
  const otpCandidates = rank([
    ...findCodeCandidates(input.subject ?? '', true, settled),
    ...findCodeCandidates(bodyText, false, settled),
  ])
  const linkCandidates = rank(findLinkCandidates(input))
  const top = (list: Candidate[]) => {
    const first = list[0]
    return first && first.confidence >= MIN_CONFIDENCE ? first.value : null
  }
  return { otp: top(otpCandidates), link: top(linkCandidates), otpCandidates, linkCandidates }
}
