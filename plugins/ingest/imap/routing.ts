// IMAP routing: the recipients a message fetched from a catch-all was delivered for, in tiers of trust.

/** Headers the final server adds with the envelope recipient; each is a tier of its own, in this order. */
export const ENVELOPE_HEADERS = ['delivered-to', 'x-original-to', 'envelope-to'] as const

/**
 * The header fields fetched with each message's summary (the body is fetched only for routable ones).
 * Return-Path is the envelope sender the final server recorded; Message-ID and Date identify a
 * message across copies when it is routed by To/Cc.
 */
export const ROUTING_HEADERS = [...ENVELOPE_HEADERS, 'return-path', 'message-id', 'date'] as const

export interface RoutingTier {
  /** Where the addresses came from: `delivered-to`, `x-original-to`, `envelope-to` or `to/cc`. */
  readonly from: string
  readonly addresses: readonly string[]
}

/** Unfolded header fields by lower-cased name, each value in the order the message has them (top first). */
export function parseHeaderFields(block: string): Map<string, string[]> {
  const fields = new Map<string, string[]>()
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ')
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    fields.set(name, [...(fields.get(name) ?? []), value])
  }
  return fields
}

/** Addresses in a header value: `a@b`, `<a@b>`, `Name <a@b>`, comma-separated lists (Envelope-To). */
export function addressesIn(value: string): string[] {
  return value
    .split(',')
    .map((part) => {
      const angle = /<([^<>]*)>/.exec(part)
      return (angle ? (angle[1] as string) : part).trim()
    })
    .filter((address) => /^[^\s@]+@[^\s@]+$/.test(address))
}

/**
 * The recipient tiers of one message, most trustworthy first: the top-most Delivered-To, X-Original-To
 * and Envelope-To (each added by the server that delivered into the catch-all; lower instances may come
 * from earlier hops or from the sender), then To and Cc together. The caller uses the first tier with a
 * live mailbox: with an envelope header, that copy was delivered for that recipient alone, however
 * many addresses To lists (the catch-all holds one copy per recipient); without one, one copy stands
 * for every address in To and Cc. At most `limit` addresses per tier.
 */
export function routingTiers(
  fields: Map<string, string[]>,
  toAndCc: readonly (string | undefined)[],
  limit: number,
): RoutingTier[] {
  const tiers: RoutingTier[] = []
  const unique = (addresses: readonly (string | undefined)[]) => [
    ...new Map(
      addresses
        .filter((address): address is string => !!address?.includes('@'))
        .map((address) => [address.toLowerCase(), address] as const),
    ).values(),
  ]
  for (const header of ENVELOPE_HEADERS) {
    const top = fields.get(header)?.[0]
    const addresses = top ? unique(addressesIn(top)).slice(0, limit) : []
    if (addresses.length > 0) tiers.push({ from: header, addresses })
  }
  const visible = unique(toAndCc).slice(0, limit)
  if (visible.length > 0) tiers.push({ from: 'to/cc', addresses: visible })
  return tiers
}

/** The envelope sender from Return-Path (`<>` for bounces is null). */
export function returnPathOf(fields: Map<string, string[]>): string | null {
  const value = fields.get('return-path')?.[0]
  if (!value) return null
  return addressesIn(value)[0] ?? null
}
