// The web inbox served at /: an address at once, mail live over one stream per browser, read in a sandbox.

import type { StreamEvent } from '#lib/events.ts'
import {
  ApiError,
  attachmentBlob,
  createInbox,
  extendInbox,
  type Inbox,
  listDomains,
  listMessages,
  type Row,
  readInbox,
  readMessage,
} from './api.ts'
import { loadInbox, onInboxChange, saveInbox } from './inbox-store.ts'
import { type Live, type LiveState, startLive } from './live.ts'
import { byId, messageRow, showMessage } from './view.ts'

/** What Extend adds to the time left. */
const EXTEND_SECONDS = 600

let inbox: Inbox | null = null
const rows = new Map<string, Row>()
let openId: string | null = null
let live: Live | null = null

const say = (text: string) => {
  byId('status').textContent = text
}

const failure = (error: unknown) => (error instanceof Error ? error.message : String(error))

async function copy(value: string, what: string) {
  try {
    await navigator.clipboard.writeText(value)
  } catch {
    // Plain http on another host is not a secure context: fall back to a selection.
    const area = document.createElement('textarea')
    area.value = value
    area.className = 'visually-hidden'
    document.body.append(area)
    area.select()
    document.execCommand('copy')
    area.remove()
  }
  say(`${what} copied`)
}

function renderList() {
  const list = byId('messages')
  const focused = document.activeElement?.closest('[data-id]')?.getAttribute('data-id')
  const focusedClass = document.activeElement?.className
  const ordered = [...rows.values()].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))
  list.replaceChildren(...ordered.map((row) => messageRow(row, row.id === openId, { open, copy })))
  byId('empty').hidden = ordered.length > 0
  if (focused && focusedClass)
    list
      .querySelector<HTMLElement>(`[data-id="${CSS.escape(focused)}"] .${focusedClass.split(' ')[0]}`)
      ?.focus()
}

function renderInbox() {
  byId('address').textContent = inbox?.address ?? 'no address'
  const domain = inbox?.address.split('@')[1]
  const select = byId<HTMLSelectElement>('domain')
  if (domain && [...select.options].some((option) => option.value === domain)) select.value = domain
  tick()
}

function tick() {
  const countdown = byId('countdown')
  if (!inbox) {
    countdown.textContent = '—'
    return
  }
  const left = Math.max(0, Math.floor((Date.parse(inbox.expiresAt) - Date.now()) / 1000))
  const hours = Math.floor(left / 3600)
  const minutes = Math.floor((left % 3600) / 60)
  const seconds = String(left % 60).padStart(2, '0')
  countdown.textContent =
    left === 0
      ? 'Expired'
      : `Expires in ${hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}` : minutes}:${seconds}`
  countdown.classList.toggle('soon', left < 60)
}

async function refresh() {
  const shown = inbox
  if (!shown) return
  try {
    const items = await listMessages(shown)
    if (inbox !== shown) return
    for (const item of items) rows.set(item.id, item)
    renderList()
  } catch (error) {
    say(`Could not read the inbox: ${failure(error)}`)
  }
}

function onEvent(event: StreamEvent) {
  if (event.event === 'mailbox.expired') {
    say('This address has expired. Generate a new one.')
    if (inbox) inbox = { ...inbox, expiresAt: new Date().toISOString() }
    tick()
    return
  }
  const { id, from, subject, receivedAt } = event.data
  const known = rows.get(id)
  const extracted = event.event === 'message.processed' ? event.data : null
  rows.set(id, {
    id,
    from,
    subject,
    receivedAt,
    otp: extracted?.otp ?? known?.otp ?? null,
    link: extracted?.link ?? known?.link ?? null,
  })
  renderList()
  if (!known) say(`New message${subject ? `: ${subject}` : ''}`)
  // The open message was shown before its code and clean HTML were ready: show it again.
  if (extracted && openId === id) void open(id, false)
}

const readerActions = {
  copy,
  async download(attachmentId: string, filename: string) {
    if (!inbox || !openId) return
    try {
      const url = URL.createObjectURL(await attachmentBlob(inbox, openId, attachmentId))
      const anchor = document.createElement('a')
      anchor.href = url
      anchor.download = filename
      document.body.append(anchor)
      anchor.click()
      anchor.remove()
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
    } catch (error) {
      say(failure(error))
    }
  },
}

async function open(id: string, focus = true) {
  if (!inbox) return
  try {
    const message = await readMessage(inbox, id)
    openId = id
    showMessage(message, false, readerActions)
    byId('reader').hidden = false
    document.body.classList.add('reading')
    renderList()
    if (focus) byId('reader-subject').focus()
  } catch (error) {
    say(`Could not open the message: ${failure(error)}`)
  }
}

function closeReader() {
  const id = openId
  openId = null
  byId('reader').hidden = true
  byId<HTMLIFrameElement>('reader-frame').removeAttribute('srcdoc')
  document.body.classList.remove('reading')
  renderList()
  if (id)
    byId('messages')
      .querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"] .open`)
      ?.focus()
}

