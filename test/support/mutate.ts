// Seeded mutations of the real .eml fixtures for the fuzz test: each one is rebuilt from (seed, index) alone.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export type SeedMessage = { name: string; raw: Uint8Array }

export interface Mutation {
  index: number
  /** What was done, e.g. `deep-nesting/same-boundary+byte-flips`. */
  kind: string
  seedName: string
  raw: Uint8Array<ArrayBuffer>
}

/** Every .eml under test/fixtures and test/fixtures/extraction, in name order (so a seed means the same). */
export function loadSeedMessages(): SeedMessage[] {
  const root = join(import.meta.dir, '..', 'fixtures')
  const seeds: SeedMessage[] = []
  for (const dir of [root, join(root, 'extraction')])
    for (const file of readdirSync(dir).sort())
      if (file.endsWith('.eml'))
        seeds.push({ name: file, raw: new Uint8Array(readFileSync(join(dir, file))) })
  return seeds
}

/** mulberry32: a 32-bit PRNG, small and the same everywhere, which is all a reproducible mutation needs. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Rng = {
  int(below: number): number
  pick<T>(list: readonly T[]): T
  chance(probability: number): boolean
}

function makeRng(seed: number): Rng {
  const next = mulberry32(seed)
  const int = (below: number) => Math.floor(next() * below)
  const pick = <T>(list: readonly T[]) => list[int(list.length)] as T
  return { int, pick, chance: (probability) => next() < probability }
}

// Mutations work on "binary strings" (one char per byte, latin1) so that invalid UTF-8 survives edits.
const toBinary = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
const fromBinary = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'))

type Split = { head: string; separator: string; body: string }

function split(text: string): Split {
  const match = /\r?\n\r?\n/.exec(text)
  if (!match) return { head: text, separator: '', body: '' }
  const end = match.index + match[0].length
  return { head: text.slice(0, match.index), separator: match[0], body: text.slice(end) }
}

const join3 = ({ head, separator, body }: Split) => head + (separator || '\r\n\r\n') + body

/** Logical header fields, each with its folded continuation lines. */
const headerFields = (head: string) => head.split(/\r?\n(?![ \t])/).filter((field) => field.length > 0)

const boundariesOf = (text: string) =>
  [...text.matchAll(/boundary\s*=\s*"?([^";\r\n]+)"?/gi)].map((match) => match[1] as string)

/** [start, end) of each part body declared with the given transfer encoding. */
function encodedBodies(text: string, encoding: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  for (const match of text.matchAll(new RegExp(`content-transfer-encoding:\\s*${encoding}`, 'gi'))) {
    const blank = /\r?\n\r?\n/g
    blank.lastIndex = match.index
    const found = blank.exec(text)
    if (!found) continue
    const start = found.index + found[0].length
    const next = text.indexOf('\n--', start)
    ranges.push([start, next === -1 ? text.length : next])
  }
  return ranges
}

/** The seed's Content-* fields and body as one part, and its other fields as the outer header. */
function asPart(text: string): { outer: string[]; part: string } {
  const { head, body } = split(text)
  const fields = headerFields(head)
  const isContent = (field: string) => /^content-/i.test(field)
  const content = fields.filter(isContent)
  const part = `${content.join('\r\n') || 'Content-Type: text/plain; charset=utf-8'}\r\n\r\n${body}`
  return { outer: fields.filter((field) => !isContent(field) && !/^mime-version/i.test(field)), part }
}

const replaceRange = (text: string, [start, end]: [number, number], inner: string) =>
  text.slice(0, start) + inner + text.slice(end)

function insertAt(rng: Rng, text: string, tokens: readonly string[], count: number): string {
  let out = text
  for (let n = 0; n < count; n++) {
    const at = rng.int(out.length + 1)
    out = out.slice(0, at) + rng.pick(tokens) + out.slice(at)
  }
  return out
}

const DANGEROUS_BYTES = [0x00, 0x0a, 0x0d, 0x09, 0x20, 0x3a, 0x3b, 0x3d, 0x2d, 0x22, 0x3f, 0x80, 0xff]
const SYNTAX_TOKENS = ['\r\n', '\n', '\r', '\r\n\r\n', ...': ; " = =? ?= =?utf-8?B? -- \0'.split(' ')]
/** Invalid UTF-8: NUL, encoded surrogates (ED A0 80), overlong NUL, past U+10FFFF, lone and cut sequences. */
const BAD_UTF8 = '\0 \xed\xa0\x80 \xed\xbf\xbf \xc0\x80 \xf4\x90\x80\x80 \x80 \xff\xfe \xe2\x82'.split(' ')
/** Encoded words whose decoding is a NUL or a lone surrogate (UTF-16LE D800). */
const BAD_WORDS = ['=?utf-8?B?7aCA?=', '=?utf-16le?B?ANg=?=', '=?utf-8?B?YQBi?=', '=?utf-8?Q?a=00b?=']

