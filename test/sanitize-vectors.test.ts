// The sanitiser against published XSS and remote-content vectors, judged by parsing its output as a browser would (parse5).

import { describe, expect, test } from 'bun:test'
import { type DefaultTreeAdapterTypes, parse } from 'parse5'
import { sanitizeHtml } from '#lib/sanitize.ts'
import { benignMail, handlerVectors, leakVectors, xssVectors } from './fixtures/xss-vectors.ts'

type Element = DefaultTreeAdapterTypes.Element
type Node = DefaultTreeAdapterTypes.ChildNode | DefaultTreeAdapterTypes.Document

const REMOTE_MARK = 'data-remote-image'
const FORBIDDEN_ELEMENTS = new Set([
  'script',
  'iframe',
  'object',
  'embed',
  'applet',
  'base',
  'meta',
  'form',
  'link',
  'frame',
  'frameset',
  // Any surviving <style> block restyles the whole page, not only the mail.
  'style',
])
const ANIMATIONS = new Set(['animate', 'set', 'animatemotion', 'animatetransform'])
const URL_ATTRIBUTES = new Set([
  'href',
  'xlink:href',
  'src',
  'action',
  'formaction',
  'poster',
  'background',
  'srcset',
  'data',
  'codebase',
  'dynsrc',
  'lowsrc',
  'ping',
])
/** Attributes the browser fetches from when it renders (href only outside links). */
const FETCHED_ATTRIBUTES = new Set([
  'src',
  'srcset',
  'poster',
  'background',
  'data',
  'codebase',
  'dynsrc',
  'lowsrc',
  'ping',
])
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'cid'])
const DANGEROUS_CSS = [
  'url(',
  'image(',
  'image-set(',
  'src(',
  'expression',
  '-moz-binding',
  'behavior',
  '@import',
  'javascript:',
  'vbscript:',
]

/** What a URL parser sees: control characters and spaces carry no meaning in a scheme. */
const compact = (value: string) =>
  Array.from(value)
    .filter((char) => (char.codePointAt(0) ?? 0) > 0x20)
    .join('')

const schemeOf = (url: string) => /^([a-z][a-z0-9+.-]*):/i.exec(compact(url))?.[1]?.toLowerCase() ?? null

const isRemote = (url: string) => /^(https?:|[\\/]{2})/i.test(compact(url))

/** CSS as the style engine reads it: comments gone, escapes decoded, case folded. */
function cssAsRead(css: string): string {
  return css
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, '')
    .replace(/\\\r?\n/g, '')
    .replace(
      /\\([0-9a-f]{1,6})[ \t\n\r\f]?|\\([\s\S])/gi,
      (_, hex: string | undefined, char: string | undefined) =>
        hex ? String.fromCodePoint(Math.min(Number.parseInt(hex, 16), 0x10ffff) || 0xfffd) : (char ?? ''),
    )
    .toLowerCase()
}

const urlsIn = (name: string, value: string) =>
  name === 'srcset' ? value.split(',').map((candidate) => candidate.trim().split(/\s+/)[0] ?? '') : [value]

function attributeProblems(element: Element): string[] {
  const tag = element.tagName.toLowerCase()
  const problems: string[] = []
  const names = element.attrs.map((attr) =>
    (attr.prefix ? `${attr.prefix}:${attr.name}` : attr.name).toLowerCase(),
  )
  const marked = names.includes(REMOTE_MARK)
  element.attrs.forEach((attr, index) => {
    const name = names[index] ?? attr.name
    const where = `<${tag} ${name}="${attr.value}">`
    if (name.startsWith('on')) problems.push(`event handler ${where}`)
    if (name === 'srcdoc') problems.push(`srcdoc ${where}`)
    if (name === 'style') {
      const css = cssAsRead(attr.value)
      const squeezed = css.replace(/\s+/g, '')
      const found = DANGEROUS_CSS.filter((needle) => css.includes(needle) || squeezed.includes(needle))
      if (found.length > 0) problems.push(`style with ${found.join(', ')} ${where}`)
    }
    if (!URL_ATTRIBUTES.has(name)) return
    for (const url of urlsIn(name, attr.value)) {
      const scheme = schemeOf(url)
      const imageData = tag === 'img' && name === 'src' && /^data:image\//i.test(compact(url))
      if (scheme && !SAFE_SCHEMES.has(scheme) && !imageData) problems.push(`${scheme}: URL ${where}`)
      const fetched = FETCHED_ATTRIBUTES.has(name) || (name.endsWith('href') && tag !== 'a' && tag !== 'area')
      const markedImage = tag === 'img' && name === 'src' && marked
      if (fetched && isRemote(url) && !markedImage) problems.push(`unmarked remote fetch ${where}`)
    }
  })
  if (ANIMATIONS.has(tag)) {
    const target = element.attrs.find((attr) => attr.name.toLowerCase() === 'attributename')?.value ?? ''
    if (/href/i.test(target)) problems.push(`<${tag}> animating ${target}`)
  }
  return problems
}

