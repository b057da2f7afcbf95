// Sender authentication: SPF, DKIM, DMARC and ARC with mailauth, on what the SMTP session recorded, with a DNS deadline.

import { promises as dns } from 'node:dns'
import { authenticate } from 'mailauth'
import { beforeTimeout } from '#lib/deadline.ts'
import { createTtlCache } from '#lib/ttl-cache.ts'
import type { AuthenticationResult, Envelope } from '#lib/types.ts'
import { AUTH_OFFLOAD_MIN_BYTES, type AuthOffload } from './auth-offload.ts'

export type DnsResolver = (name: string, type: string) => Promise<string[] | string[][]>

/** A slow DNS server must never hold a message: past this, a lookup fails as a temporary error. */
export const DNS_TIMEOUT_MS = 3_000

export function withTimeout(resolver: DnsResolver, timeoutMs: number): DnsResolver {
  // async: a resolver that throws at once still answers with a rejection.
  return async (name, type) =>
    beforeTimeout(resolver(name, type), timeoutMs, () =>
      Object.assign(new Error(`DNS ${type} ${name} timed out`), { code: 'ETIMEOUT' }),
    )
}

/** Answers (and failures) kept this long: senders repeat, and a DNS round trip can cost a second. */
export const DNS_CACHE_MS = 60_000
/** Entries at most: bounds memory when mail comes from many domains. */
export const DNS_CACHE_ENTRIES = 10_000

/** Remembers each lookup's outcome, failures included (negative caching), for `ttlMs`. */
export function withCache(
  resolver: DnsResolver,
  ttlMs = DNS_CACHE_MS,
  maxEntries = DNS_CACHE_ENTRIES,
): DnsResolver {
  const answers = createTtlCache<string, Promise<string[] | string[][]>>({ ttlMs, maxEntries })
  return (name, type) => {
    const key = `${type} ${name.toLowerCase()}`
    const now = Date.now()
    const hit = answers.get(key, now)
    if (hit !== undefined) return hit
    const answer = resolver(name, type)
    answer.catch(() => {}) // the caller sees the rejection; the cache must not raise it twice
    answers.set(key, answer, now)
    return answer
  }
}

export const systemResolver: DnsResolver = (name, type) => dns.resolve(name, type as 'TXT')

type Verdict = { status?: { result?: string } }

/**
 * Physical header lines sender authentication reads at most. mailauth's header parser is quadratic
 * in folded lines (5,000 took 69 ms, 40,000 2.9 s, and 100,000 held the process for ~30 s), while
 * real mail has a few hundred at most. Past it the checks are skipped and the result says why: one
 * message must never stall SMTP and the API that share the process (bench/hostile-message.ts).
 */
export const MAX_AUTH_HEADER_LINES = 2_000

/** Where the header section ends (after the blank line, or the whole length) and its line count. */
function headerSection(raw: Uint8Array): { end: number; lines: number } {
  let lines = 0
  for (let i = raw.indexOf(10); i !== -1 && i + 1 < raw.length; i = raw.indexOf(10, i + 1)) {
    lines++
    if (raw[i + 1] === 10) return { end: i + 2, lines }
    if (raw[i + 1] === 13 && raw[i + 2] === 10) return { end: i + 3, lines }
  }
  return { end: raw.length, lines: lines + 1 }
}

/**
 * Longest From header (unfolded, in bytes) that sender authentication reads. mailauth parses From
 * with an address parser that is quadratic in the number of addresses (16,000 addresses on 400
 * folded lines held the event loop 4.1 s); real mail has one address, DMARC fails with more, and
 * 2 KB leaves room for a long display name or a few dozen addresses.
 */
export const MAX_AUTH_FROM_HEADER_BYTES = 2_048

/**
 * Each From header of the section with its folded lines, to measure. Any run of CR and LF counts as a
 * line break, as it does for mailauth: a From folded with `\n\r ` was once read as one short line.
 */
const FROM_HEADER = /^from[ \t]*:[^\r\n]*(?:[\r\n]+[ \t][^\r\n]*)*/gim

/**
 * DKIM-Signature, ARC-Seal and ARC-Message-Signature headers that sender authentication verifies at
 * most. mailauth verifies each one (1,000 signatures on a 100 KB message held the event loop 60-90 ms,
 * bench/fuzz-corpus.ts), while real mail has one to three, plus two per ARC hop (RFC 8617 caps a
 * chain at 50 hops; mail crosses a handful).
 */
export const MAX_AUTH_SIGNATURES = 50

const SIGNATURE_HEADERS = /^(?:dkim-signature|arc-seal|arc-message-signature)[ \t]*:/gim

/**
 * Whether the header section is signed (DKIM or ARC), or why the checks must be skipped for it (past
 * MAX_AUTH_FROM_HEADER_BYTES or MAX_AUTH_SIGNATURES).
 */
function inspectHeader(header: string): { signed: boolean } | { skipped: string } {
  for (const from of header.matchAll(FROM_HEADER))
    if (from[0].length > MAX_AUTH_FROM_HEADER_BYTES)
      return {
        skipped: `the From header has ${from[0].length} bytes (more than ${MAX_AUTH_FROM_HEADER_BYTES})`,
      }
  let signatures = 0
  for (const _ of header.matchAll(SIGNATURE_HEADERS))
    if (++signatures > MAX_AUTH_SIGNATURES)
      return { skipped: `the header section has more than ${MAX_AUTH_SIGNATURES} DKIM or ARC signatures` }
  return { signed: signatures > 0 }
}

