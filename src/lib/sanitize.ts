// HTML sanitising for display (js-xss allow-list): no scripts, handlers, forms, frames, unsafe URLs or CSS; remote images marked.

import { FilterXSS, getDefaultWhiteList } from 'xss'

/** Tags a mail body may keep; everything else is removed with its content (script, style) or unwrapped. */
const allowList = (() => {
  const list: Record<string, string[] | undefined> = { ...getDefaultWhiteList() }
  // Mail layouts are tables with presentational attributes; keep those, never handlers.
  const layout = [
    'style',
    'class',
    'align',
    'valign',
    'width',
    'height',
    'bgcolor',
    'border',
    'cellpadding',
    'cellspacing',
    'dir',
  ]
  for (const tag of [
    'table',
    'thead',
    'tbody',
    'tfoot',
    'tr',
    'td',
    'th',
    'div',
    'span',
    'p',
    'center',
    'font',
    'img',
    'a',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'ul',
    'ol',
    'li',
    'blockquote',
    'pre',
    'hr',
    'br',
    'b',
    'i',
    'u',
    'strong',
    'em',
    'small',
    'sup',
    'sub',
  ])
    list[tag] = [...new Set([...(list[tag] ?? []), ...layout])]
  list.font = [...(list.font ?? []), 'color', 'face', 'size']
  // `target` is ours to set: a mail's own target="_self" would come first and win.
  list.a = [...(list.a ?? []).filter((name) => name !== 'target'), 'href', 'title']
  list.img = [...(list.img ?? []), 'src', 'alt', 'title']
  for (const banned of [
    'form',
    'input',
    'button',
    'select',
    'textarea',
    'iframe',
    'frame',
    'frameset',
    'object',
    'embed',
    'script',
    'style',
    'link',
    'meta',
    'base',
    'svg',
    'math',
    // Media fetch from the sender as soon as they render (src, poster, autoplay) and cannot be held back.
    'audio',
    'video',
  ])
    delete list[banned]
  return list
})()

/** Named character references that stand for ASCII: the only ones that can change how a URL or CSS reads. */
const ASCII_REFERENCES = new Map<string, string>([
  ['Tab', '\t'],
  ['NewLine', '\n'],
  ['excl', '!'],
  ['quot', '"'],
  ['QUOT', '"'],
  ['num', '#'],
  ['dollar', '$'],
  ['percnt', '%'],
  ['amp', '&'],
  ['AMP', '&'],
  ['apos', "'"],
  ['lpar', '('],
  ['rpar', ')'],
  ['ast', '*'],
  ['midast', '*'],
  ['plus', '+'],
  ['comma', ','],
  ['period', '.'],
  ['sol', '/'],
  ['colon', ':'],
  ['semi', ';'],
  ['lt', '<'],
  ['LT', '<'],
  ['equals', '='],
  ['bne', '=\u20e5'],
  ['gt', '>'],
  ['GT', '>'],
  ['nvlt', '<\u20d2'],
  ['nvgt', '>\u20d2'],
  ['quest', '?'],
  ['commat', '@'],
  ['lsqb', '['],
  ['lbrack', '['],
  ['bsol', '\\'],
  ['rsqb', ']'],
  ['rbrack', ']'],
  ['Hat', '^'],
  ['lowbar', '_'],
  ['UnderBar', '_'],
  ['grave', '`'],
  ['DiacriticalGrave', '`'],
  ['lcub', '{'],
  ['lbrace', '{'],
  ['verbar', '|'],
  ['vert', '|'],
  ['VerticalLine', '|'],
  ['rcub', '}'],
  ['rbrace', '}'],
  ['fjlig', 'fj'],
])
/** The ASCII references a browser also reads without their semicolon (unless a letter, digit or `=` follows). */
const LEGACY_REFERENCES = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT'])
const REFERENCE = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*))(;?)/g

const escapeAttribute = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

const codePoint = (value: number) =>
  String.fromCodePoint(
    value === 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff) ? 0xfffd : value,
  )

/**
 * An attribute value as the browser will read it (`text`), and the same value written so that a browser
 * reads exactly that (`html`): decoded once here, it can never decode a second time on the page. Named
 * references to non-ASCII characters (&eacute;) are kept as written: they cannot form a scheme or CSS.
 */
function decodeAttribute(raw: string): { text: string; html: string } {
  let text = ''
  let html = ''
  let last = 0
  for (const match of raw.matchAll(REFERENCE)) {
    const [whole, decimal, hex, name, semicolon] = match
    const before = raw.slice(last, match.index)
    text += before
    html += escapeAttribute(before)
    last = match.index + whole.length
    let char: string | undefined
    if (decimal !== undefined) char = codePoint(Number.parseInt(decimal, 10))
    else if (hex !== undefined) char = codePoint(Number.parseInt(hex, 16))
    else if (name !== undefined && (semicolon || (LEGACY_REFERENCES.has(name) && raw[last] !== '=')))
      char = ASCII_REFERENCES.get(name)
    if (char !== undefined) {
      text += char
      html += escapeAttribute(char)
    } else if (semicolon) {
      text += whole
      html += whole
    } else {
      // Not a reference: the ampersand is literal and what follows is read as plain text.
      text += '&'
      html += '&amp;'
      last = match.index + 1
    }
  }
  const rest = raw.slice(last)
  return { text: text + rest, html: html + escapeAttribute(rest) }
}

type UrlKind = 'fragment' | 'local' | 'remote' | 'mailto' | 'cid' | 'image data' | 'other'

