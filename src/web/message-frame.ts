// The document of a message's sandboxed iframe: the API's sanitised HTML with its own Content-Security-Policy.
//
// An iframe's srcdoc inherits the page's policy, which forbids inline style; the message's style
// attributes (and any <style> block) are moved into one data: style sheet (which the page's policy allows in style-src)
// so mail keeps its look. The frame's own policy blocks remote images unless the user allowed them.

/** Inside the frame: nothing but its own styles, fonts and images as data, and remote images if allowed. */
export function frameContentSecurityPolicy(remoteImages: boolean): string {
  const images = remoteImages ? 'data: http: https:' : 'data:'
  return `default-src 'none'; style-src data:; font-src data:; img-src ${images}; form-action 'none'; base-uri 'none'`
}

/** Does the HTML ask for anything remote (images, backgrounds)? Then the page offers to load it. */
export function hasRemoteContent(html: string): boolean {
  // The sanitiser marks remote images; styles and other attributes are looked at too.
  return (
    html.includes('data-remote-image') ||
    /(?:src|srcset|background|poster)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(\s*["']?\s*(?:https?:)?\/\//i.test(
      html,
    )
  )
}

const base64 = (text: string) => {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/**
 * A style attribute as declarations for a rule, each made !important (standing in for the precedence a
 * style attribute has over style sheets). Read as text: this document's CSP (inherited by DOMParser's
 * documents) keeps the CSS parser from reading style attributes. The sanitiser has already dropped
 * escapes, comments and anything that loads or runs; a declaration that could leave its rule is dropped.
 */
function styleDeclarations(style: string): string[] {
  const declarations: string[] = []
  for (const declaration of style.split(';')) {
    const colon = declaration.indexOf(':')
    const property = declaration.slice(0, colon).trim().toLowerCase()
    const value = declaration
      .slice(colon + 1)
      .trim()
      .replace(/\s*!important$/i, '')
    if (colon < 0 || !/^-?[a-z][a-z-]*$/.test(property) || value === '' || /[{}<>]/.test(value)) continue
    declarations.push(`${property}:${value} !important`)
  }
  return declarations
}

/**
 * The srcdoc for `safeHtml`. DOMParser builds an inert document (no script runs, nothing is fetched),
 * so rewriting it here is safe; the result is only ever shown inside the sandbox.
 */
export function frameDocument(safeHtml: string, remoteImages: boolean): string {
  const doc = new DOMParser().parseFromString(safeHtml, 'text/html')
  for (const element of doc.querySelectorAll('meta, base, link, script')) element.remove()
  const rules: string[] = []
  for (const style of doc.querySelectorAll('style')) {
    rules.push(style.textContent ?? '')
    style.remove()
  }
  let count = 0
  for (const element of doc.querySelectorAll('[style]')) {
    const declarations = styleDeclarations(element.getAttribute('style') ?? '')
    element.removeAttribute('style')
    if (declarations.length === 0) continue
    const key = String(count++)
    element.setAttribute('data-ephemail-style', key)
    rules.push(`[data-ephemail-style="${key}"]{${declarations.join(';')}}`)
  }
  const head = doc.head
  const add = (tag: string, attributes: Record<string, string>) => {
    const element = doc.createElement(tag)
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value)
    head.append(element)
  }
  // The policy first, so it governs everything after it.
  head.replaceChildren()
  add('meta', { charset: 'utf-8' })
  add('meta', { 'http-equiv': 'Content-Security-Policy', content: frameContentSecurityPolicy(remoteImages) })
  add('meta', { name: 'referrer', content: 'no-referrer' })
  // Links open in a new tab (the sandbox allows popups, never navigating the page itself).
  add('base', { target: '_blank' })
  add('link', {
    rel: 'stylesheet',
    href: `data:text/css;base64,${base64(`body{margin:12px;font:15px/1.5 system-ui,sans-serif;color:#111;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}\n${rules.join('\n')}`)}`,
  })
  return `<!doctype html>${doc.documentElement.outerHTML}`
}
