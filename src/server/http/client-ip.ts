// The client address of an HTTP request: the direct peer, or, behind trusted proxies (EPHEMAIL_TRUSTED_PROXIES), what they forwarded.

import ipaddr from 'ipaddr.js'
import { type Address, inRange, parseAddress, parseCidrList, parseRange } from '#server/ip-ranges.ts'

/** Parses an address as a peer or X-Forwarded-For shows it; ::ffff:a.b.c.d is a.b.c.d. Null if not one. */
export function parseIp(text: string): Address | null {
  const address = parseAddress(text.trim())
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) return address.toIPv4Address()
  return address
}

/** Parses EPHEMAIL_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges (see parseCidrList). */
export const parseTrustedProxies = parseCidrList

/**
 * Returns a function from (direct peer, X-Forwarded-For) to the client address. The peer is the client
 * unless it is a trusted proxy; then X-Forwarded-For is read right to left (each proxy appends the
 * address it saw), skipping trusted proxies, and the first untrusted address is the client. Everything
 * left of it was written by the client itself and proves nothing. Null only without a peer (a request
 * handled in-process, not over a socket).
 */
export function createClientIpResolver(trustedProxies: readonly string[]) {
  const ranges = trustedProxies.map(parseRange)
  const trusted = (address: Address) => ranges.some((range) => inRange(address, range))

  return function clientIp(peer: string | null | undefined, forwardedFor: string | null): string | null {
    const peerAddress = peer ? parseIp(peer) : null
    if (peerAddress === null) return peer ?? null
    if (ranges.length === 0 || !trusted(peerAddress) || !forwardedFor) return peerAddress.toString()
    let client = peerAddress
    const hops = forwardedFor.split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseIp(hops[i] as string)
      // A hop that is not an address (garbage, "unknown") ends the walk: the last proxy vouched for is the client.
      if (hop === null) break
      client = hop
      if (!trusted(hop)) break
    }
    return client.toString()
  }
}

/**
 * The rate-limit subject of a client address. An IPv6 client is metered by its /64: one host is
 * routinely given a whole /64, and counting each address would let it rotate through 2^64 of them.
 */
export function ipSubject(ip: string | null): string {
  if (ip === null) return 'ip:unknown'
  const address = parseIp(ip)
  if (address === null) return `ip:${ip}`
  if (address.kind() === 'ipv4') return `ip:${address.toString()}`
  const bytes = (address as ipaddr.IPv6).toByteArray().slice(0, 8)
  const prefix = ipaddr.fromByteArray([...bytes, 0, 0, 0, 0, 0, 0, 0, 0])
  return `ip:${prefix.toString()}/64`
}