type Mutator = (rng: Rng, text: string, maxMessageBytes: number) => [variant: string, text: string]

function byteFlips(rng: Rng, text: string): [string, string] {
  const bytes = fromBinary(text)
  const count = 1 + rng.int(32)
  for (let n = 0; n < count && bytes.length > 0; n++) {
    const at = rng.int(bytes.length)
    bytes[at] = rng.chance(0.5) ? (bytes[at] as number) ^ (1 << rng.int(8)) : rng.pick(DANGEROUS_BYTES)
  }
  return [String(count), toBinary(bytes)]
}

function byteInserts(rng: Rng, text: string): [string, string] {
  const tokens = [...SYNTAX_TOKENS, ...BAD_UTF8, ...boundariesOf(text).map((b) => `\r\n--${b}\r\n`)]
  const count = 1 + rng.int(16)
  return [String(count), insertAt(rng, text, tokens, count)]
}

function byteDeletes(rng: Rng, text: string): [string, string] {
  let out = text
  const count = 1 + rng.int(8)
  for (let n = 0; n < count; n++) {
    const at = rng.int(out.length + 1)
    out = out.slice(0, at) + out.slice(at + 1 + rng.int(rng.chance(0.1) ? 1024 : 64))
  }
  return [String(count), out]
}

function truncate(rng: Rng, text: string): [string, string] {
  const where = rng.pick(['header', 'boundary', 'base64', 'anywhere'] as const)
  let candidates: number[] = []
  if (where === 'header') candidates = [rng.int(split(text).head.length + 1)]
  if (where === 'boundary')
    for (const boundary of boundariesOf(text))
      for (let at = text.indexOf(`--${boundary}`); at !== -1; at = text.indexOf(`--${boundary}`, at + 1))
        candidates.push(at + 1 + rng.int(boundary.length + 3))
  if (where === 'base64')
    candidates = encodedBodies(text, 'base64').map(([start, end]) => start + rng.int(end - start + 1))
  const cut = candidates.length > 0 ? rng.pick(candidates) : rng.int(text.length + 1)
  return [`${where}@${cut}`, text.slice(0, cut)]
}

const SYNTHETIC_FIELDS = [
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=s1; h=from; bh=AAAA; b=AAAA',
  'Received: from relay.example ([192.0.2.7]) by mx.ephemail.test; Tue, 1 Dec 2026 10:00:00 +0000',
  'Content-Type: multipart/mixed; boundary="dup"',
  'Subject: =?utf-8?B?w6nDqcOp?= repeated',
  'To: a@ephemail.test, "B, C" <b@ephemail.test>',
]

function duplicateHeader(rng: Rng, text: string): [string, string] {
  const parts = split(text)
  const fields = headerFields(parts.head)
  const field = rng.chance(0.5) && fields.length > 0 ? rng.pick(fields) : rng.pick(SYNTHETIC_FIELDS)
  const copies = rng.pick([1000, 1000, 1001])
  const head = `${`${field}\r\n`.repeat(copies)}${parts.head}`
  return [`${field.slice(0, field.indexOf(':'))}x${copies}`, join3({ ...parts, head })]
}

const HUGE_HEADER_TOKENS: Record<string, (i: number) => string> = {
  'X-Huge': (i) => `word${i}`,
  Subject: () => '=?utf-8?B?w6nDqcOp?=',
  To: (i) => `"User ${i}" <user${i}@ephemail.test>,`,
  References: (i) => `<id${i}@sender.example>`,
  'Content-Type': (i) => (i === 0 ? 'text/plain; charset=utf-8;' : `p${i}=v;`),
  From: (i) => `a${i}@sender.example,`,
}

