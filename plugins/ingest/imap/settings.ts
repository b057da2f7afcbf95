// IMAP source settings: the account URLs (imap[s]://USER:PASS@HOST:PORT/MAILBOX#NAME) and what to do with a stored message.

/** One mailbox polled on one server; `name` makes the source `imap:NAME`. */
export interface ImapAccount {
  readonly name: string
  /** true: TLS from the first byte (imaps://); false: STARTTLS when the server offers it. */
  readonly secure: boolean
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly mailbox: string
}

/** What happens on the server to a message once the funnel has stored it. */
export type ImapAfter =
  | { readonly action: 'delete' }
  | { readonly action: 'seen' }
  | { readonly action: 'move'; readonly folder: string }

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

function decode(part: string, what: string, entry: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new Error(`${what} of "${redact(entry)}" is not valid percent-encoding`)
  }
}

/** The URL with its password replaced, for error messages (up to the last @, which may follow an unencoded one). */
function redact(entry: string): string {
  const start = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:/i.exec(entry)
  const end = entry.lastIndexOf('@')
  if (!start || end < start[0].length) return entry
  return `${start[0]}***${entry.slice(end)}`
}

/**
 * Parses a comma-separated list of account URLs. Each name (the `#fragment`, else the mailbox name
 * made safe) must be unique, since it is what tells the accounts' messages apart (`imap:NAME`).
 * Throws an Error saying what is wrong with which URL (its password masked).
 */
export function parseImapUrls(value: string): ImapAccount[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  const names = new Set<string>()
  return entries.map((entry) => {
    let url: URL
    try {
      url = new URL(entry)
    } catch {
      throw new Error(`"${redact(entry)}" is not a URL such as imap://user:pass@mail.example.com/INBOX`)
    }
    const secure = url.protocol === 'imaps:'
    if (!secure && url.protocol !== 'imap:')
      throw new Error(`"${redact(entry)}" must start with imap:// or imaps://`)
    if (!url.hostname) throw new Error(`"${redact(entry)}" names no host`)
    if (!url.username || !url.password)
      throw new Error(
        `"${redact(entry)}" needs a user and a password (imap://USER:PASS@HOST/MAILBOX, both percent-encoded)`,
      )
    const mailbox = decode(url.pathname.replace(/^\//, ''), 'the mailbox', entry) || 'INBOX'
    const fragment = decode(url.hash.replace(/^#/, ''), 'the name', entry)
    const name = (
      fragment ||
      mailbox
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '')
    ).toLowerCase()
    if (!NAME_PATTERN.test(name))
      throw new Error(
        `"${redact(entry)}": the name "${name}" may hold only letters, digits, . _ - (at most 64); set one with #name`,
      )
    if (names.has(name))
      throw new Error(`two URLs have the name "${name}"; tell them apart with #name at the end of each`)
    names.add(name)
    return {
      name,
      secure,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : secure ? 993 : 143,
      user: decode(url.username, 'the user', entry),
      password: decode(url.password, 'the password', entry),
      mailbox,
    }
  })
}

/** `delete` (the default), `seen` or `move:FOLDER`. */
export function parseImapAfter(value: string): ImapAfter {
  const raw = value.trim()
  if (raw === '' || raw.toLowerCase() === 'delete') return { action: 'delete' }
  if (raw.toLowerCase() === 'seen') return { action: 'seen' }
  const move = /^move:(.+)$/i.exec(raw)
  if (move?.[1]?.trim()) return { action: 'move', folder: move[1].trim() }
  throw new Error(`"${raw}" is not delete, seen or move:FOLDER`)
}
