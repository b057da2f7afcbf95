// DOM for the inbox: list rows and the reader. Everything from mail goes in as text, never as markup.

import type { MailAddress } from '#lib/mail.ts'
import type { MessageDetail, Row } from './api.ts'
import { frameDocument, hasRemoteContent } from './message-frame.ts'

export const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value)
  if (text !== undefined) made.textContent = text
  return made
}

export const sender = (from: MailAddress | null) =>
  from ? (from.name ? `${from.name} <${from.address}>` : from.address) : '(no sender)'

const shortSender = (from: MailAddress | null) => from?.name || from?.address || '(no sender)'

export function formatTime(iso: string, now = new Date()): string {
  const date = new Date(iso)
  const sameDay = date.toDateString() === now.toDateString()
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })
}

/** The code as a button that copies it. */
export function codeChip(code: string, copy: (value: string, what: string) => void): HTMLButtonElement {
  const chip = element('button', {
    type: 'button',
    class: 'otp',
    'data-testid': 'otp',
    'data-value': code,
    title: `Copy code ${code}`,
  })
  chip.append(element('span', { class: 'otp-value' }, code), element('span', { class: 'otp-hint' }, 'copy'))
  chip.addEventListener('click', (event) => {
    event.stopPropagation()
    copy(code, `Code ${code}`)
  })
  return chip
}

/** One list row: the open button (sender, subject, time) and, once extracted, the code chip. */
export function messageRow(
  row: Row,
  selected: boolean,
  actions: { open(id: string): void; copy(value: string, what: string): void },
): HTMLLIElement {
  const item = element('li', { class: 'message', 'data-testid': 'message', 'data-id': row.id })
  const open = element('button', { type: 'button', class: 'open' })
  if (selected) open.setAttribute('aria-current', 'true')
  open.append(
    element('span', { class: 'from' }, shortSender(row.from)),
    element('time', { class: 'time', datetime: row.receivedAt }, formatTime(row.receivedAt)),
    element('span', { class: 'subject' }, row.subject || '(no subject)'),
  )
  open.addEventListener('click', () => actions.open(row.id))
  item.append(open)
  if (row.otp) item.append(codeChip(row.otp, actions.copy))
  return item
}

const safeLink = (link: string | null) => (link && /^https?:\/\//i.test(link) ? link : null)

const sizeText = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1048576
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${(bytes / 1048576).toFixed(1)} MB`

export interface ReaderActions {
  copy(value: string, what: string): void
  download(attachmentId: string, filename: string): void
}

/** Fills the reader with one message; `showImages` redraws it with remote images allowed. */
export function showMessage(message: MessageDetail, remoteImages: boolean, actions: ReaderActions) {
  byId('reader-subject').textContent = message.subject || '(no subject)'
  byId('reader-meta').textContent =
    `From ${sender(message.from)} · ${new Date(message.receivedAt).toLocaleString()}`
  const buttons = byId('reader-actions')
  buttons.replaceChildren()
  if (message.otp) buttons.append(codeChip(message.otp, actions.copy))
  const link = safeLink(message.link)
  if (link) {
    const open = element(
      'a',
      { class: 'button primary verify', href: link, target: '_blank', rel: 'noopener noreferrer' },
      'Open verification link',
    )
    open.title = link
    buttons.append(open)
  }
  const frame = byId<HTMLIFrameElement>('reader-frame')
  const text = byId('reader-text')
  if (message.safeHtml) {
    if (!remoteImages && hasRemoteContent(message.safeHtml)) {
      const allow = element('button', { type: 'button', id: 'show-images' }, 'Show remote images')
      allow.addEventListener('click', () => {
        showMessage(message, true, actions)
        byId('reader-frame').focus()
      })
      buttons.append(allow)
    }
    frame.srcdoc = frameDocument(message.safeHtml, remoteImages)
    frame.hidden = false
    text.hidden = true
  } else {
    frame.removeAttribute('srcdoc')
    frame.hidden = true
    text.textContent = message.text ?? '(this message has no text)'
    text.hidden = false
  }
  const list = byId('attachments')
  list.replaceChildren(
    ...message.attachments.map((attachment) => {
      const name = attachment.filename || `attachment-${attachment.id}`
      const button = element(
        'button',
        { type: 'button', class: 'download' },
        `Download ${name} (${sizeText(attachment.size)})`,
      )
      button.addEventListener('click', () => actions.download(attachment.id, name))
      const item = element('li')
      item.append(button)
      return item
    }),
  )
  list.hidden = message.attachments.length === 0
}
