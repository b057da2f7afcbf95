// Where webhooks may go (the SSRF guard): blocked address ranges, the operator's allow-list, URL rules, vetted DNS.

import type { LookupAddress } from 'node:dns'
import { lookup as resolveHostname } from 'node:dns/promises'
import ipaddr from 'ipaddr.js'
import {
  type Address,
  inRange,
  parseAddress,
  parseCidrList,
  parseRange,
  type Range,
} from '#server/ip-ranges.ts'

export interface OutboundPolicy {
  /** CIDR ranges the operator explicitly allows although they are otherwise blocked, e.g. ['127.0.0.0/8']. */
  allowedCidrs: readonly string[]
}

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved'

/** Resolves a hostname to every address it has, as node:dns `lookup` with `all: true` does. */
export type LookupFn = (hostname: string) => Promise<LookupAddress[]>

/** Why a URL was refused: the class of the address it reaches, or what is wrong with the URL itself. */
export type BlockReason = Exclude<AddressClass, 'public'> | 'scheme' | 'credentials'

/** The URL, or an address it leads to, is one the server must not call; retrying cannot change that. */
export class OutboundBlockedError extends Error {
  override name = 'OutboundBlockedError'
  constructor(
    message: string,
    readonly reason: BlockReason,
  ) {
    super(message)
  }
}

const ALLOW_VARIABLE = 'EPHEMAIL_WEBHOOK_ALLOW_CIDRS'

/** Cloud metadata endpoints: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba, Azure's WireServer. */
const METADATA_ADDRESSES = new Set(
  ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '168.63.129.16'].map((ip) =>
    ipaddr.parse(ip).toNormalizedString(),
  ),
)

/** NAT64 (RFC 6052): 64:ff9b::a.b.c.d reaches a.b.c.d through the translator. */
const NAT64_WELL_KNOWN: Range = { network: ipaddr.parse('64:ff9b::'), bits: 96 }

/** Deprecated IPv4-compatible IPv6 (::a.b.c.d): ipaddr.js says unicast, but nothing public lives there. */
const IPV4_COMPATIBLE: Range = { network: ipaddr.parse('::'), bits: 96 }

/** ipaddr.js range names by what they mean here; a name not listed (a future range) counts as reserved. */
const RANGE_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'private',
  deprecatedSiteLocal: 'private',
  linkLocal: 'link-local',
  multicast: 'multicast',
  broadcast: 'reserved',
  reserved: 'reserved',
}

const DESCRIPTIONS: Record<Exclude<AddressClass, 'public'>, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
}

/** The address a packet really goes to: ::ffff:a.b.c.d and 64:ff9b::a.b.c.d are a.b.c.d. */
function effectiveAddress(address: Address): Address {
  if (!(address instanceof ipaddr.IPv6)) return address
  if (address.isIPv4MappedAddress()) return address.toIPv4Address()
  if (inRange(address, NAT64_WELL_KNOWN)) return ipaddr.fromByteArray(address.toByteArray().slice(12))
  return address
}

function classify(address: Address): AddressClass {
  const target = effectiveAddress(address)
  if (METADATA_ADDRESSES.has(target.toNormalizedString())) return 'metadata'
  const range = target.range()
  if (range === 'unicast' && inRange(target, IPV4_COMPATIBLE)) return 'reserved'
  return RANGE_CLASSES[range] ?? 'reserved'
}

/** What an IP address is, for the SSRF guard. Throws TypeError when `ip` is not an IP address. */
export function classifyAddress(ip: string): AddressClass {
  const address = parseAddress(ip)
  if (address === null) throw new TypeError(`"${ip}" is not an IP address`)
  return classify(address)
}

/** Parses EPHEMAIL_WEBHOOK_ALLOW_CIDRS (see parseCidrList). */
export const parseAllowedCidrs = parseCidrList

export { parseAddress }

function isAllowed(address: Address, policy: OutboundPolicy): boolean {
  // Both forms: the operator may have written the range as what the name returns or as where it leads.
  const candidates = [address, effectiveAddress(address)]
  return policy.allowedCidrs.some((entry) => {
    const range = parseRange(entry)
    return candidates.some((candidate) => inRange(candidate, range))
  })
}

/** Throws OutboundBlockedError unless the address is public or inside a range the policy allows. */
function vet(address: Address, shown: string, label: string, policy: OutboundPolicy): void {
  const kind = classify(address)
  if (kind === 'public' || isAllowed(address, policy)) return
  throw new OutboundBlockedError(
    `${label} resolves to ${shown}, ${DESCRIPTIONS[kind]}; allow it with ${ALLOW_VARIABLE}`,
    kind,
  )
}

function withoutCredentials(url: URL): string {
  const shown = new URL(url.href)
  shown.username = ''
  shown.password = ''
  return shown.href
}

/**
 * An absolute http(s) URL without credentials, else OutboundBlockedError (or TypeError when it is not a URL).
 * `base` is the URL that redirected here: relative locations resolve against it; https may not become http.
 */
export function parseTarget(url: string, base?: URL): URL {
  let target: URL
  try {
    target = new URL(url, base)
  } catch {
    throw new TypeError(
      base === undefined
        ? `"${url}" is not an absolute URL`
        : `${base.href} redirected to "${url}", not a URL`,
    )
  }
  const shown = `${base === undefined ? '' : `${base.href} redirected to `}${withoutCredentials(target)}`
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new OutboundBlockedError(`${shown}: only http and https URLs are allowed`, 'scheme')
  if (target.username !== '' || target.password !== '')
    throw new OutboundBlockedError(`${shown}: credentials in the URL are not allowed`, 'credentials')
  // Webhook bodies carry mail: a receiver on https cannot send them on in clear text.
  if (base?.protocol === 'https:' && target.protocol === 'http:')
    throw new OutboundBlockedError(`${shown}: an https receiver may not redirect to plain http`, 'scheme')
  return target
}

export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

export const systemLookup: LookupFn = (hostname) => resolveHostname(hostname, { all: true })

/**
 * Every address the URL's host stands for, each one vetted: a literal IP without DNS, a name by one lookup.
 * All of a name's addresses must pass, or a later pick among them could land on the blocked one.
 */
export async function resolveVetted(
  target: URL,
  label: string,
  policy: OutboundPolicy,
  lookup: LookupFn,
): Promise<LookupAddress[]> {
  const host = bareHost(target)
  const literal = parseAddress(host)
  if (literal !== null) {
    vet(literal, host, label, policy)
    return [{ address: host, family: literal.kind() === 'ipv4' ? 4 : 6 }]
  }
  const answers = await lookup(host)
  if (answers.length === 0) throw new Error(`${host} has no addresses`)
  return answers.map(({ address }) => {
    const parsed = parseAddress(address)
    if (parsed === null) throw new Error(`${host} resolved to "${address}", which is not an IP address`)
    vet(parsed, address, label, policy)
    return { address, family: parsed.kind() === 'ipv4' ? 4 : 6 }
  })
}

/**
 * Used when a webhook is registered: http or https, no credentials, and every address the host has
 * (a literal IP, or each DNS answer) public or allowed. Throws OutboundBlockedError, TypeError if malformed.
 */
export async function checkOutboundUrl(
  url: string,
  policy: OutboundPolicy,
  lookup: LookupFn = systemLookup,
): Promise<void> {
  const target = parseTarget(url)
  await resolveVetted(target, target.href, policy, lookup)
}
