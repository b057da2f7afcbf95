// The MX check of a registered domain: does at least one MX record point at this deployment's mail hosts?

import type { DomainCheckOutcome } from '#contracts/storage.ts'

export interface MxRecord {
  exchange: string
  priority: number
}

/** DNS as the check needs it; the server passes the system's (with a deadline), tests a fake or a loopback one. */
export interface MxResolver {
  /** Rejects with an error whose `code` says why (ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL...). */
  resolveMx(name: string): Promise<MxRecord[]>
}

/** Answers that say the domain has no MX at all: a definite "no", unlike a lookup that failed. */
const NO_RECORD_CODES = new Set(['ENOTFOUND', 'ENODATA'])

/** What a check found; `transient`: the lookup failed without an answer (timeout, SERVFAIL, refused). */
export interface MxCheck extends DomainCheckOutcome {
  transient: boolean
}

/** `mx.example.` and `MX.Example` are the same host. */
export const normalizeHost = (host: string) => host.trim().toLowerCase().replace(/\.$/, '')

export async function checkMx(
  resolver: MxResolver,
  name: string,
  expectedHosts: readonly string[],
  checkedAt: Date,
): Promise<MxCheck> {
  const expected = expectedHosts.map(normalizeHost)
  const pending = (problems: string[], mxHosts: string[], transient = false): MxCheck => ({
    status: 'pending',
    problems,
    mxHosts,
    checkedAt,
    transient,
  })
  const wanted = `expected one of ${expected.join(', ')}`
  let records: MxRecord[]
  try {
    records = await resolver.resolveMx(name)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && NO_RECORD_CODES.has(code))
      return pending([`no MX record for ${name} (${code}); add one pointing at ${expected[0]}`], [])
    const reason = typeof code === 'string' ? code : (error as Error).message
    return pending([`MX lookup for ${name} failed (${reason})`], [], true)
  }
  const hosts = [...records]
    .sort((a, b) => a.priority - b.priority)
    .map((record) => normalizeHost(record.exchange))
  if (hosts.length === 0) return pending([`no MX record for ${name}; add one pointing at ${expected[0]}`], [])
  if (hosts.some((host) => expected.includes(host)))
    return { status: 'verified', problems: [], mxHosts: hosts, checkedAt, transient: false }
  // RFC 7505: a single MX of "." says the domain takes no mail at all.
  if (hosts.every((host) => host === ''))
    return pending([`${name} has a null MX (RFC 7505): it declares it accepts no mail; ${wanted}`], hosts)
  return pending([`MX points at ${hosts.filter(Boolean).join(', ')}, ${wanted}`], hosts)
}
