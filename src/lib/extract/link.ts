// Verification link candidates: every link of the HTML and text parts, scored by its URL and its text.

import type { Candidate } from '../types.ts'
import { decodeEntities, htmlToText, MAX_SCAN_CHARS } from './html-to-text.ts'
import { LINK_BAD_WORDS, LINK_GOOD_WORDS, LINK_WEAK_WORDS } from './lexicon.ts'

const URL_IN_TEXT = /https?:\/\/[^\s<>"')\]]+/gi

/** The parts of a message links are read from. */
interface LinkSource {
  html: string | null
  text: string | null
}

interface RawLink {
  url: string
  label: string
}

/** Every http(s) link of the message, scored; one entry per occurrence (ranking merges them). */
export function findLinkCandidates(input: LinkSource): Candidate[] {
  return linksOf(input).map(scoreLink)
}

function linksOf(input: LinkSource): RawLink[] {
  const links: RawLink[] = []
  if (input.html) {
    const html = input.html.slice(0, MAX_SCAN_CHARS)
    for (const match of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi)) {
      const url = decodeEntities((match[2] as string).trim())
      const inner = match[3] as string
      const alt = /\balt\s*=\s*["']([^"']*)/i.exec(inner)?.[1] ?? ''
      links.push({ url, label: `${htmlToText(inner)} ${alt}`.trim() })
    }
  }
  if (input.text) {
    const text = input.text.slice(0, MAX_SCAN_CHARS)
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const index = match.index ?? 0
      const lineStart = text.lastIndexOf('\n', Math.max(0, index - 2)) + 1
      links.push({
        url: decodeEntities(match[0]).replace(/[.,;:!?]+$/, ''),
        label: text.slice(Math.max(lineStart - 120, 0), index),
      })
    }
  }
  return links.filter((link) => /^https?:\/\//i.test(link.url))
}

function includesAny(haystack: string, words: readonly string[]): string | null {
  for (const word of words) if (haystack.includes(word)) return word
  return null
}

function scoreLink(link: RawLink): Candidate {
  let decodedUrl = link.url
  try {
    decodedUrl = decodeURIComponent(link.url)
  } catch {}
  const url = decodedUrl.toLowerCase()
  const label = link.label.toLowerCase()
  const reasons: string[] = []
  let score = 0.1
  // A strong word (verify, confirm, reset) counts more than a weak one (sign in, password).
  const weigh = (text: string, strongWeight: number, describe: (word: string) => string): string | null => {
    const strong = includesAny(text, LINK_GOOD_WORDS)
    const word = strong ?? includesAny(text, LINK_WEAK_WORDS)
    if (!word) return null
    score += strong ? strongWeight : 0.2
    reasons.push(describe(word))
    return strong
  }
  weigh(url, 0.4, (word) => `URL has "${word}"`)
  const inLabel = weigh(label, 0.45, (word) => `text says "${word}"`)
  if (
    /[?&](token|code|key|t|sig|signature|otp|hash)=[^&]{8,}/i.test(link.url) ||
    /\/[A-Za-z0-9_-]{24,}/.test(link.url)
  ) {
    score += 0.15
    reasons.push('carries a token')
  }
  const badUrl = includesAny(url, LINK_BAD_WORDS)
  const badLabel = includesAny(label.slice(-60), LINK_BAD_WORDS)
  if (badUrl) {
    score -= 0.6
    reasons.push(`URL has "${badUrl}"`)
  }
  if (badLabel && !inLabel) {
    score -= 0.4
    reasons.push(`text says "${badLabel}"`)
  }
  if (/\.(png|jpe?g|gif|svg|webp)(\?|$)/i.test(link.url)) {
    score -= 0.6
    reasons.push('an image')
  }
  return { value: link.url, confidence: Math.max(0, Math.min(1, Number(score.toFixed(2)))), reasons }
}
