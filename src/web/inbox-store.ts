// The inbox the browser keeps (localStorage, no cookies): address, token and expiry, so a reload reopens it.

import type { Inbox } from './api.ts'

const KEY = 'ephemail.inbox'

const isInbox = (value: unknown): value is Inbox =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Inbox).address === 'string' &&
  typeof (value as Inbox).token === 'string' &&
  typeof (value as Inbox).expiresAt === 'string'

/** The kept inbox, or null when there is none, it is unreadable or its time has run out. */
export function loadInbox(now = Date.now()): Inbox | null {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? 'null')
    return isInbox(value) && Date.parse(value.expiresAt) > now ? value : null
  } catch {
    return null
  }
}

export function saveInbox(inbox: Inbox) {
  localStorage.setItem(KEY, JSON.stringify(inbox))
}

/** Calls `changed` when another tab of this browser switches or extends the inbox. */
export function onInboxChange(changed: (inbox: Inbox | null) => void) {
  window.addEventListener('storage', (event: StorageEvent) => {
    if (event.key === KEY) changed(loadInbox())
  })
}
