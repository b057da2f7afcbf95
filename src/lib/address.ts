// Address rules: which local parts and domains a mailbox may have, how recipients are
// normalised, and how readable random local parts are made.

/** RFC 5321 caps a local part at 64 octets; we keep that so every address stays deliverable. */
export const MAX_LOCAL_PART_LENGTH = 64
/** RFC 1035 caps a domain name at 253 characters. */
export const MAX_DOMAIN_LENGTH = 253

/**
 * Role addresses that certificate authorities and providers mail to prove control of a
 * domain (CA/B Forum BR 3.2.2.4.4 lists admin, administrator, webmaster, hostmaster,
 * postmaster). Handing them to strangers would let anyone verify our domains as theirs.
 */
export const RESERVED_LOCAL_PARTS: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'webmaster',
  'hostmaster',
  'postmaster',
  'abuse',
  'root',
  'security',
  'mailer-daemon',
  'noreply',
  'no-reply',
])

const LOCAL_PART_PATTERN = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/
const DOMAIN_PATTERN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/

export type DomainType = 'public' | 'custom' | 'premium'
export const DOMAIN_TYPES: readonly DomainType[] = ['public', 'custom', 'premium']

export interface ReceivingDomain {
  name: string
  type: DomainType
}

/** Why a requested local part cannot be used, or null when it can. */
export function localPartProblem(localPart: string): string | null {
  if (localPart.length === 0) return 'must not be empty'
  if (localPart.length > MAX_LOCAL_PART_LENGTH) return `must be at most ${MAX_LOCAL_PART_LENGTH} characters`
  if (!LOCAL_PART_PATTERN.test(localPart))
    return 'may contain only a-z, 0-9, ".", "_" and "-", and must start and end with a letter or digit'
  if (localPart.includes('..')) return 'must not contain two dots in a row'
  if (RESERVED_LOCAL_PARTS.has(localPart)) return 'is reserved for the domain operator'
  return null
}

export function isValidDomainName(domain: string): boolean {
  return DOMAIN_PATTERN.test(domain)
}

export interface AddressParts {
  localPart: string
  domain: string
}

/**
 * Splits and lower-cases an address. A `+tag` suffix on the local part is dropped
 * (sub-addressing), so `james47+signup@x.test` reaches `james47@x.test`.
 * Returns null for anything that is not a plain `local@domain`.
 */
export function normalizeRecipient(address: string): AddressParts | null {
  const trimmed = address.trim().toLowerCase()
  const at = trimmed.lastIndexOf('@')
  if (at <= 0 || at === trimmed.length - 1) return null
  const rawLocal = trimmed.slice(0, at)
  const domain = trimmed.slice(at + 1)
  const plus = rawLocal.indexOf('+')
  const localPart = plus > 0 ? rawLocal.slice(0, plus) : rawLocal
  if (localPart.length > MAX_LOCAL_PART_LENGTH || !LOCAL_PART_PATTERN.test(localPart)) return null
  if (!isValidDomainName(domain)) return null
  return { localPart, domain }
}

/** Parses `EPHEMAIL_DOMAINS`: `a.test,b.test:custom,c.test:premium` (type defaults to public). */
export function parseDomainList(value: string): ReceivingDomain[] {
  const seen = new Set<string>()
  const domains: ReceivingDomain[] = []
  for (const entry of value.split(',')) {
    const item = entry.trim().toLowerCase()
    if (!item) continue
    const [name = '', type = 'public', ...rest] = item.split(':')
    if (rest.length > 0 || !isValidDomainName(name))
      throw new Error(`"${entry.trim()}" is not a domain name (expected name or name:type)`)
    if (!DOMAIN_TYPES.includes(type as DomainType))
      throw new Error(`"${entry.trim()}" has type "${type}"; use one of ${DOMAIN_TYPES.join(', ')}`)
    if (seen.has(name)) throw new Error(`"${name}" is listed twice`)
    seen.add(name)
    domains.push({ name, type: type as DomainType })
  }
  if (domains.length === 0) throw new Error('lists no domain')
  return domains
}

// Short, common, unambiguous words: a random address should be easy to read out and type.
const NAME_WORDS = [
  'alex',
  'amber',
  'andy',
  'anna',
  'bella',
  'ben',
  'blake',
  'bruno',
  'carla',
  'casey',
  'chloe',
  'clara',
  'cody',
  'dana',
  'daisy',
  'dylan',
  'eden',
  'elena',
  'eli',
  'ella',
  'emma',
  'erin',
  'ethan',
  'eva',
  'felix',
  'finn',
  'fiona',
  'frank',
  'gavin',
  'grace',
  'hana',
  'harry',
  'hazel',
  'henry',
  'holly',
  'hugo',
  'ian',
  'ida',
  'iris',
  'ivan',
  'jack',
  'jade',
  'james',
  'jana',
  'jay',
  'jonas',
  'julia',
  'kai',
  'kara',
  'kevin',
  'kira',
  'lars',
  'laura',
  'leah',
  'leo',
  'lily',
  'lina',
  'luca',
  'lucy',
  'luke',
  'maja',
  'marco',
  'maria',
  'max',
  'maya',
  'mia',
  'mila',
  'milo',
  'nadia',
  'nate',
  'nina',
  'noah',
  'nora',
  'olga',
  'oliver',
  'omar',
  'oscar',
  'owen',
  'paula',
  'pedro',
  'quinn',
  'rafa',
  'rosa',
  'ruby',
  'ryan',
  'sam',
  'sara',
  'sofia',
  'tara',
  'theo',
  'tom',
  'uma',
  'vera',
  'victor',
  'wade',
  'wendy',
  'xena',
  'yara',
  'yusuf',
  'zoe',
] as const

function randomBelow(limit: number): number {
  // Rejection sampling keeps the choice uniform; 2^32 is not a multiple of most limits.
  const ceiling = Math.floor(0x1_0000_0000 / limit) * limit
  const buffer = new Uint32Array(1)
  for (;;) {
    crypto.getRandomValues(buffer)
    const value = buffer[0] as number
    if (value < ceiling) return value % limit
  }
}

/**
 * A readable random local part such as `james47`. `attempt` widens the number part on
 * each retry after a collision (2 digits, then 3, then 4 ...) so retries converge.
 */
export function randomLocalPart(attempt = 0): string {
  const word = NAME_WORDS[randomBelow(NAME_WORDS.length)] as string
  const digits = Math.min(2 + attempt, 9)
  const number = randomBelow(10 ** digits)
  return word + String(number).padStart(digits, '0')
}

export function pickRandom<T>(items: readonly T[]): T {
  if (items.length === 0) throw new Error('pickRandom needs at least one item')
  return items[randomBelow(items.length)] as T
}