/**
 * What mailauth needs to see, or why it must not run (past MAX_AUTH_HEADER_LINES,
 * MAX_AUTH_FROM_HEADER_BYTES or MAX_AUTH_SIGNATURES). Only
 * DKIM and ARC signatures cover the body (their `bh=`); SPF, DMARC and BIMI read the envelope and the
 * headers. So unsigned mail is checked on its header section alone, which spares hashing and
 * re-parsing the whole body (most of mailauth's cost on large mail).
 */
export function authenticationInput(raw: Uint8Array): { input: Buffer } | { skipped: string } {
  const whole = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const { end, lines } = headerSection(raw)
  // Counted first: a flood of lines is refused before any of it is decoded.
  if (lines > MAX_AUTH_HEADER_LINES)
    return { skipped: `the header section has more than ${MAX_AUTH_HEADER_LINES} lines` }
  const inspected = inspectHeader(whole.toString('latin1', 0, end))
  if ('skipped' in inspected) return inspected
  if (end === raw.length || inspected.signed) return { input: whole }
  return { input: whole.subarray(0, end) }
}

/** mailauth reports a check it skipped as `false`. */
const verdictOf = (verdict: Verdict | false | undefined): string =>
  (verdict ? verdict.status?.result : undefined) ?? 'none'

/**
 * How long an unsigned message's verdicts are reused for the next one with the same sender
 * (VERDICT_INPUTS). On top of the DNS cache's age, so a verdict rests on answers at most
 * DNS_CACHE_MS plus this old; short, because each reuse only spares CPU.
 */
export const VERDICT_CACHE_MS = 10_000
/** Sender identities remembered at most. */
export const VERDICT_CACHE_ENTRIES = 10_000

/**
 * Header fields mailauth reads for mail without a DKIM signature or ARC seal: From (DMARC's domain
 * and alignment) and BIMI-Selector. With the envelope's IP, HELO and MAIL FROM (SPF) and the same DNS
 * answers they decide every verdict and the Authentication-Results text, whatever else the message holds.
 */
const VERDICT_HEADERS = /^(?:from|bimi-selector)[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*/gim

/** What an unsigned message's verdicts depend on, as one key. */
function verdictKey(header: Buffer, envelope: Envelope): string {
  const fields = header.toString('latin1').match(VERDICT_HEADERS) ?? []
  return [envelope.remoteAddress, envelope.helo, envelope.mailFrom, ...fields].join('\n')
}

/** What mailauth is told about the session, besides the resolver. */
export interface MailauthOptions {
  ip?: string
  helo?: string
  sender?: string
  mta: string
}

/** Runs mailauth on `input` and reduces its answer to the verdicts stored with the message. */
export async function runMailauth(
  input: Buffer,
  options: MailauthOptions,
  resolver: DnsResolver,
): Promise<AuthenticationResult> {
  const result = (await authenticate(input, { ...options, resolver })) as {
    spf?: Verdict | false
    dkim?: { results?: Verdict[] }
    dmarc?: Verdict | false
    arc?: Verdict | false
    headers?: string
  }
  const dkimResults = result.dkim?.results ?? []
  return {
    spf: verdictOf(result.spf),
    dkim:
      dkimResults.find((entry) => entry.status?.result === 'pass')?.status?.result ??
      dkimResults[0]?.status?.result ??
      'none',
    dmarc: verdictOf(result.dmarc),
    arc: verdictOf(result.arc),
    header: /Authentication-Results:[\s\S]*?(?=\r?\n\S|$)/.exec(result.headers ?? '')?.[0]?.trim() ?? null,
  }
}

export function createSenderAuthenticator({
  resolver,
  mta,
  verdictCacheMs = 0,
  offload,
}: {
  resolver: DnsResolver
  mta: string
  /**
   * Where input of AUTH_OFFLOAD_MIN_BYTES or more (a large signed message) is checked; without it,
   * on this thread (tools and tests).
   */
  offload?: AuthOffload
  /**
   * Reuse an unsigned message's verdicts this long for the next with the same VERDICT_HEADERS and
   * envelope (0: never). Only with a cached resolver: a verdict must not outlive the answers it used
   * by more than this. mailauth was a tenth of the server's CPU on repeated senders (bench/README.md).
   */
  verdictCacheMs?: number
}) {
  const verdicts =
    verdictCacheMs > 0
      ? createTtlCache<string, Promise<AuthenticationResult>>({
          ttlMs: verdictCacheMs,
          maxEntries: VERDICT_CACHE_ENTRIES,
        })
      : null
  const check = (input: Buffer, envelope: Envelope): Promise<AuthenticationResult> => {
    const options: MailauthOptions = {
      ip: envelope.remoteAddress ?? undefined,
      helo: envelope.helo ?? undefined,
      sender: envelope.mailFrom ?? undefined,
      mta,
    }
    return offload && input.length >= AUTH_OFFLOAD_MIN_BYTES
      ? offload.check(input, options, resolver)
      : runMailauth(input, options, resolver)
  }
  return async (raw: Uint8Array, envelope: Envelope): Promise<AuthenticationResult> => {
    const prepared = authenticationInput(raw)
    if ('skipped' in prepared)
      return {
        spf: 'skipped',
        dkim: 'skipped',
        dmarc: 'skipped',
        arc: 'skipped',
        header: null,
        skipped: prepared.skipped,
      }
    // Signed mail (given whole) is always checked: its signatures cover this message's own bytes.
    if (!verdicts || prepared.input.length === raw.length) return check(prepared.input, envelope)
    const key = verdictKey(prepared.input, envelope)
    const now = Date.now()
    const known = verdicts.get(key, now)
    if (known) return { ...(await known) }
    const verdict = check(prepared.input, envelope)
    verdicts.set(key, verdict, now)
    // A failed check is not remembered: the next message tries again.
    verdict.catch(() => {
      if (verdicts.get(key) === verdict) verdicts.delete(key)
    })
    return { ...(await verdict) }
  }
}