function hugeHeader(rng: Rng, text: string, folded: boolean): [string, string] {
  const name = rng.pick(Object.keys(HUGE_HEADER_TOKENS))
  const token = HUGE_HEADER_TOKENS[name] as (i: number) => string
  const pieces: string[] = []
  for (let size = 0; size < 100 * 1024; size += (pieces.at(-1) as string).length + 1)
    pieces.push(token(pieces.length))
  // Folded: about four tokens to a line, as a mailer wraps at 78 columns.
  const value = folded
    ? pieces.map((piece, i) => (i > 0 && i % 4 === 0 ? `\r\n ${piece}` : ` ${piece}`)).join('')
    : ` ${pieces.join(' ')}`
  const parts = split(text)
  const same = (field: string) => field.toLowerCase().startsWith(`${name.toLowerCase()}:`)
  const others = headerFields(parts.head).filter((field) => !same(field))
  return [name, join3({ ...parts, head: [`${name}:${value}`, ...others].join('\r\n') })]
}

function deepNesting(rng: Rng, text: string): [string, string] {
  const variant = rng.pick(['distinct', 'same-boundary', 'rfc822', 'unclosed'] as const)
  const depth = rng.pick([50, 50, 50, 33, 200])
  const { outer, part } = asPart(text)
  let inner = part
  for (let level = depth - 1; level >= 0; level--) {
    if (variant === 'rfc822') {
      inner = `Content-Type: message/rfc822\r\n\r\nSubject: level ${level}\r\nMIME-Version: 1.0\r\n${inner}`
      continue
    }
    const mark = variant === 'same-boundary' ? 'n' : `n${level}`
    const close = variant === 'unclosed' ? '' : `\r\n--${mark}--\r\n`
    inner = `Content-Type: multipart/mixed; boundary="${mark}"\r\n\r\n--${mark}\r\n${inner}${close}`
  }
  return [`${variant}x${depth}`, `${[...outer, 'MIME-Version: 1.0'].join('\r\n')}\r\n${inner}`]
}

function manyParts(rng: Rng, text: string): [string, string] {
  const count = rng.pick([3000, 3000, 2999])
  const { outer, part } = asPart(text)
  const makers = [
    (i: number) => `Content-Type: text/plain\r\n\r\npart ${i}`,
    (i: number) => `Content-Type: text/html\r\n\r\n<p>part ${i}</p>`,
    (i: number) =>
      `Content-Type: application/octet-stream; name="a${i}"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC`,
    (i: number) => `\r\n${i}`,
  ]
  const style = rng.int(makers.length + 1) // the last style mixes them
  const body: string[] = [`--p\r\n${part}`]
  for (let i = 1; i < count; i++)
    body.push(`--p\r\n${(makers[style] ?? (makers[i % makers.length] as (i: number) => string))(i)}`)
  const head = [...outer, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="p"'].join('\r\n')
  return [`style${style}x${count}`, `${head}\r\n\r\n${body.join('\r\n')}\r\n--p--\r\n`]
}

/** The seed as one part in the given transfer encoding, for seeds that have no such part. */
function reencoded(text: string, encoding: 'base64' | 'quoted-printable'): string {
  const [{ outer }, { body }] = [asPart(text), split(text)]
  const encoded = encoding === 'base64' ? Buffer.from(body, 'latin1').toString('base64') : body
  const lines = encoding === 'base64' ? (encoded.match(/.{1,76}/g) ?? []).join('\r\n') : encoded
  const type = 'Content-Type: text/plain; charset=utf-8'
  return `${[...outer, type, `Content-Transfer-Encoding: ${encoding}`].join('\r\n')}\r\n\r\n${lines}\r\n`
}

function brokenEncoding(rng: Rng, text: string, encoding: 'base64' | 'quoted-printable'): [string, string] {
  const out = encodedBodies(text, encoding).length > 0 ? text : reencoded(text, encoding)
  const range = rng.pick(encodedBodies(out, encoding))
  let region = out.slice(range[0], range[1])
  const done: string[] = []
  // Up to about 200 KB however often chosen: a multi-MB message measures PGlite's inserts, not the parsers.
  const longer = (line: string) =>
    line.repeat(rng.chance(0.5) ? 1 : Math.min(20, Math.ceil(200_000 / (line.length + 1))))
  const base64Breaks = {
    'bad-chars': () => insertAt(rng, region, ['!', '*', '\xff', '-', '_', '.', '\0', '%', ' ', '\u00e9'], 8),
    'padding-inside': () => insertAt(rng, region, ['=', '==', '===='], 3),
    'padding-removed': () => region.replace(/=+(\s*)$/, '$1'),
    'padding-extra': () => `${region.trimEnd()}====\r\n`,
    'odd-length': () => region.replace(/^(.+?).(\r?)$/gm, '$1$2'),
    'one-line': () => longer(region.replace(/\r?\n/g, '')),
  }
  const qpBreaks = {
    'bad-escape': () => insertAt(rng, region, ['=ZZ', '=Z', '=G0', '=\xff', '=='], 8),
    'soft-break-at-end': () => `${region.trimEnd()}=\r\n`,
    'equals-at-end': () => `${region.trimEnd()}=`,
    'soft-breaks': () => insertAt(rng, region, ['=\r\n', '=\n', '= \r\n', '=\r\n=\r\n=\r\n'], 8),
    'cut-utf8': () => insertAt(rng, region, ['=E2=82', '=C3', '=ED=A0=80', '=00'], 6),
    'long-line': () => longer(region.replace(/=?\r?\n/g, (end) => (end[0] === '=' ? '' : ' '))),
  }
  const breaks: Record<string, () => string> = encoding === 'base64' ? base64Breaks : qpBreaks
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const name = rng.pick(Object.keys(breaks))
    done.push(name)
    region = (breaks[name] as () => string)()
  }
  return [done.join(','), replaceRange(out, range, region)]
}

