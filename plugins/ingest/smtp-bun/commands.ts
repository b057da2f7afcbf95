// SMTP command-line parsing for the Bun front end: HELO names, MAIL/RCPT paths and their ESMTP parameters, judged as smtp-server judges them.

import { isIPv4, isIPv6 } from 'node:net'
import { domainToUnicode } from 'node:url'

/** Control characters have no place in a parameter or a HELO name: they would end up in replies, logs and headers. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
const CONTROL_CHARS = /[\x00-\x1F\x7F-\x9F]/
/** Control characters and invisible formatting characters: never in an address (injection, spoofing). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
const ADDRESS_UNSAFE_CHARS = /[\x00-\x1F\x7F-\x9F\u200B\u2060\uFEFF]/
/** RFC 5321 §4.5.3.1.2 bounds a domain to 255 octets; a little slack for address literals. */
const MAX_HELO_HOSTNAME_LENGTH = 300
const DOMAIN_CHARS = /^[a-zA-Z0-9\u0080-\uFFFF.-]+$/
const SOURCE_ROUTE = /^@[^\s,:@]+(?:,@[^\s,:@]+)*:/

export function isAcceptableHeloHostname(hostname: string): boolean {
  return hostname.length <= MAX_HELO_HOSTNAME_LENGTH && !CONTROL_CHARS.test(hostname)
}

export interface AddressCommand {
  /** The path without brackets; the domain in Unicode (punycode labels decoded); '' for the null sender. */
  address: string
  /** ESMTP parameters by upper-case name; `true` for a bare keyword. */
  args: Record<string, string | true> | null
  /** A parameter given twice (refused by the command). */
  duplicate: string | null
}

const decodeXtext = (value: string) =>
  value.replace(/\+([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))

/** Decodes the `xn--` labels of a domain; null when one is not valid punycode. */
function domainInUnicode(domain: string): string | null {
  if (!domain.includes('xn--')) return domain
  const labels = domain.split('.')
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as string
    if (!label.startsWith('xn--')) continue
    const decoded = domainToUnicode(label)
    if (!decoded) return null
    labels[i] = decoded
  }
  return labels.join('.')
}

/** Checks the address of a path (RFC 5321 §4.1.2, permissively); returns it with a Unicode domain, or null. */
function normalizeAddress(address: string, isRcpt: boolean): string | null {
  if (ADDRESS_UNSAFE_CHARS.test(address)) return null
  // RFC 5321 §4.1.1.3: the domainless postmaster must be accepted.
  if (address === '' || (isRcpt && address.toLowerCase() === 'postmaster')) return address
  const parts = address.split('@')
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null
  const localPart = parts[0]
  let domain = parts[1]
  // RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its brackets.
  if (localPart.length + 1 + domain.length > 253) return null
  if (localPart.startsWith('.') || localPart.endsWith('.') || localPart.includes('..')) return null
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const literal = domain.slice(1, -1)
    if (literal.toUpperCase().startsWith('IPV6:')) {
      if (!isIPv6(literal.slice(5))) return null
      domain = `[IPv6:${literal.slice(5).toLowerCase()}]`
    } else if (!isIPv4(literal)) return null
    return `${localPart}@${domain}`
  }
  if (
    domain.startsWith('.') ||
    domain.endsWith('.') ||
    domain.includes('..') ||
    domain.includes('.-') ||
    domain.includes('-.') ||
    !DOMAIN_CHARS.test(domain)
  )
    return null
  const unicode = domainInUnicode(domain)
  return unicode === null ? null : `${localPart}@${unicode}`
}

/**
 * Parses `MAIL FROM:<path> params` or `RCPT TO:<path> params` (`name` is 'MAIL FROM' or 'RCPT TO');
 * null when the verb, the brackets, a parameter or the address is malformed.
 */
export function parseAddressCommand(name: 'MAIL FROM' | 'RCPT TO', line: string): AddressCommand | null {
  const colon = line.indexOf(':')
  if (colon === -1 || line.slice(0, colon).trim().toUpperCase() !== name) return null
  const words = line
    .slice(colon + 1)
    .trim()
    .split(/\s+/)
  let address = words.shift() ?? ''
  let invalid = false
  if (!/^<[^<>]*>$/.test(address)) invalid = true
  // RFC 5321 §4.1.2 and appendix C: a source route must be accepted and ignored.
  else address = address.slice(1, -1).replace(SOURCE_ROUTE, '')
  let args: Record<string, string | true> | null = null
  let duplicate: string | null = null
  for (const word of words) {
    const equals = word.indexOf('=')
    const key = (equals === -1 ? word : word.slice(0, equals)).toUpperCase()
    if (!key.trim()) continue
    const raw = equals === -1 ? '' : word.slice(equals + 1)
    let value: string | true = true
    if (raw !== '') {
      value = decodeXtext(raw)
      if (CONTROL_CHARS.test(value)) {
        invalid = true
        continue
      }
    }
    args ??= {}
    if (key in args) duplicate = key
    args[key] = value
  }
  if (invalid) return null
  const normalized = normalizeAddress(address, name === 'RCPT TO')
  if (normalized === null) return null
  return { address: normalized, args, duplicate }
}

/** A 501 text when a parameter is repeated or one of `valued` lacks its value; else null. */
export function invalidParameter(parsed: AddressCommand, valued: readonly string[]): string | null {
  if (parsed.duplicate) return `Error: duplicate ${parsed.duplicate} parameter`
  const args = parsed.args
  const valueless = args && valued.find((key) => args[key] !== undefined && typeof args[key] !== 'string')
  return valueless ? `Error: ${valueless} parameter requires a value` : null
}

export const MAIL_VALUE_PARAMS = ['BODY', 'SIZE', 'RET', 'ENVID'] as const
export const RCPT_VALUE_PARAMS = ['NOTIFY', 'ORCPT'] as const

/** The reply refusing MAIL FROM's parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 8689), or null. */
export function refuseMailParameters(
  args: AddressCommand['args'],
  maxMessageBytes: number,
  secure: boolean,
): [number, string] | null {
  if (!args) return null
  const size = args.SIZE
  if (typeof size === 'string') {
    if (!/^\d{1,20}$/.test(size)) return [501, 'Error: Bad message size syntax']
    if (Number(size) > maxMessageBytes)
      return [552, `Error: message exceeds fixed maximum message size ${maxMessageBytes}`]
  }
  const body = args.BODY
  if (typeof body === 'string' && !['7bit', '8bitmime'].includes(body.toLowerCase()))
    return [501, 'Invalid BODY parameter value. Must be 7BIT or 8BITMIME']
  if (args.SMTPUTF8 !== undefined && args.SMTPUTF8 !== true)
    return [501, 'Invalid SMTPUTF8 parameter. This flag does not accept a value']
  if (args.REQUIRETLS !== undefined) {
    if (!secure) return [530, 'REQUIRETLS not permitted on non-TLS connections']
    if (args.REQUIRETLS !== true)
      return [501, 'Invalid REQUIRETLS parameter. This flag does not accept a value']
  }
  return null
}

/** A web page trying to speak SMTP through a browser: refused outright. */
export const HTTP_REQUEST_LINE = /^(OPTIONS|GET|HEAD|POST|PUT|DELETE|TRACE|CONNECT) \/.* HTTP\/\d\.\d$/i
