// tempmailg compatibility: the TempMailG user API shape (/api/domains, /api/emails, /api/messages, {status,…} envelopes, ISO-dated X-RateLimit-*) over the core.

import { Elysia, t } from 'elysia'
import type { CredentialStyle } from '#contracts/auth.ts'
import type { CompatApi, CompatApiFactory } from '#core/compat.ts'
import type { CoreDeps } from '#core/context.ts'
import { planOf, usableDomains } from '#core/domains.ts'
import { createMailbox, deleteMailbox, findMailbox, listMessages, updateMailbox } from '#core/mailboxes.ts'
import { deleteMessage, getAttachment, getMessage, setMessageSeen } from '#core/messages.ts'
import type { DomainType } from '#lib/address.ts'
import { sha256Hex } from '#lib/ids.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'
import type { Mailbox, StoredMessage } from '#lib/types.ts'
import { createBearerStyle } from '#plugins/auth/bearer/index.ts'

export const name = 'tempmailg'

const TAG = 'TempMailG compatibility'

/** The document's domain types onto Ephemail's: its free domains are our public ones. */
const TYPE_OF_KIND = { free: 'public', premium: 'premium', custom: 'custom' } as const satisfies Record<
  string,
  DomainType
>
type Kind = keyof typeof TYPE_OF_KIND
const KINDS = Object.keys(TYPE_OF_KIND) as Kind[]
const KIND_OF_TYPE: Record<DomainType, Kind> = { public: 'free', premium: 'premium', custom: 'custom' }
const LABEL_OF_TYPE: Record<DomainType, string> = { public: 'Free', premium: 'Premium', custom: 'Custom' }

/**
 * The mailbox listing shows every message in full; a mailbox holds at most its plan's messagesPerMailbox
 * (500 by default), and this caps what one answer reads for plans without a limit.
 */
const MAX_LISTED_MESSAGES = 500
const LIST_PAGE = 100