/** Shows `next` (made here, or by another tab when `fromOtherTab`) and follows its stream. */
function switchTo(next: Inbox, fromOtherTab = false) {
  const same = next.address === inbox?.address
  inbox = next
  if (!fromOtherTab) saveInbox(next)
  renderInbox()
  if (same) return
  rows.clear()
  if (openId) closeReader()
  renderList()
  void refresh()
  live?.follow()
}

async function make(choice: { localPart?: string; domain?: string } = {}) {
  try {
    switchTo(await createInbox(choice))
    say(`New address: ${inbox?.address}`)
  } catch (error) {
    say(
      error instanceof ApiError && error.status === 429
        ? 'Too many new addresses from here for now; try again later.'
        : `Could not create the address: ${failure(error)}`,
    )
  }
}

async function extend() {
  if (!inbox) return
  const left = Math.max(0, Math.floor((Date.parse(inbox.expiresAt) - Date.now()) / 1000))
  try {
    switchTo(await extendInbox(inbox, left + EXTEND_SECONDS))
    say('Extended by 10 minutes')
  } catch (error) {
    say(`Could not extend: ${failure(error)}`)
  }
}

const LIVE_LABELS: Record<LiveState, string> = {
  connecting: 'connecting…',
  live: 'live',
  relayed: 'live (another tab)',
  offline: 'offline',
}

async function fillDomains() {
  try {
    const select = byId<HTMLSelectElement>('domain')
    const names = await listDomains()
    select.replaceChildren(...names.map((name) => new Option(name, name)))
    renderInbox()
  } catch (error) {
    say(`Could not read the domains: ${failure(error)}`)
  }
}

async function start() {
  byId('copy-address').addEventListener('click', () => inbox && copy(inbox.address, 'Address'))
  byId('generate').addEventListener('click', () => make())
  byId('extend').addEventListener('click', extend)
  byId('refresh').addEventListener('click', async () => {
    await refresh()
    say('Inbox refreshed')
  })
  byId('close-reader').addEventListener('click', closeReader)
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && openId) closeReader()
  })
  byId<HTMLFormElement>('custom').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = new FormData(event.target as HTMLFormElement)
    void make({ localPart: String(form.get('localPart')).trim(), domain: String(form.get('domain')) })
  })
  void fillDomains()

  let kept = loadInbox()
  if (kept)
    kept = await readInbox(kept).catch((error: unknown) => {
      // Gone (expired, deleted) or its token refused: start afresh; anything else keeps what we had.
      if (error instanceof ApiError && (error.status === 401 || error.status === 404)) return null
      return kept
    })
  if (kept) switchTo(kept)
  else await make()
  onInboxChange((changed) => {
    if (changed) switchTo(changed, true)
  })
  live = startLive({
    inbox: () => inbox,
    onEvent,
    onOpen: () => void refresh(),
    onState: (state) => {
      byId('live-state').textContent = LIVE_LABELS[state]
    },
  })
  setInterval(tick, 1000)
}

void start()
