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

export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
    const lower = name.toLowerCase()
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)))
    return ENTITIES[lower] ?? whole
  })
}

const ONE_CHARACTER_CELL = />\s*[A-Z0-9]\s*<\/(?:td|span|div|b|strong)>/i

/**
 * HTML to scannable text. Cells and inline elements holding one character each (a code drawn
 * one digit per <td> or <span>) are joined, block elements become line breaks.
 */
export function htmlToText(html: string): string {
  let out = html.slice(0, MAX_SCAN_CHARS)
  out = out.replace(/<(script|style|head|title)[\s\S]*?<\/\1>/gi, ' ')
  out = out.replace(/<!--[\s\S]*?-->/g, ' ')
  // Spacer cells between the digit cells of a code are empty: drop them first.
  out = out.replace(/<(td|span|div)\b[^>]*>(?:\s|&nbsp;)*<\/\1>/gi, '')
  // One character per cell/span, adjacent: glue them so "4 8 2 9 1 3" in a table reads 482913.
  // The run pattern is costly on every tag of a large mail: it runs only where a one-character cell is.
  if (ONE_CHARACTER_CELL.test(out))
    out = out.replace(
      /((?:<(?:td|span|div|b|strong)\b[^>]*>\s*[A-Z0-9]\s*<\/(?:td|span|div|b|strong)>\s*){4,8})/gi,
      (run) => ` ${run.replace(/<[^>]+>|\s+/g, '')} `,
    )
  out = out.replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6]|table|td|th)>/gi, '\n')
  out = out.replace(/<[^>]+>/g, ' ')
  return decodeEntities(out).replace(/[ \t\u00a0]+/g, ' ')
}