/** What a URL points at, judged as a browser's URL parser reads it: spaces and control characters carry no meaning. */
function urlKind(url: string): UrlKind {
  const compact = Array.from(url)
    .filter((char) => (char.codePointAt(0) ?? 0) > 0x20)
    .join('')
  if (compact.startsWith('#')) return 'fragment'
  // `//host`, `/\host`, `\\host` are protocol-relative: another host, whatever the scheme.
  if (/^(https?:|[\\/]{2})/i.test(compact)) return 'remote'
  if (compact.startsWith('/')) return 'local'
  if (/^mailto:/i.test(compact)) return 'mailto'
  if (/^cid:/i.test(compact)) return 'cid'
  if (/^data:image\/(png|gif|jpe?g|webp|bmp)[;,]/i.test(compact)) return 'image data'
  return 'other'
}

const LINK_KINDS = new Set<UrlKind>(['fragment', 'local', 'remote', 'mailto', 'cid'])
const IMAGE_KINDS = new Set<UrlKind>(['fragment', 'local', 'cid', 'image data'])

function urlAttribute(tag: string, name: string, value: string): string {
  const { text, html } = decodeAttribute(value)
  const kind = urlKind(text)
  const attribute = `${name}="${html}"`
  if (name === 'src') {
    if (tag !== 'img') return ''
    if (kind === 'remote') return `${attribute} data-remote-image`
    return IMAGE_KINDS.has(kind) ? attribute : ''
  }
  if ((name !== 'href' && name !== 'cite') || !LINK_KINDS.has(kind)) return ''
  return tag === 'a' ? `${attribute} rel="noopener noreferrer" target="_blank"` : attribute
}

/** CSS functions a mail layout uses that fetch nothing; any other function (url, image-set, expression...) goes. */
const CSS_FUNCTIONS = new Set([
  '',
  'rgb',
  'rgba',
  'hsl',
  'hsla',
  'hwb',
  'lab',
  'lch',
  'oklab',
  'oklch',
  'color',
  'color-mix',
  'calc',
  'min',
  'max',
  'clamp',
  'var',
  'linear-gradient',
  'radial-gradient',
  'conic-gradient',
  'repeating-linear-gradient',
  'repeating-radial-gradient',
  'repeating-conic-gradient',
  '-webkit-linear-gradient',
  '-webkit-radial-gradient',
  '-moz-linear-gradient',
  '-moz-radial-gradient',
  '-webkit-gradient',
  'from',
  'to',
  'color-stop',
  'translate',
  'translatex',
  'translatey',
  'translate3d',
  'scale',
  'scalex',
  'scaley',
  'rotate',
  'skew',
  'skewx',
  'skewy',
  'matrix',
  'perspective',
  'cubic-bezier',
  'steps',
  'blur',
  'brightness',
  'contrast',
  'drop-shadow',
  'grayscale',
  'hue-rotate',
  'invert',
  'opacity',
  'saturate',
  'sepia',
  'rect',
  'inset',
  'circle',
  'ellipse',
  'polygon',
  'minmax',
  'repeat',
  'fit-content',
])
/** Script and remote loading that is not a function call: IE expressions and behaviours, XBL bindings, schemes. */
const CSS_BANNED = /expression|binding|behavio|javascript:|vbscript:/
const CSS_ESCAPE = /\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\r\n\f])?|(\r\n|[\r\n\f])|([^\r\n\f]))/g

/** One declaration as the style engine reads it (escapes decoded), or null when it could load or run anything. */
function cssDeclaration(declaration: string): string | null {
  if (declaration.trim() === '') return null
  const read = declaration.replace(
    CSS_ESCAPE,
    (_, hex: string | undefined, newline: string | undefined, char) =>
      hex !== undefined ? codePoint(Number.parseInt(hex, 16)) : newline !== undefined ? '' : char,
  )
  // A backslash or comment left over would be decoded again on the page; & and @ have no place in layout CSS.
  if (/[\\&@]|\/\*/.test(read)) return null
  const squeezed = read.toLowerCase().replace(/\s+/g, '')
  if (CSS_BANNED.test(squeezed)) return null
  for (const call of squeezed.matchAll(/([a-z0-9_-]*)\(/g)) if (!CSS_FUNCTIONS.has(call[1] ?? '')) return null
  return read
}

/** Inline CSS keeps its harmless declarations (colours, sizes, fonts), written back decoded. */
function styleAttribute(value: string): string {
  const css = decodeAttribute(value).text.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, '')
  const kept = css
    .split(';')
    .map(cssDeclaration)
    .filter((declaration) => declaration !== null)
  return kept.length > 0 ? `style="${escapeAttribute(kept.join(';'))}"` : ''
}

/** Every attribute that holds a URL: should the allow-list ever admit one, only href, src and cite survive it. */
const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'cite',
  'action',
  'formaction',
  'background',
  'poster',
  'srcset',
  'lowsrc',
  'dynsrc',
  'longdesc',
  'usemap',
  'data',
  'codebase',
  'ping',
  'xlink:href',
])

/**
 * Remote images are kept but marked `data-remote-image`, so a client can hold them back
 * (they tell the sender the mail was opened); the raw source stays untouched in storage.
 * Nothing else may fetch: CSS that loads anything is dropped declaration by declaration, and
 * audio and video are removed. URLs and styles are written back decoded, judged as a browser reads them.
 */
export function sanitizeHtml(html: string): string {
  const filter = new FilterXSS({
    whiteList: allowList,
    stripIgnoreTag: true,
    stripIgnoreTagBody: [
      'script',
      'style',
      'iframe',
      'object',
      'embed',
      'form',
      'svg',
      'math',
      'template',
      'noscript',
    ],
    css: false,
    onTagAttr(tag, name, value, isWhiteAttr) {
      if (!isWhiteAttr) return undefined
      if (name === 'style') return styleAttribute(value)
      if (URL_ATTRIBUTES.has(name)) return urlAttribute(tag, name, value)
      return undefined
    },
  })
  return filter.process(html)
}
