// HTML to the plain text the code scorer reads, and HTML entity decoding for text and link URLs.

/** Bodies are cut to this many characters before scanning: codes sit near the top, and it bounds the regex work. */
export const MAX_SCAN_CHARS = 100_000

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  '#39': "'",
  // Punctuation templates write as entities; left raw, "&ndash;" read as words beside a code.
  ndash: '\u2013',
  mdash: '\u2014',
  middot: '\u00b7',
  bull: '\u2022',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  laquo: '\u00ab',
  raquo: '\u00bb',
  copy: '\u00a9',
  reg: '\u00ae',
  euro: '\u20ac',
  // Invisible inside a code (Q7M&shy;4KD): decoded here, removed before scanning.
  shy: '\u00ad',
  zwnj: '\u200c',
  zwj: '\u200d',
  zerowidthspace: '\u200b',
}

/**
 * The named entities of Latin-1 (U+00A0-U+00FF), in code point order: templates in Spanish, French or
 * Portuguese write every accent as one ("Tu c&oacute;digo"), and left raw the words around a code are lost.
 */
const LATIN1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
const LATIN1: Record<string, string> = Object.fromEntries(
  LATIN1_NAMES.split(' ').map((name, offset) => [name, String.fromCharCode(0xa0 + offset)]),
)

function codePoint(value: number, whole: string): string {
  return Number.isInteger(value) && value > 0 && value <= 0x10ffff ? String.fromCodePoint(value) : whole
}

export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
    const lower = name.toLowerCase()
    if (lower.startsWith('#x')) return codePoint(Number.parseInt(lower.slice(2), 16), whole)
    if (lower.startsWith('#')) return codePoint(Number(lower.slice(1)), whole)
    // Latin-1 names are case-sensitive (&Eacute; is É, &eacute; é); the others are read in any case.
    return ENTITIES[name] ?? LATIN1[name] ?? ENTITIES[lower] ?? whole
  })
}

const SOURCE_LINE_BREAK = /\r\n|\r|\n/g
const PRE = /<pre\b/i
const PRE_BLOCK = /<pre\b[\s\S]*?<\/pre>/gi

const ONE_CHARACTER_CELL = />\s*[A-Z0-9]\s*<\/(?:td|span|div|b|strong)>/i

/** The tags that open or close a table or a row. */
const TABLE_TAG = /<(\/?)t(r|able)\b[^>]*>/gi
const CELL = /<t[dh]\b[^>]*>([\s\S]*?)<\/t[dh]>/gi
/** A header cell: a few words, no digits ("Verification code", "Valid until", "Código"). */
const HEADER_CELL = /^[\p{L}][\p{L}\p{M} '’()/.-]{0,29}$/u
const HAS_DIGIT = /\d/
const BLANK = /^\s*$/
/** Tags that render inline, adding no space of their own. */
const INLINE_TAG =
  /<\/?(?:span|b|strong|em|i|u|font|small|big|sup|sub|mark|code|kbd|tt|s|strike|ins|del|abbr)\b[^>]*>/gi

interface Row {
  /** Where the row's <tr> starts and its </tr> ends. */
  start: number
  end: number
  inner: string
}

/**
 * The innermost table rows: a <tr> closed by </tr> with no table or row tag between (layout tables nest; only
 * these hold data). One pass over the table tags: a pattern that spans rows was slow on a long unclosed row.
 */
function innermostRows(html: string): Row[] {
  const rows: Row[] = []
  let open: { start: number; innerStart: number } | null = null
  for (const tag of html.matchAll(TABLE_TAG)) {
    const index = tag.index ?? 0
    const closing = tag[1] === '/'
    const row = (tag[2] as string).toLowerCase() === 'r'
    if (row && !closing) open = { start: index, innerStart: index + tag[0].length }
    else {
      if (open && row && closing)
        rows.push({
          start: open.start,
          end: index + tag[0].length,
          inner: html.slice(open.innerStart, index),
        })
      open = null
    }
  }
  return rows
}

function cellsOf(row: string): string[] {
  return [...row.matchAll(CELL)].map((cell) =>
    decodeEntities((cell[1] as string).replace(/<[^>]+>/g, ' '))
      .replace(/\s+/g, ' ')
      .trim(),
  )
}

/**
 * A header row of two or more label cells over a row of values, read as a table is read: each value beside its
 * column's header ("Verification code: 482913", "Valid until: 10:30"). Cell by cell on lines of their own, the
 * value of the first column would sit under the last header. The row under it is one of values when its first cell
 * is no label: a two-column table of labels and values ("Reference | AXK" / "Code | 503 118") stays as it is.
 */
function headerRowsBesideValues(html: string): string {
  if (!/<tr/i.test(html)) return html
  const rows = innermostRows(html)
  let out = ''
  let copied = 0
  for (let i = 0; i + 1 < rows.length; i++) {
    const header = rows[i] as Row
    const below = rows[i + 1] as Row
    if (!BLANK.test(html.slice(header.end, below.start))) continue
    const headers = cellsOf(header.inner)
    if (headers.length < 2 || !headers.every((cell) => HEADER_CELL.test(cell))) continue
    const values = cellsOf(below.inner)
    if (values.length !== headers.length || HEADER_CELL.test(values[0] as string)) continue
    if (!values.some((value) => HAS_DIGIT.test(value))) continue
    out += html.slice(copied, header.start)
    out += headers.map((cell, column) => `<div>${cell}: ${values[column]}</div>`).join('')
    copied = below.end
    i++
  }
  return copied === 0 ? html : out + html.slice(copied)
}

/**
 * HTML to scannable text. Cells and inline elements holding one character each (a code drawn
 * one digit per <td> or <span>) are joined, block elements become line breaks.
 */
export function htmlToText(html: string): string {
  let out = html.slice(0, MAX_SCAN_CHARS)
  out = out.replace(/<(script|style|head|title)[\s\S]*?<\/\1>/gi, ' ')
  out = out.replace(/<!--[\s\S]*?-->/g, ' ')
  out = headerRowsBesideValues(out)
  // Spacer cells between the digit cells of a code are empty: drop them first.
  out = out.replace(/<(td|span|div)\b[^>]*>(?:\s|&nbsp;)*<\/\1>/gi, '')
  // One character per cell/span, adjacent: glue them so "4 8 2 9 1 3" in a table reads 482913.
  // The run pattern is costly on every tag of a large mail: it runs only where a one-character cell is.
  if (ONE_CHARACTER_CELL.test(out))
    out = out.replace(
      /((?:<(?:td|span|div|b|strong)\b[^>]*>\s*[A-Z0-9]\s*<\/(?:td|span|div|b|strong)>\s*){4,8})/gi,
      (run) => ` ${run.replace(/<[^>]+>|\s+/g, '')} `,
    )
  // A line break in HTML source is a space: templates wrap long paragraphs, and a number wrapped onto a line of
  // its own ("call us on 800 11\n33 55.") would read as a code shown alone. Only tags break lines, and the
  // line breaks of preformatted text.
  if (PRE.test(out)) out = out.replace(PRE_BLOCK, (block) => block.replace(SOURCE_LINE_BREAK, '<br>'))
  out = out.replace(SOURCE_LINE_BREAK, ' ')
  out = out.replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6]|table|td|th)>/gi, '\n')
  // Round 17: inline tags render with no space of their own ("<span>60</span>&#8203;<span>81</span>" reads 60​81);
  // every other tag separates words.
  out = out.replace(INLINE_TAG, '')
  out = out.replace(/<[^>]+>/g, ' ')
  return decodeEntities(out).replace(/[ \t\u00a0]+/g, ' ')
}