/** Every way the HTML, parsed as a browser parses it, could run code or fetch unmarked remote content. */
function problemsIn(html: string): string[] {
  const problems: string[] = []
  const visit = (node: Node) => {
    if ('tagName' in node) {
      const tag = node.tagName.toLowerCase()
      if (FORBIDDEN_ELEMENTS.has(tag)) problems.push(`<${tag}> element`)
      problems.push(...attributeProblems(node))
      if (tag === 'template') visit((node as DefaultTreeAdapterTypes.Template).content as unknown as Node)
    }
    if ('childNodes' in node) for (const child of node.childNodes) visit(child)
  }
  visit(parse(html))
  return problems
}

const allVectors = [...xssVectors, ...handlerVectors, ...leakVectors]

describe('the vectors', () => {
  test('there are enough of them, with unique names', () => {
    expect(xssVectors.length).toBeGreaterThanOrEqual(60)
    expect(leakVectors.length).toBeGreaterThanOrEqual(20)
    expect(new Set(allVectors.map((vector) => vector.name)).size).toBe(allVectors.length)
  })

  test('each one is caught by the judge when not sanitised (so the judge can fail)', () => {
    const missed = allVectors
      .filter((vector) => !vector.harmlessAsWritten)
      .filter((vector) => problemsIn(vector.html).length === 0)
      .map((vector) => vector.name)
    expect(missed).toEqual([])
  })
})

describe('sanitised output, parsed as a browser would', () => {
  test.each(xssVectors.map((vector) => [vector.name, vector.html]))('XSS: %s', (_, html) => {
    expect(problemsIn(sanitizeHtml(html))).toEqual([])
  })

  test('every common event handler on every kept tag', () => {
    const survivors = handlerVectors
      .filter((vector) => problemsIn(sanitizeHtml(vector.html)).length > 0)
      .map((vector) => vector.name)
    expect(survivors).toEqual([])
  })

  test.each(leakVectors.map((vector) => [vector.name, vector.html]))('remote content: %s', (_, html) => {
    expect(problemsIn(sanitizeHtml(html))).toEqual([])
  })
})

/** The elements of one tag in sanitised HTML, with their attributes as a record. */
function elements(html: string, tag: string) {
  const found: { attrs: Record<string, string>; text: string }[] = []
  const textOf = (node: Node): string =>
    node.nodeName === '#text'
      ? (node as DefaultTreeAdapterTypes.TextNode).value
      : 'childNodes' in node
        ? node.childNodes.map(textOf).join('')
        : ''
  const visit = (node: Node) => {
    if ('tagName' in node && node.tagName === tag)
      found.push({
        attrs: Object.fromEntries(node.attrs.map((attr) => [attr.name, attr.value])),
        text: textOf(node),
      })
    if ('childNodes' in node) for (const child of node.childNodes) visit(child)
  }
  visit(parse(html))
  return found
}

