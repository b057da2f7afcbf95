// Sender authentication: SPF, DKIM, DMARC and ARC with mailauth, on what the SMTP session recorded, with a DNS deadline.

import { promises as dns } from 'node:dns'
import { authenticate } from 'mailauth'
import type { AuthenticationResult, Envelope } from '../lib/types.ts'

export type DnsResolver = (name: string, type: string) => Promise<string[] | string[][]>

/** A slow DNS server must never hold a message: past this, a lookup fails as a temporary error. */
export const DNS_TIMEOUT_MS = 3_000

export function withTimeout(resolver: DnsResolver, timeoutMs: number): DnsResolver {
  return (name, type) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(Object.assign(new Error(`DNS ${type} ${name} timed out`), { code: 'ETIMEOUT' })),
        timeoutMs,
      )
      resolver(name, type).then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
}

export const systemResolver: DnsResolver = (name, type) => dns.resolve(name, type as 'TXT')

type Verdict = { status?: { result?: string } }

/** mailauth reports a check it skipped as `false`. */
const verdictOf = (verdict: Verdict | false | undefined): string =>
  (verdict ? verdict.status?.result : undefined) ?? 'none'

export function createSenderAuthenticator({ resolver, mta }: { resolver: DnsResolver; mta: string }) {
  return async (raw: Uint8Array, envelope: Envelope): Promise<AuthenticationResult> => {
    const result = (await authenticate(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
      ip: envelope.remoteAddress ?? undefined,
      helo: envelope.helo ?? undefined,
      sender: envelope.mailFrom ?? undefined,
      mta,
      resolver,
    })) as {
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
}
