// IP address ranges as operators write them in settings: strict parsing, CIDR lists, and matching.

import ipaddr from 'ipaddr.js'

export type Address = ipaddr.IPv4 | ipaddr.IPv6

export interface Range {
  network: Address
  bits: number
}

/** Strict parse: dotted-quad IPv4 or IPv6, optionally in brackets; not `127.1` or `0x7f.0.0.1`. */
export function parseAddress(text: string): Address | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare)
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare)
  return null
}

export function inRange(address: Address, range: Range): boolean {
  return address.kind() === range.network.kind() && address.match(range.network, range.bits)
}

/** One allow-list entry: a CIDR range, or a bare address meaning just it. Throws Error naming the entry. */
export function parseRange(entry: string): Range {
  const [addressPart = '', bitsPart, ...extra] = entry.split('/')
  const network = parseAddress(addressPart)
  if (network === null || extra.length > 0 || addressPart.startsWith('['))
    throw new Error(`has "${entry}", which is not an IP address or CIDR range (e.g. 127.0.0.0/8 or fd00::/8)`)
  const maxBits = network.kind() === 'ipv4' ? 32 : 128
  if (bitsPart !== undefined && !/^\d{1,3}$/.test(bitsPart))
    throw new Error(`has "${entry}", whose prefix length "${bitsPart}" is not a number from 0 to ${maxBits}`)
  const bits = bitsPart === undefined ? maxBits : Number(bitsPart)
  if (bits > maxBits)
    throw new Error(
      `has "${entry}", whose prefix length ${bits} is more than ${maxBits} (an ${network.kind()} range)`,
    )
  // ::ffff:127.0.0.0/104 is written for IPv6 but means 127.0.0.0/8, which is how mapped addresses are judged.
  if (network instanceof ipaddr.IPv6 && network.isIPv4MappedAddress() && bits >= 96)
    return { network: network.toIPv4Address(), bits: bits - 96 }
  return { network, bits }
}

/**
 * Parses a list setting (EPHEMAIL_WEBHOOK_ALLOW_CIDRS, EPHEMAIL_TRUSTED_PROXIES): comma-separated CIDR ranges, a bare address meaning just it.
 * Empty entries are ignored. Throws an Error whose message ('has "x", which ...') follows the variable name.
 */
export function parseCidrList(value: string): string[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  for (const entry of entries) parseRange(entry)
  return entries
}
