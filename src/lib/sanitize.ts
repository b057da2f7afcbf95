// HTML sanitising for display (js-xss allow-list): no scripts, event handlers, forms, frames or javascript: URLs.

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
  list.a = [...(list.a ?? []), 'href', 'title']
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
  ])
    delete list[banned]
  return list
})()

const SAFE_URL = /^(https?:|mailto:|cid:|#|\/)/i

const quoted = (value: string) => `"${value.replace(/"/g, '&quot;')}"`

/**
 * Remote images are kept but marked `data-remote-image`, so a client can hold them back
 * (they tell the sender the mail was opened); the raw source stays untouched in storage.
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
    onTagAttr(tag, name, value) {
      if (name === 'href' || name === 'src') {
        // Browsers ignore control characters and spaces inside a scheme ("java\tscript:"): so do we.
        const url = Array.from(value)
          .filter((char) => (char.codePointAt(0) ?? 0) > 0x20)
          .join('')
        if (!SAFE_URL.test(url)) return ''
        if (tag === 'img' && /^https?:/i.test(url)) return `src=${quoted(value)} data-remote-image`
        if (tag === 'a') return `href=${quoted(value)} rel="noopener noreferrer" target="_blank"`
      }
      if (name === 'style' && /expression\(|url\(\s*['"]?\s*javascript:|behavior:/i.test(value)) return ''
      return undefined
    },
  })
  return filter.process(html)
}