/** Unknown, unsupported, empty, NUL-carrying, path-like and huge charset names ('|' separates them). */
const CHARSETS = 'x-unknown|"utf-8\0"|""|utf-7|utf-16|utf-32|iso-2022-jp|replacement|"../../etc/passwd"|\xff'
  .split('|')
  .concat('"utf-8"; charset=koi8-r', `x-${'a'.repeat(10_000)}`)

function unknownCharset(rng: Rng, text: string): [string, string] {
  const charset = rng.pick(CHARSETS)
  let out = text.replace(/charset\s*=\s*("[^"\r\n]*"|[^;\s]+)/gi, () => `charset=${charset}`)
  if (out === text) out = `Content-Type: text/plain; charset=${charset}\r\n${text}`
  const word = `=?${charset.replaceAll('"', '')}?B?${btoa('caf\xe9 482913')}?=`
  if (rng.chance(0.5)) out = `Subject: ${word}\r\n${out}`
  const label = charset.length > 40 ? `${charset.slice(0, 12)}...(${charset.length})` : charset
  return [JSON.stringify(label), out]
}

function nulAndSurrogates(rng: Rng, text: string): [string, string] {
  const parts = split(text)
  const headTokens = [...BAD_UTF8, ...BAD_WORDS.map((word) => ` ${word}`)]
  const head = insertAt(rng, parts.head, headTokens, 1 + rng.int(8))
  const body = insertAt(rng, parts.body, [...BAD_UTF8, '&#xD800;', '&#0;', '\\ud800'], 1 + rng.int(20))
  return ['', join3({ ...parts, head, body })]
}

function lineEndingMix(rng: Rng, text: string): [string, string] {
  const endings = ['\r\n', '\n', '\r', '\r\r\n', '\n\r']
  return ['', text.replace(/\r\n|\n|\r/g, () => rng.pick(endings))]
}

function unclosedBoundary(rng: Rng, text: string): [string, string] {
  const boundaries = boundariesOf(text)
  if (boundaries.length === 0) {
    const { outer, part } = asPart(text)
    const head = [...outer, 'Content-Type: multipart/mixed; boundary="open"'].join('\r\n')
    return ['wrapped', `${head}\r\n\r\n--open\r\n${part}`]
  }
  const variant = rng.pick(['no-close', 'only-first-delimiter', 'never-used', 'empty', 'too-long'] as const)
  let out = text
  for (const boundary of boundaries) {
    const escaped = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    if (variant === 'no-close') out = out.replace(new RegExp(`--${escaped}--`, 'g'), '')
    if (variant === 'only-first-delimiter') {
      const first = out.indexOf(`--${boundary}`)
      const rest = out.slice(first + 1).replace(new RegExp(`--${escaped}(--)?`, 'g'), '')
      out = first === -1 ? out : out.slice(0, first + 1) + rest
    }
  }
  const param = { 'never-used': 'absent', empty: '', 'too-long': 'b'.repeat(300) }[variant as string]
  if (param !== undefined) out = out.replace(/boundary\s*=\s*("[^"\r\n]*"|[^;\s]+)/gi, `boundary="${param}"`)
  return [variant, out]
}

function headersOnly(rng: Rng, text: string): [string, string] {
  const { head } = split(text)
  const variant = rng.pick(['no-blank-line', 'blank-line', 'multipart-no-body', 'one-field'] as const)
  if (variant === 'no-blank-line') return [variant, head]
  if (variant === 'blank-line') return [variant, `${head}\r\n\r\n`]
  if (variant === 'one-field') return [variant, 'Subject: x']
  return [variant, `${head}\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n`]
}

const MUTATORS: Record<string, { weight: number; mutate: Mutator }> = {
  'byte-flips': { weight: 1, mutate: byteFlips },
  'byte-inserts': { weight: 1, mutate: byteInserts },
  'byte-deletes': { weight: 1, mutate: byteDeletes },
  truncate: { weight: 2, mutate: truncate },
  // The 100 KB+ shapes cost the pipeline 10-100 times a fixture; fewer of them keep a run of thousands short.
  'duplicate-header': { weight: 0.4, mutate: duplicateHeader },
  'huge-header-folded': { weight: 0.4, mutate: (rng, text) => hugeHeader(rng, text, true) },
  'huge-header-unfolded': { weight: 0.4, mutate: (rng, text) => hugeHeader(rng, text, false) },
  'deep-nesting': { weight: 0.6, mutate: deepNesting },
  'many-parts': { weight: 0.4, mutate: manyParts },
  'broken-base64': { weight: 1, mutate: (rng, text) => brokenEncoding(rng, text, 'base64') },
  'broken-qp': { weight: 1, mutate: (rng, text) => brokenEncoding(rng, text, 'quoted-printable') },
  'unknown-charset': { weight: 1, mutate: unknownCharset },
  'nul-and-surrogates': { weight: 1, mutate: nulAndSurrogates },
  'line-ending-mix': { weight: 1, mutate: lineEndingMix },
  'unclosed-boundary': { weight: 1, mutate: unclosedBoundary },
  'headers-only': { weight: 0.5, mutate: headersOnly },
  empty: { weight: 0.3, mutate: (rng) => ['', rng.pick(['', '\r\n', '\r\n\r\n', ' ', '\0', '.\r\n'])] },
  // Past the funnel's size limit: the one refusal the funnel makes for a live mailbox. Rare: 10 MB each.
  oversize: { weight: 0.1, mutate: (rng, text, max) => ['', text.padEnd(max + 1 + rng.int(1000), 'x')] },
}

export const MUTATION_KINDS = Object.keys(MUTATORS)
/** Byte-level damage that may follow a structural mutation (a quarter of them get one). */
const STACKABLE = ['byte-flips', 'byte-inserts', 'byte-deletes', 'line-ending-mix', 'truncate']
const TOTAL_WEIGHT = Object.values(MUTATORS).reduce((sum, entry) => sum + entry.weight, 0)

function weightedKind(rng: Rng): string {
  let ticket = rng.int(TOTAL_WEIGHT * 1000) / 1000
  for (const [kind, { weight }] of Object.entries(MUTATORS)) {
    ticket -= weight
    if (ticket < 0) return kind
  }
  return 'byte-flips'
}

/**
 * Mutation `index` of a run: its own PRNG comes from (seed, index), so any one of them can be rebuilt
 * without the others. The first MUTATION_KINDS.length indexes take each kind once, so even a short run
 * covers every kind; the rest are drawn by weight.
 */
export function mutation(
  seeds: readonly SeedMessage[],
  seed: number,
  index: number,
  { maxMessageBytes = 10 * 1024 * 1024 }: { maxMessageBytes?: number } = {},
): Mutation {
  const rng = makeRng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
  const source = rng.pick(seeds)
  const kind = index < MUTATION_KINDS.length ? (MUTATION_KINDS[index] as string) : weightedKind(rng)
  const mutateBy = (name: string) => (MUTATORS[name] as { mutate: Mutator }).mutate
  let [variant, text] = mutateBy(kind)(rng, toBinary(source.raw), maxMessageBytes)
  let name = variant ? `${kind}/${variant}` : kind
  if (!['empty', 'oversize'].includes(kind) && rng.chance(0.25)) {
    const extra = rng.pick(STACKABLE)
    ;[variant, text] = mutateBy(extra)(rng, text, maxMessageBytes)
    name += `+${extra}${variant ? `/${variant}` : ''}`
  }
  return { index, kind: name, seedName: source.name, raw: fromBinary(text) }
}
