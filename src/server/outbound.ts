// Outbound HTTP to user-supplied URLs (webhooks), with SSRF protection: blocked address ranges, pinned DNS, checked redirects.

import type { LookupAddress } from 'node:dns'
import { lookup as systemLookup } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import ipaddr from 'ipaddr.js'

export interface OutboundPolicy {
  /** CIDR ranges the operator explicitly allows even though they are otherwise blocked, e.g. ['127.0.0.0/8']. */
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

/** Resolves a hostname to every address it has (node:dns `lookup` with `all: true`). */
export type LookupFn = (hostname: string) => Promise<LookupAddress[]>

export class OutboundBlockedError extends Error {
  override name = 'OutboundBlockedError'
  constructor(
    message: string,
    readonly reason: AddressClass | 'scheme' | 'credentials',
  ) {
    super(message)
  }
}

/** Cloud metadata endpoints: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'])

/** ipaddr.js range names, by what they mean for us. */
const RANGE_CLASS: Record<string, AddressClass> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'private',
  linkLocal: 'link-local',
  multicast: 'multicast',
  broadcast: 'reserved',
  reserved: 'reserved',
  benchmarking: 'reserved',
  amt: 'reserved',
  as112: 'reserved',
  as112v6: 'reserved',
  deprecated: 'reserved',
  orchid2: 'reserved',
  discard: 'reserved',
  rfc6145: 'reserved',
  rfc6052: 'reserved',
  '6to4': 'reserved',
  teredo: 'reserved',
  ipv4Mapped: 'reserved',
}

function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const address = ipaddr.parse(ip.replace(/^\[|\]$/g, ''))
  // ::ffff:127.0.0.1 reaches 127.0.0.1: judge it as the IPv4 address it maps.
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress())
    return (address as ipaddr.IPv6).toIPv4Address()
  return address
}

export function classifyAddress(ip: string): AddressClass {
  const address = parse(ip)
  if (METADATA.has(address.toNormalizedString()) || METADATA.has(address.toString())) return 'metadata'
  const range = address.range()
  if (range === 'unicast') return 'public'
  return RANGE_CLASS[range] ?? 'reserved'
}

/** Parses EPHEMAIL_WEBHOOK_ALLOW_CIDRS: comma-separated CIDR ranges (a bare address means just it). */
export function parseAllowedCidrs(value: string): string[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  for (const entry of entries) {
    try {
      if (entry.includes('/')) ipaddr.parseCIDR(entry)
      else ipaddr.parse(entry)
    } catch {
      throw new Error(`has "${entry}", which is not an IP address or CIDR range (e.g. 127.0.0.0/8)`)
    }
  }
  return entries
}

function isAllowed(ip: string, policy: OutboundPolicy): boolean {
  const address = parse(ip)
  return policy.allowedCidrs.some((entry) => {
    const [range, bits] = entry.includes('/')
      ? ipaddr.parseCIDR(entry)
      : ([ipaddr.parse(entry), ipaddr.parse(entry).kind() === 'ipv4' ? 32 : 128] as const)
    const normalized =
      range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress()
        ? (range as ipaddr.IPv6).toIPv4Address()
        : range
    return normalized.kind() === address.kind() && address.match(normalized, bits)
  })
}

/** Throws OutboundBlockedError unless the address is public or allowed by the policy. */
function vet(ip: string, url: string, policy: OutboundPolicy): void {
  const kind = classifyAddress(ip)
  if (kind === 'public' || isAllowed(ip, policy)) return
  throw new OutboundBlockedError(
    `${url} resolves to ${ip}, a ${kind} address; allow it with EPHEMAIL_WEBHOOK_ALLOW_CIDRS`,
    kind,
  )
}

const defaultLookup: LookupFn = (hostname) =>
  new Promise((resolve, reject) =>
    systemLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  )

function parseUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`"${url}" is not an absolute URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new OutboundBlockedError(`${url}: only http and https URLs are allowed`, 'scheme')
  if (parsed.username || parsed.password)
    throw new OutboundBlockedError(`${url}: credentials in the URL are not allowed`, 'credentials')
  return parsed
}

/** Every address the URL's host stands for, each vetted; a literal IP is vetted without DNS. */
async function resolveVetted(url: URL, policy: OutboundPolicy, lookup: LookupFn): Promise<LookupAddress[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (ipaddr.isValid(host)) {
    vet(host, url.href, policy)
    return [{ address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6 }]
  }
  const addresses = await lookup(host)
  if (addresses.length === 0) throw new Error(`${host} has no addresses`)
  // All of them: a name that also points inside would let a later lookup choose that one.
  for (const { address } of addresses) vet(address, url.href, policy)
  return addresses
}

/** Used when a webhook is registered: scheme, no credentials, and every address allowed. */
export async function checkOutboundUrl(
  url: string,
  policy: OutboundPolicy,
  lookup = defaultLookup,
): Promise<void> {
  await resolveVetted(parseUrl(url), policy, lookup)
}

export interface PostResult {
  status: number
  latencyMs: number
  finalUrl: string
}

/** Most of a receiver's answer we read; the rest is dropped with the socket. */
const MAX_RESPONSE_BYTES = 64 * 1024
const REDIRECTS_FOLLOWED = new Set([307, 308]) // they keep the method and the body

/**
 * POSTs `body` to `url`. The connection goes to the address that was vetted (the lookup is pinned),
 * so DNS cannot change its answer between the check and the connect. Only 307/308 redirects are
 * followed, each hop vetted again; other redirects come back as their status.
 */
export async function postOutbound(
  url: string,
  options: {
    body: string
    headers: Record<string, string>
    timeoutMs: number
    policy: OutboundPolicy
    maxRedirects?: number
    lookup?: LookupFn
  },
): Promise<PostResult> {
  const { body, headers, timeoutMs, policy, maxRedirects = 3, lookup = defaultLookup } = options
  const started = performance.now()
  const deadline = started + timeoutMs
  let current = url
  for (let hop = 0; ; hop++) {
    const target = parseUrl(current)
    const addresses = await withDeadline(resolveVetted(target, policy, lookup), deadline, timeoutMs)
    const response = await send(target, addresses[0] as LookupAddress, body, headers, deadline, timeoutMs)
    const status = response.statusCode ?? 0
    const location = response.headers.location
    response.destroy()
    if (!REDIRECTS_FOLLOWED.has(status) || !location)
      return { status, latencyMs: Math.round(performance.now() - started), finalUrl: target.href }
    if (hop >= maxRedirects) throw new Error(`too many redirects (more than ${maxRedirects})`)
    current = new URL(location, target).href
  }
}

function timedOut(timeoutMs: number): Error {
  return new Error(`timed out after ${timeoutMs} ms`)
}

function withDeadline<T>(work: Promise<T>, deadline: number, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(timeoutMs)), Math.max(0, deadline - performance.now()))
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

function send(
  url: URL,
  pinned: LookupAddress,
  body: string,
  headers: Record<string, string>,
  deadline: number,
  timeoutMs: number,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        method: 'POST',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        // The vetted address, whatever the resolver would say now (no DNS rebinding).
        lookup: (_hostname, options, callback) => {
          if ((options as { all?: boolean }).all) callback(null, [pinned])
          else
            (callback as (error: null, address: string, family: number) => void)(
              null,
              pinned.address,
              pinned.family,
            )
        },
        servername: ipaddr.isValid(url.hostname.replace(/^\[|\]$/g, '')) ? undefined : url.hostname,
        agent: false,
      },
      (response) => {
        clearTimeout(timer)
        // Read a little (some servers wait for it), never without bound.
        let read = 0
        response.on('data', (chunk: Buffer) => {
          read += chunk.length
          if (read > MAX_RESPONSE_BYTES) response.destroy()
        })
        response.on('error', () => {})
        resolve(response)
      },
    )
    const timer = setTimeout(
      () => {
        request.destroy(timedOut(timeoutMs))
      },
      Math.max(0, deadline - performance.now()),
    )
    request.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    request.end(body)
  })
}