/** `2026-06-07T19:47:26+00:00`: the document's dates, whole seconds in UTC with an explicit offset. */
function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`
}

/** `2026-06-07 19:37:26` (UTC): the document's receivedAt. */
function sqlDateTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ')
}

/**
 * The document's mailbox `id` is an integer; Ephemail's is a UUID. No route takes it back (they all take
 * the address), so a stable projection suffices: the first 52 bits of the SHA-256 of the UUID, a
 * positive integer JSON carries exactly (below 2^53), the same on every call and across renames.
 * Hashing, not slicing, because UUIDv7 ids share their leading time bits.
 */
async function integerIdOf(mailbox: Mailbox): Promise<number> {
  return Number.parseInt((await sha256Hex(mailbox.id)).slice(0, 13), 16)
}

async function mailboxData(core: CoreDeps, mailbox: Mailbox, token: string | null) {
  return {
    id: await integerIdOf(mailbox),
    email: mailbox.address,
    domain: mailbox.domain,
    expire_at: isoSeconds(mailbox.expiresAt),
    expires_in_seconds: Math.max(0, Math.round((mailbox.expiresAt.getTime() - core.now().getTime()) / 1000)),
    created_at: isoSeconds(mailbox.createdAt),
    email_token: token,
  }
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.')
  return dot <= 0 ? '' : filename.slice(dot + 1).toLowerCase()
}

/** An attachment's name: its filename, or the one the download route answers to when the sender gave none. */
function attachmentName(attachment: { id: string; filename: string | null }): string {
  return attachment.filename ?? `attachment-${attachment.id}`
}

/**
 * One message as the document shows it. `to` is the mailbox it was delivered to (a Bcc copy has no
 * To header of ours); `content` is the sanitised HTML when there is HTML (sanitised here when the
 * processing job has not run yet), else the text.
 */
function messageData(message: StoredMessage, mailboxAddress: string, attachmentBase: string) {
  const parsed = message.parsed
  const html = parsed?.html ?? null
  return {
    is_seen: message.seen,
    subject: message.subject ?? '',
    from: message.from ? message.from.name || message.from.address : '',
    from_email: message.from?.address ?? '',
    to: mailboxAddress,
    receivedAt: sqlDateTime(message.receivedAt),
    id: message.id,
    html: html !== null,
    content: html !== null ? (message.safeHtml ?? sanitizeHtml(html)) : (parsed?.text ?? ''),
    attachments: (parsed?.attachments ?? []).map((attachment) => {
      const filename = attachmentName(attachment)
      return {
        name: filename,
        extension: extensionOf(filename),
        size: attachment.size,
        url: `${attachmentBase}/api/messages/${message.id}/attachments/${encodeURIComponent(filename)}`,
      }
    }),
  }
}

/** RFC 6266 Content-Disposition with an RFC 5987 UTF-8 name, as the native attachment route sends it. */
function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

const ErrorEnvelope = t.Object(
  {
    status: t.Literal(false),
    message: t.String({ examples: ['No mailbox demo123@example.com (it may have expired)'] }),
  },
  { description: 'The TempMailG error envelope' },
)

const MailboxData = t.Object({
  id: t.Integer({
    description: 'A stable integer derived from the mailbox (Ephemail ids are UUIDs)',
    examples: [2301],
  }),
  email: t.String({ format: 'email', examples: ['randombox@example.com'] }),
  domain: t.String({ examples: ['example.com'] }),
  expire_at: t.String({ examples: ['2026-06-07T19:47:26+00:00'] }),
  expires_in_seconds: t.Integer({ examples: [600] }),
  created_at: t.String({ examples: ['2026-06-07T19:37:26+00:00'] }),
  email_token: t.Nullable(
    t.String({
      description:
        "The mailbox's own Bearer credential, shown when created; on a rename only when the caller sent it",
    }),
  ),
})

const Attachment = t.Object({
  name: t.String({ examples: ['file.txt'] }),
  extension: t.String({ examples: ['txt'] }),
  size: t.Integer({ examples: [91] }),
  url: t.String({ format: 'uri' }),
})

const MessageData = t.Object({
  is_seen: t.Boolean(),
  subject: t.String(),
  from: t.String({ description: "The sender's display name (its address when it has none)" }),
  from_email: t.String(),
  to: t.String({ description: 'The mailbox the message was delivered to' }),
  receivedAt: t.String({ description: 'UTC, YYYY-MM-DD HH:mm:ss', examples: ['2026-06-07 19:37:26'] }),
  id: t.String(),
  html: t.Boolean({ description: 'Whether the message has an HTML body' }),
  content: t.String({ description: 'The sanitised HTML when html is true, else the text' }),
  attachments: t.Array(Attachment),
})

const Deleted = (message: string) => t.Object({ status: t.Literal(true), message: t.Literal(message) })

const EMAIL_DELETED = 'Email has been successfully deleted.'
const MESSAGE_DELETED = 'Message was deleted successfully.'

const errors = { 401: ErrorEnvelope, 404: ErrorEnvelope, 422: ErrorEnvelope }

/** TempMailG keys travel as `Authorization: Bearer`; Ephemail API keys, the admin key and mailbox tokens work. */
function credentialStyles(): CredentialStyle[] {
  return [{ ...createBearerStyle(), securityScheme: null }]
}

export const create: CompatApiFactory = ({ core, authenticator, parseBody, prefix }) => {
  const auth = authenticator(credentialStyles())

  /** The absolute base of attachment URLs: the origin the caller reached, then the layer's prefix. */
  const baseOf = (request: Request) => `${new URL(request.url).origin}${prefix}`

  async function addressOf(mailboxId: string): Promise<string> {
    const mailbox = await core.storage.findLiveMailboxById(mailboxId, core.now())
    return mailbox?.address ?? ''
  }

  const routes = new Elysia({ name: `compat.${name}`, prefix })
    .onParse(({ request, contentType }) => parseBody(request, contentType ?? ''))
    .derive(async ({ request }) => {
      const principal = await auth.authenticate(request)
      if (principal === null) throw unauthorized('Send your API key as Authorization: Bearer <key>')
      return { principal }
    })
    .get(
      '/api/domains',
      async ({ principal, query }) => {
        const type = query.type === undefined ? undefined : TYPE_OF_KIND[query.type]
        const domains = await usableDomains(core, principal, type)
        const allowed = principal.kind === 'admin' ? KINDS.map((kind) => TYPE_OF_KIND[kind]) : null
        return {
          status: true as const,
          data: {
            requested_type: query.type ?? null,
            allowed_types: (allowed ?? planOf(core, principal).domainTypes).map((type) => KIND_OF_TYPE[type]),
            domains: domains.map((domain) => ({
              domain: domain.name,
              type: LABEL_OF_TYPE[domain.type],
              custom: domain.type === 'custom',
            })),
          },
        }
      },
      {
        query: t.Object({
          type: t.Optional(
            t.Union(
              KINDS.map((kind) => t.Literal(kind)),
              { description: 'free (Ephemail: public), premium or custom; absent: every allowed type' },
            ),
          ),
        }),
        response: {
          200: t.Object({
            status: t.Literal(true),
            data: t.Object({
              requested_type: t.Nullable(t.String({ examples: ['free'] })),
              allowed_types: t.Array(t.String(), { examples: [['free']] }),
              domains: t.Array(
                t.Object({
                  domain: t.String({ examples: ['example.com'] }),
                  type: t.String({ description: 'Free, Premium or Custom', examples: ['Free'] }),
                  custom: t.Boolean(),
                }),
              ),
            }),
          }),
          ...errors,
        },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgListDomains',
          summary: 'Domains allowed for the current plan',
          description: "allowed_types are the plan's domain types; free is Ephemail's public type.",
        },
      },
    )
    .post(
      '/api/emails',
      async ({ principal }) => {
        const { mailbox, token } = await createMailbox(core, principal, {})
        return { status: true as const, data: await mailboxData(core, mailbox, token) }
      },
      {
        response: { 200: t.Object({ status: t.Literal(true), data: MailboxData }), ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgCreateEmail',
          summary: 'Create a random mailbox',
          description:
            'A random address on a free (public) domain the key may use, with the default lifetime. email_token is the mailbox token: a Bearer credential for that mailbox alone.',
        },
      },
    )
    .post(
      '/api/emails/:current/:username/:domain',
      async ({ principal, params, request }) => {
        const mailbox = await updateMailbox(core, principal, params.current, {
          localPart: params.username,
          domain: params.domain,
        })
        // Only the token's digest is stored: it can be shown again only to the caller that sent it.
        const token = principal.kind === 'mailbox' ? (auth.styles[0]?.read(request) ?? null) : null
        return { status: true as const, data: await mailboxData(core, mailbox, token) }
      },
      {
        params: t.Object({ current: t.String(), username: t.String(), domain: t.String() }),
        response: { 200: t.Object({ status: t.Literal(true), data: MailboxData }), ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgUpdateEmail',
          summary: 'Rename a mailbox or switch its domain',
          description:
            'The mailbox keeps its messages, lifetime, id and token. email_token is null unless the caller authenticated with that token.',
        },
      },
    )
    .delete(
      '/api/emails/:email',
      async ({ principal, params }) => {
        await deleteMailbox(core, principal, params.email)
        return { status: true as const, message: EMAIL_DELETED }
      },
      {
        params: t.Object({ email: t.String() }),
        response: { 200: Deleted(EMAIL_DELETED), ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgDeleteEmail',
          summary: 'Delete a mailbox',
          description: "Deletes an owned mailbox with all its messages; another key's mailbox is 404.",
        },
      },
    )
    .get(
      '/api/messages',
      async ({ principal, query, request }) => {
        const mailbox = await findMailbox(core, principal, query.email)
        const messages = []
        let before: string | undefined
        while (messages.length < MAX_LISTED_MESSAGES) {
          const page = await listMessages(core, mailbox, { limit: LIST_PAGE, before })
          const full = await Promise.all(page.items.map((item) => getMessage(core, principal, item.id)))
          messages.push(...full.map((message) => messageData(message, mailbox.address, baseOf(request))))
          if (page.nextCursor === null) break
          before = page.nextCursor
        }
        return { status: true as const, mailbox: mailbox.address, messages }
      },
      {
        query: t.Object({ email: t.String({ description: 'The mailbox address' }) }),
        response: {
          200: t.Object({ status: t.Literal(true), mailbox: t.String(), messages: t.Array(MessageData) }),
          ...errors,
        },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgListMessages',
          summary: 'Messages of a mailbox, newest first',
          description: `Each in full; at most the newest ${MAX_LISTED_MESSAGES}.`,
        },
      },
    )
    .get(
      '/api/messages/:id',
      async ({ principal, params, request }) => {
        let message = await getMessage(core, principal, params.id)
        // The document shows a read message as seen; a read-only key reads without marking.
        const mayWrite = principal.kind !== 'key' || principal.scopes.includes('write')
        if (!message.seen && mayWrite) {
          const { seen } = await setMessageSeen(core, principal, params.id, true)
          message = { ...message, seen }
        }
        const address = await addressOf(message.mailboxId)
        return { status: true as const, data: messageData(message, address, baseOf(request)) }
      },
      {
        params: t.Object({ id: t.String() }),
        response: { 200: t.Object({ status: t.Literal(true), data: MessageData }), ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgGetMessage',
          summary: 'Read a message (marks it seen)',
          description:
            "One message of an owned mailbox, in the list's shape; reading marks it seen (a read-only key reads without marking).",
        },
      },
    )
    .delete(
      '/api/messages/:id',
      async ({ principal, params }) => {
        await deleteMessage(core, principal, params.id)
        return { status: true as const, message: MESSAGE_DELETED }
      },
      {
        params: t.Object({ id: t.String() }),
        response: { 200: Deleted(MESSAGE_DELETED), ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailgDeleteMessage',
          summary: 'Delete a message',
          description: "Deletes one message of an owned mailbox; another key's message is 404.",
        },
      },
    )
    .get(
      '/api/messages/:id/attachments/:filename',
      async ({ principal, params }) => {
        const message = await getMessage(core, principal, params.id)
        // Attachments are named by filename here; the first of that name wins, as the listing's URL points there.
        const info = message.parsed?.attachments.find(
          (attachment) => attachmentName(attachment) === params.filename,
        )
        if (!info)
          throw new ProblemError(
            404,
            'not-found',
            `Message ${params.id} has no attachment ${params.filename}`,
          )
        const attachment = await getAttachment(core, principal, params.id, info.id)
        return new Response(attachment.content, {
          headers: {
            'content-type': attachment.info.contentType,
            'content-disposition': contentDisposition(attachmentName(attachment.info)),
            'x-content-type-options': 'nosniff',
          },
        })
      },
      {
        params: t.Object({ id: t.String(), filename: t.String() }),
        detail: {
          tags: [TAG],
          operationId: 'tempmailgGetAttachment',
          summary: 'Download an attachment by filename',
          description: 'The bytes of one attachment of an owned message, found by its file name.',
          responses: {
            200: {
              description: 'The decoded attachment, with the type the sender declared',
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            },
            401: {
              description: 'No or a wrong key',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TempmailgError' } } },
            },
            404: {
              description: 'No such message or attachment visible to this key',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TempmailgError' } } },
            },
          },
        },
      },
    )

  return {
    name,
    prefix,
    routes,
    auth,
    renderError(problem, headers) {
      return new Response(JSON.stringify({ status: false, message: problem.detail }), {
        status: problem.status,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    },
    rateLimitHeaders: ({ limit, remaining, used, resetAt }) => ({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-used': String(used),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': isoSeconds(new Date(Math.ceil(resetAt / 1000) * 1000)),
    }),
    openapi: {
      tag: {
        name: TAG,
        description:
          'The TempMailG user API shape (EPHEMAIL_COMPAT=tempmailg): Ephemail API keys as Authorization: Bearer',
      },
      securitySchemes: {
        tempmailgBearer: { type: 'http', scheme: 'bearer', description: 'An Ephemail API key' },
      },
      errorSchema: { name: 'TempmailgError', schema: ErrorEnvelope },
      headers: {
        'X-RateLimit-Limit': {
          description: 'Requests allowed in the current window',
          schema: { type: 'integer' },
        },
        'X-RateLimit-Used': {
          description:
            'Requests counted in the current window (only 2xx answers when the plan has countFailed: false)',
          schema: { type: 'integer' },
        },
        'X-RateLimit-Remaining': {
          description: 'Requests left in the current window',
          schema: { type: 'integer' },
        },
        'X-RateLimit-Reset': {
          description: 'When the window resets, ISO 8601 with offset (2026-05-01T00:00:00+00:00)',
          schema: { type: 'string' },
        },
      },
    },
  } satisfies CompatApi
}
