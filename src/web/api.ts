// The web inbox's client of the public API: the same routes and credentials any API client uses.

import type { AttachmentInfo, MailAddress } from '#lib/mail.ts'
import type { MessageSummary } from '#lib/types.ts'

/** A mailbox as the page keeps it (localStorage): enough to read it again after a reload. */
export interface Inbox {
  address: string
  token: string
  /** ISO 8601. */
  expiresAt: string
}

/** A row of the list: the API's summary, or what a live event said before the list was read again. */
export type Row = Pick<MessageSummary, 'id' | 'from' | 'subject' | 'receivedAt' | 'otp' | 'link'>

/** The parts of GET /v1/messages/{id} the page shows. */
export interface MessageDetail extends Row {
  to: MailAddress[]
  text: string | null
  safeHtml: string | null
  attachments: AttachmentInfo[]
}

/** An API answer other than 2xx, with the problem+json detail when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

const mailboxPath = (address: string) => `/v1/mailboxes/${encodeURIComponent(address)}`

async function call<T>(path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers = new Headers(init.headers)
  if (init.token) headers.set('authorization', `Bearer ${init.token}`)
  if (init.body) headers.set('content-type', 'application/json')
  const response = await fetch(path, { ...init, headers })
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { detail?: string; title?: string } | null
    throw new ApiError(response.status, problem?.detail ?? problem?.title ?? `HTTP ${response.status}`)
  }
  return (await response.json()) as T
}

const inboxOf = (mailbox: { address: string; expiresAt: string }, token: string): Inbox => ({
  address: mailbox.address,
  token,
  expiresAt: mailbox.expiresAt,
})

/** POST /v1/mailboxes, anonymously: a random address, or `localPart@domain`. */
export async function createInbox(choice: { localPart?: string; domain?: string } = {}): Promise<Inbox> {
  const created = await call<{ address: string; expiresAt: string; token: string }>('/v1/mailboxes', {
    method: 'POST',
    body: JSON.stringify(choice),
  })
  return inboxOf(created, created.token)
}

/** GET /v1/mailboxes/{address}: the mailbox still lives (its expiry may have moved). */
export async function readInbox(inbox: Inbox): Promise<Inbox> {
  return inboxOf(await call(mailboxPath(inbox.address), { token: inbox.token }), inbox.token)
}

/** PATCH /v1/mailboxes/{address} with a new lifetime counted from now. */
export async function extendInbox(inbox: Inbox, ttlSeconds: number): Promise<Inbox> {
  const changed = await call<{ address: string; expiresAt: string }>(mailboxPath(inbox.address), {
    method: 'PATCH',
    token: inbox.token,
    body: JSON.stringify({ ttlSeconds }),
  })
  return inboxOf(changed, inbox.token)
}

export async function listDomains(): Promise<string[]> {
  const { domains } = await call<{ domains: { name: string }[] }>('/v1/domains')
  return domains.map((domain) => domain.name)
}

/** The newest messages (one page: a disposable inbox rarely holds more). */
export async function listMessages(inbox: Inbox): Promise<Row[]> {
  const page = await call<{ items: Row[] }>(`${mailboxPath(inbox.address)}/messages?limit=100`, {
    token: inbox.token,
  })
  return page.items
}

export function readMessage(inbox: Inbox, id: string): Promise<MessageDetail> {
  return call(`/v1/messages/${encodeURIComponent(id)}`, { token: inbox.token })
}

/** An attachment's bytes: fetched with the token (a plain link cannot send the Authorization header). */
export async function attachmentBlob(inbox: Inbox, messageId: string, attachmentId: string): Promise<Blob> {
  const response = await fetch(
    `/v1/messages/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(attachmentId)}`,
    { headers: { authorization: `Bearer ${inbox.token}` } },
  )
  if (!response.ok)
    throw new ApiError(response.status, `The attachment could not be read (${response.status})`)
  return response.blob()
}

/** The event stream's URL: EventSource sends no headers, so the token travels as access_token. */
export function eventsUrl(inbox: Inbox, lastEventId: number | null): string {
  const query = new URLSearchParams({ access_token: inbox.token })
  if (lastEventId !== null) query.set('lastEventId', String(lastEventId))
  return `${mailboxPath(inbox.address)}/events?${query}`
}
