// Action link candidates: every link of the HTML and text parts, scored by its URL, its text and the mail's purpose.

import type { Candidate } from '../types.ts'
import { decodeEntities, MAX_SCAN_CHARS } from './html-to-text.ts'
import {
  findEscapeWord,
  LINK_BAD_WORDS,
  LINK_GOOD_WORDS,
  LINK_HELP_WORDS,
  LINK_INVITE_WORDS,
  LINK_RESET_WORDS,
  LINK_WEAK_WORDS,
  substringMatcher,
} from './lexicon.ts'
import { findLinkNoun, type Purpose } from './purpose.ts'

const URL_IN_TEXT = /https?:\/\/[^\s<>"')\]]+/gi
const ANCHOR = /<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi
/** Characters of text read before a link for the sentence that introduces it ("Not you? Secure your account"). */
const LEAD_CHARS = 120
/** A link scored below this before its escape check can not be returned (index.ts MIN_CONFIDENCE). */
const MIN_LINK_SCORE = 0.5
/** Characters before a URL in running text that label it. */
const TEXT_LABEL_CHARS = 40
const TAG = /<[^>]*>/g
const SPACES = /\s+/g
const BLOCK_END = /<\/(?:p|div|tr|td|li|h[1-6]|table)>|<br\s*\/?>/gi
/** Query parameters and path segments that carry the target of a tracking redirect. */
const REDIRECT_PARAM =
  /[?&](?:u|url|l|link|target|redirect|redirect_uri|dest|destination|q)=(https?(?:%3A|:)[^&]+)/i
const BASE64_SEGMENT = /\/(aHR0c[A-Za-z0-9_-]{8,}={0,2})(?:\/|$)/

/** The parts of a message links are read from. */
interface LinkSource {
  html: string | null
  text: string | null
}

interface RawLink {
  url: string
  /** The link's own text (anchor text and image alt), or for a bare URL the words before it on its lines. */
  label: string
  /** The sentence before the link in its block: where escape links say "not you?". */
  lead: string
  /**
   * A bare URL alone on its line under a line that ends in a colon ("Confirm your address by opening the link
   * below:" / URL): the text part presents it as the link to open.
   */
  introduced: boolean
}

/** Every http(s) link of the message, scored; one entry per occurrence (ranking merges them). */
export function findLinkCandidates(input: LinkSource, purpose: Purpose): Candidate[] {
  return linksOf(input).map((link) => scoreLink(link, purpose))
}

function linksOf(input: LinkSource): RawLink[] {
  const links: RawLink[] = []
  if (input.html) {
    const html = input.html.slice(0, MAX_SCAN_CHARS)
    for (const match of html.matchAll(ANCHOR)) {
      const url = decodeEntities((match[2] as string).trim())
      const inner = match[3] as string
      const alt = /\balt\s*=\s*["']([^"']*)/i.exec(inner)?.[1] ?? ''
      const index = match.index ?? 0
      const before = html.slice(Math.max(0, index - 4 * LEAD_CHARS), index)
      const blockStart = lastBlockEnd(before)
      const lead = plainText(before.slice(blockStart)).slice(-LEAD_CHARS)
      links.push({ url, label: `${plainText(inner)} ${alt}`.trim(), lead, introduced: false })
    }
  }
  if (input.text) {
    const text = input.text.slice(0, MAX_SCAN_CHARS)
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const index = match.index ?? 0
      const lineStart = index === 0 ? 0 : text.lastIndexOf('\n', index - 1) + 1
      const sameLine = text.slice(lineStart, index)
      const lead = text.slice(Math.max(lineStart - LEAD_CHARS, 0), index)
      // A URL alone on its line is labelled by the sentence that introduces it ("Accept invite:" / URL),
      // which may wrap over lines; mid-sentence, only the words just before the URL label it
      // ("... two-factor authentication. Visit URL").
      const alone = sameLine.trim() === ''
      const label = alone ? lastParagraph(lead) : sameLine.slice(-TEXT_LABEL_CHARS)
      const lineEnd = text.indexOf('\n', index)
      const restOfLine = text.slice(index + match[0].length, lineEnd === -1 ? undefined : lineEnd)
      links.push({
        url: decodeEntities(match[0]).replace(/[.,;:!?]+$/, ''),
        label,
        lead: lead.slice(-LEAD_CHARS),
        introduced: alone && restOfLine.trim() === '' && INTRODUCING_LINE.test(lead),
      })
    }
  }
  return links.filter((link) => /^https?:\/\//i.test(link.url))
}

const PARAGRAPH_BREAK = /\n[ \t\r]*\n/g
/** The line above ends in a colon: it introduces what follows ("..., open the link below:"). */
const INTRODUCING_LINE = /[:：]\s*$/

/**
 * The paragraph that ends `text`: the words that introduce a link below them, which may wrap over
 * lines ("Pour l'activer, validez\nvotre adresse ... :"), and not the paragraph above.
 */
export function lastParagraph(text: string): string {
  const body = text.trimEnd()
  let start = 0
  for (const match of body.matchAll(PARAGRAPH_BREAK)) start = (match.index ?? 0) + match[0].length
  return body.slice(start)
}

/** Tags out, entities decoded, spaces collapsed: enough for the few words around a link. */
function plainText(html: string): string {
  return decodeEntities(html.replace(TAG, ' ')).replace(SPACES, ' ').trim()
}

/** Where the last block of `html` starts (after its last closing block tag or line break). */
function lastBlockEnd(html: string): number {
  let end = 0
  for (const match of html.matchAll(BLOCK_END)) end = (match.index ?? 0) + match[0].length
  return end
}

/**
 * An English past participle after a stem reports, it does not ask ("accepted", "verified", "activated"); an
 * adjective describes (an "Acceptable use policy", "Politica de utilizare acceptabilă" is a footer page).
 */
const NOT_REPORTED = '(?!(?:e?d|ied)\\b|abl|abil)'

/** What a link does, read from its URL: verify, reset, accept, or the weaker sign-in and password words. */
const URL_WORDS = {
  reset: substringMatcher(LINK_RESET_WORDS),
  strong: substringMatcher([...LINK_GOOD_WORDS, ...LINK_INVITE_WORDS]),
  weak: substringMatcher(LINK_WEAK_WORDS),
}
/** The same, read from a link's text: an occurrence that reports a done step ("was accepted") is skipped. */
const TEXT_WORDS = {
  reset: substringMatcher(LINK_RESET_WORDS, NOT_REPORTED),
  strong: substringMatcher([...LINK_GOOD_WORDS, ...LINK_INVITE_WORDS], NOT_REPORTED),
  weak: substringMatcher(LINK_WEAK_WORDS, NOT_REPORTED),
}
const findBadWord = substringMatcher(LINK_BAD_WORDS)
const findHelpWord = substringMatcher(LINK_HELP_WORDS)
const HOST = /^https?:\/\/[^/]+/
/**
 * Round 17: a help centre on a host of its own (aide.bank.example, help.shop.example): the host's first label is the
 * help word itself, not a brand that holds it.
 */
const HELP_HOST =
  /^https?:\/\/(help|hilfe|aide|ayuda|ajuda|aiuto|support|soporte|suporte|assistance|hulp|pomoc|yardim|destek|faq|docs)\./

/** What a link does by its words: a strong step (verify, accept, or reset), or a weak sign-in word. */
function linkKind(
  text: string,
  words: typeof URL_WORDS,
): { word: string; strong: boolean; reset: boolean } | null {
  const strong = words.strong(text)
  if (strong) return { word: strong, strong: true, reset: false }
  const reset = words.reset(text)
  if (reset) return { word: reset, strong: true, reset: true }
  const weak = words.weak(text)
  return weak ? { word: weak, strong: false, reset: false } : null
}

/**
 * Any value that identifies a session: a query value of 6+ characters holding a digit (t=8fA3kQ2x,
 * u=100023884), or a path segment of 8+ letters and digits mixed (/m/3xZq9Lr2).
 */
const ANY_TOKEN =
  /[?&][^=&#]+=(?=[^&#]*\d)[^&#]{6,}|\/(?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}(?![A-Za-z0-9_])/

/** Long runs of letters and digits in a URL are tokens: words found inside them are chance ("eyJ1Ijoi" holds "join"). */
const TOKEN_RUN = /(?=[a-z0-9_]*\d)(?=[a-z0-9_]*[a-z])[a-z0-9_]{12,}/g

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * The target of a tracking redirect, when the URL carries it (a `u=`/`url=` parameter, or a base64
 * path segment): its words say what the link does. The link itself is still what is returned.
 */
export function redirectTarget(url: string): string | null {
  const param = REDIRECT_PARAM.exec(url)?.[1]
  if (param) return safeDecode(param)
  const segment = BASE64_SEGMENT.exec(url)?.[1]
  if (!segment) return null
  try {
    const decoded = atob(segment.replace(/-/g, '+').replace(/_/g, '/'))
    return /^https?:\/\/[\x21-\x7e]+$/.test(decoded) ? decoded : null
  } catch {
    return null
  }
}

/** Parameters naming the page a link lands on after its step (next=/orders, return_to=/account). */
const LANDING_PARAM =
  /[?&](?:next|return_?to|return_?url|continue|back_?url|redirect(?:_?to|_after)?)=[^&#]*/g
/**
 * Round 17: a landing page given as a path (login?redirect=%2Fkonto%2Ftransaktionen) says where a sign-in lands, and
 * its escaped slashes are no token.
 */
const LANDING_PATH =
  /[?&](?:next|return_?to|return_?url|continue|back_?url|redirect(?:_?to|_?uri|_after)?|goto)=(?:%2F|\/)[^&#]*/gi
/** A joint account holds "join" and asks to join nothing. */
const JOINT = /joint/g
/** An invitation path ending in a name ("/invite/club-eu", not a repository's "/invitations" page). */
const STANDING_INVITE = /\/invite\/[a-z][a-z0-9-]*\/?$/
/** A URL with a query or a fragment: not a bare page. */
const QUERY_OR_FRAGMENT = /[?#]/
/** Campaign parameters (utm_campaign=onboarding_d0) name a newsletter, not a session: no token. */
const CAMPAIGN_PARAMS = /[?&](?:utm_[a-z]+|mc_[a-z]+|_hs[a-z]+)=[^&#]*/gi

function scoreLink(link: RawLink, purpose: Purpose): Candidate {
  const target = redirectTarget(link.url)
  const tokenUrl = link.url.replace(CAMPAIGN_PARAMS, '').replace(LANDING_PATH, '')
  const url = safeDecode(target ?? link.url).toLowerCase()
  const label = link.label.toLowerCase()
  const reasons: string[] = target ? [`redirects to ${target.slice(0, 80)}`] : []
  let score = 0.1
  // What the link does, from its text first and its URL second: verify, sign in, reset, accept.
  const byLabel = linkKind(label.replace(JOINT, '~'), TEXT_WORDS)
  const urlWords = url.replace(TOKEN_RUN, '~').replace(JOINT, '~')
  const byUrl = linkKind(urlWords, URL_WORDS)
  if (byUrl) {
    score += byUrl.strong ? 0.4 : 0.2
    reasons.push(`URL has "${byUrl.word}"`)
  }
  if (byLabel) {
    score += byLabel.strong ? 0.45 : 0.3
    reasons.push(`text says "${byLabel.word}"`)
  }
  const carriesToken =
    /[?&](token|code|key|t|sig|signature|otp|hash|inv|k|h)=[^&]{8,}/i.test(url) ||
    /\/[A-Za-z0-9_-]{20,}/.test(target ?? tokenUrl) ||
    ANY_TOKEN.test(tokenUrl)
  if (carriesToken) {
    score += 0.15
    reasons.push('carries a token')
  }
  // Round 17: an invitation path ending in a name, with no token and no words in the link's text
  // (discord.example/invite/club-eu), is a community's standing invitation, shared with everyone: no step of this mail.
  if (byUrl && !byLabel && !carriesToken && STANDING_INVITE.test(url)) {
    score -= 0.3
    reasons.push('a standing invitation: no token')
  }
  // Round 8: a link with a token that the text part shows alone under a line that names it ("… potrdite svoj
  // e-poštni naslov s klikom na povezavo:" / URL) is presented as the one to open, whatever language the link's
  // own words are in; a notice, a code mail, an escape or a footer page still loses below.
  const namedLink = link.introduced && carriesToken ? findLinkNoun(label) : null
  if (namedLink) {
    score += 0.25
    reasons.push(`shown alone under a line that names a "${namedLink}"`)
  }
  // Where a sign-in lands afterwards (next=/orders) is not what the link does.
  // Campaign parameters name the mailing, not the link (utm_campaign=auth-contact-invite holds "contact").
  const landingOut = urlWords.replace(LANDING_PARAM, '').replace(CAMPAIGN_PARAMS, '')
  const badUrl =
    findBadWord(landingOut) ?? findHelpWord(landingOut.replace(HOST, '')) ?? HELP_HOST.exec(url)?.[1] ?? null
  const badLabel = findBadWord(label.slice(-60)) ?? findHelpWord(label.slice(-60))
  if (badUrl) {
    score -= 0.6
    reasons.push(`URL has "${badUrl}"`)
  }
  if (badLabel && !byLabel?.strong) {
    score -= 0.4
    reasons.push(`text says "${badLabel}"`)
  }
  if (/\.(png|jpe?g|gif|svg|webp)(\?|$)/i.test(link.url)) {
    score -= 0.6
    reasons.push('an image')
  }
  // An escape link undoes or reports what the mail announces ("Not you? Secure your account"): never the
  // action. Read only for links that could still be returned: footers are most of a mail's links.
  // A security section's URL (/security/..., /sicurezza/...) marks an escape page unless the link's own
  // text names the step ("Autorizza dispositivo" at /sicurezza/dispositivo/autorizza): a device approval
  // lives there too.
  const namesStep = byLabel?.strong && !byLabel.reset
  const escapeWord =
    score < MIN_LINK_SCORE
      ? null
      : (findEscapeWord(`${link.lead} ${link.label}`) ??
        (namesStep ? null : findEscapeWord(url.replace(/^https?:\/\/[^/]+/, ''))))
  if (escapeWord) {
    score -= 0.8
    reasons.push(`an escape link ("${escapeWord}")`)
  }
  // A sign-in or password word alone, with no token, names a page ("Click here to log in" in a welcome
  // mail), not a one-time step: a magic link carries its token.
  if (!byLabel?.strong && !byUrl?.strong && (byLabel || byUrl) && !ANY_TOKEN.test(tokenUrl)) {
    score -= 0.3
    reasons.push('a sign-in page: no token')
  }
  // Round 11: a link whose text names a step ("para aceptarla", "Verify") but whose URL is a bare page (no query, no
  // token: /amigos) opens the page where the step is found, not the step itself. A click tracker's URL hides what it
  // opens (/ls/click?upn=...) and is not judged so.
  if (byLabel?.strong && !byUrl && !target && !QUERY_OR_FRAGMENT.test(tokenUrl) && !carriesToken) {
    score -= 0.3
    reasons.push('a page: its text names a step, its URL no step and no token')
  }
  // A sign-in link behind a tracking redirect carries the redirect's token, not the sign-in's: in a mail that
  // asks for no click and names no sign-in ("A new test result is available" / "Log in to view it") it opens
  // an account page.
  const weakOnly = !byLabel?.strong && !byUrl?.strong && (byLabel || byUrl)
  if (weakOnly && !purpose.asksSignIn && !purpose.reset) {
    score -= 0.3
    reasons.push('a sign-in link in a mail that asks for no click or sign-in')
  }
  // The purpose decides which actions are the mail's own.
  const resetLink = (byLabel?.reset || byUrl?.reset) && !(byLabel?.strong && !byLabel.reset)
  if (purpose.notice) {
    // A notice has no step to take: even an "Accept" link with a token (a calendar RSVP) is not one.
    score -= 0.8
    reasons.push(`the mail is ${purpose.notice}`)
  } else if (resetLink && !purpose.reset) {
    score -= 0.5
    reasons.push('a reset link in a mail that is not about a reset')
  } else if (
    purpose.clickFirst &&
    (byLabel || byUrl || namedLink) &&
    !resetLink &&
    ANY_TOKEN.test(tokenUrl)
  ) {
    // "Tap the button below to sign in (it expires in 15 minutes). Or enter this code": a sign-in link with
    // its token is the one-click way to the step the code also completes. Round 21: so is a link with a token shown
    // under the line that asks to click it ("kliknij poniższy link na telefonie:"), whatever its URL's words.
    score += 0.15
    reasons.push(`the mail ${purpose.clickFirst}, or else to type a code: a one-click step`)
  } else if (purpose.asksCode && namedLink && (byLabel || byUrl) && !resetLink) {
    // Round 10: "Or open this link on the same phone to sign in without typing the code:" / URL: a sign-in link with
    // its token that the text part shows under a line naming it is the one-click way to the code's step, offered
    // after the code as well as before it.
    score += 0.15
    reasons.push(`the mail ${purpose.asksCode}, and offers this link beside it: a one-click step`)
  } else if (purpose.asksCode && !(byLabel?.strong || byUrl?.strong)) {
    score -= 0.4
    reasons.push(`the mail ${purpose.asksCode}, and this link is not a one-click step`)
  } else if (purpose.asksCode && !ANY_TOKEN.test(tokenUrl)) {
    // A one-click step names the sign-in it completes: a link with no token (a docs or settings page, or
    // the form where the code is typed: "Go to .../activate and enter the code") can never be one.
    score -= 0.8
    reasons.push(`the mail ${purpose.asksCode}, and this link carries no token`)
  } else if (purpose.asksClick && !purpose.asksCode && (byLabel || byUrl) && !resetLink) {
    // A sign-in link ("Me connecter", "Giriş yap") in a mail that asks for a click is its action.
    score += 0.15
    reasons.push(`the mail ${purpose.asksClick}`)
  }
  return { value: link.url, confidence: Math.max(0, Math.min(1, Number(score.toFixed(2)))), reasons }
}