describe('real-world mail keeps its text, links and layout', () => {
  test('a newsletter table keeps its presentational attributes and harmless inline CSS', () => {
    const html = sanitizeHtml(benignMail.newsletterTable)
    expect(problemsIn(html)).toEqual([])
    const [table] = elements(html, 'table')
    expect(table?.attrs).toMatchObject({
      width: '600',
      cellpadding: '0',
      cellspacing: '0',
      border: '0',
      align: 'center',
      bgcolor: '#ffffff',
    })
    expect(table?.attrs.style).toContain('max-width:600px')
    expect(table?.attrs.style).toContain('border-collapse:collapse')
    const [cell] = elements(html, 'td')
    expect(cell?.attrs).toMatchObject({ align: 'left', valign: 'top' })
    for (const declaration of [
      'padding:20px 24px',
      "font-family:'Helvetica Neue',Arial,sans-serif",
      'font-size:14px',
      'line-height:20px',
      'color:#333333',
    ])
      expect(cell?.attrs.style).toContain(declaration)
    expect(cell?.text).toBe('Hello Ada,Your code is 482913.')
    expect(elements(html, 'b')[0]?.text).toBe('482913')
  })

  test('font tags keep face, colour and size', () => {
    const [font] = elements(sanitizeHtml(benignMail.fontTag), 'font')
    expect(font).toEqual({
      attrs: { face: 'Arial, sans-serif', color: '#ff0000', size: '2' },
      text: 'Red notice',
    })
  })

  test('links keep their targets, query strings, mailto and fragments', () => {
    const html = sanitizeHtml(benignMail.links)
    expect(problemsIn(html)).toEqual([])
    const links = elements(html, 'a')
    expect(links.map((link) => [link.attrs.href, link.text])).toEqual([
      ['https://shop.example/confirm?token=abc&lang=de', 'confirm'],
      ['mailto:help@shop.example', 'help@shop.example'],
      ['#top', 'Top'],
    ])
    expect(links[0]?.attrs).toMatchObject({ title: 'Confirm', rel: 'noopener noreferrer', target: '_blank' })
    expect(elements(html, 'p')[0]?.text).toBe('Please confirm or write to help@shop.example. Top')
  })

  test('inline cid: images stay as they are, unmarked; remote images stay, marked', () => {
    const [inline] = elements(sanitizeHtml(benignMail.inlineImage), 'img')
    expect(inline?.attrs).toMatchObject({
      src: 'cid:logo@shop.example',
      alt: 'Shop logo',
      width: '120',
      height: '40',
    })
    expect(inline?.attrs.style).toContain('display:block')
    expect(inline?.attrs).not.toHaveProperty(REMOTE_MARK)
    const [remote] = elements(sanitizeHtml(benignMail.remoteImage), 'img')
    expect(remote?.attrs).toEqual({
      src: 'https://cdn.shop.example/logo.png',
      alt: 'Logo',
      width: '100',
      [REMOTE_MARK]: '',
    })
  })

  test('Outlook paragraphs, colours, gradients and calc() keep their CSS', () => {
    const outlook = elements(sanitizeHtml(benignMail.outlook), 'p')[0]
    expect(outlook?.text).toBe('Hi team,')
    expect(outlook?.attrs.class).toBe('MsoNormal')
    for (const declaration of ['margin:0cm', 'font-size:11.0pt', 'font-family:"Calibri",sans-serif'])
      expect(outlook?.attrs.style).toContain(declaration)
    const box = elements(sanitizeHtml(benignMail.colours), 'div')[0]
    expect(box?.text).toBe('Boxed text')
    for (const declaration of [
      'background-color:#f4f4f4',
      'color:rgb(51, 51, 51)',
      'border:1px solid #dddddd',
      'border-radius:4px',
      'width:calc(100% - 20px)',
      'background:linear-gradient(#fff, #eee)',
    ])
      expect(box?.attrs.style).toContain(declaration)
  })

  test('headings, lists, quotes and preformatted text stay', () => {
    const html = sanitizeHtml(benignMail.structure)
    expect(elements(html, 'h1')[0]).toEqual({ attrs: { style: 'text-align:center' }, text: 'Welcome' })
    expect(elements(html, 'li').map((item) => item.text)).toEqual(['One', 'Two'])
    expect(elements(html, 'blockquote')[0]?.attrs.style).toContain('border-left:2px solid #ccc')
    expect(elements(html, 'pre')[0]?.text).toBe('code  block')
  })

  test('CJK text and an escaped font name stay readable', () => {
    const [span] = elements(sanitizeHtml(benignMail.cjkFont), 'span')
    expect(span?.text).toBe('你好')
    expect(problemsIn(sanitizeHtml(benignMail.cjkFont))).toEqual([])
  })
})
