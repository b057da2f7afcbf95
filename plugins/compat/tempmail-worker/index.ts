// tempmail-worker compatibility: the TempMail (tempmail-worker) API shape (x-api-key, {success,data|error,ts} envelope, /api/otp) over the core.

import { Elysia, type TSchema, t } from 'elysia'
import type { CredentialStyle } from '#contracts/auth.ts'
import { type CompatApi, type CompatApiFactory, problemSlug } from '#core/compat.ts'
import { usableDomains } from '#core/domains.ts'
import { clearMailbox, createMailbox, findMailbox, listMessages } from '#core/mailboxes.ts'
import { deleteMessage, findLatestOtp, getMessage } from '#core/messages.ts'
import { htmlToText } from '#lib/extract/index.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import type { Mailbox, StoredMessage } from '#lib/types.ts'
import { createHeaderStyle } from '#plugins/auth/header/index.ts'

export const name = 'tempmail-worker'

const TAG = 'TempMail (tempmail-worker) compatibility'
/** The API version the document describes; GET /health reports it, as the original does. */
const API_VERSION = '1.0.0'
/** The document: an inbox answer lists up to 50 messages, newest first. */
const INBOX_LIMIT = 50
/** The document's field limits, in characters (UTF-16 code units, as the original's JavaScript counts). */
const TEXT_LIMIT = 5000
const HTML_LIMIT = 50_000
const NO_OTP = 'No OTP code found in any inbox emails'
const NO_DOMAINS = 'No domains available for this account'

/**
 * The document's statuses are 200, 400, 401, 404, 429 and 503: a wrong scope is an invalid key (401),
 * an unknown method is an absent resource (404), and every other refusal of the request is a 400.
 */
function statusOf(status: number, slug: string): number {
  // Only POST /api/generate can meet it (it names no domain): the key may use none.
  if (slug === 'domain-not-allowed') return 503
  if (status >= 500 || status === 401 || status === 404 || status === 429) return status
  if (status === 403) return 401
  return status === 405 ? 404 : 400
}

/** The first `limit` characters, without leaving half of a surrogate pair at the cut. */
function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text
  const cut = text.slice(0, limit)
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut
}

/** Plain text of a message; an HTML-only message gets the text the code extractor reads from its HTML. */
function textOf(message: StoredMessage): string {
  const parsed = message.parsed
  const text = parsed?.text ?? (parsed?.html ? htmlToText(parsed.html) : '')
  return truncate(text, TEXT_LIMIT)
}

const ok = <T>(data: T) => ({ success: true as const, data, ts: new Date().toISOString() })

const Timestamp = t.String({
  format: 'date-time',
  description: 'When the answer was made (ISO 8601 with milliseconds)',
  examples: ['2026-04-27T14:00:00.000Z'],
})

/** The success envelope around `data`. */
const Envelope = (data: TSchema) => t.Object({ success: t.Literal(true), data, ts: Timestamp })

const ErrorEnvelope = t.Object(
  {
    success: t.Literal(false),
    error: t.String({ examples: ['No mailbox james47@mail.example.com (it may have expired)'] }),
    ts: Timestamp,
  },
  { description: 'The TempMail error envelope' },
)

const AddressParams = t.Object({
  address: t.String({
    description: 'Full email address (URL-encoded)',
    examples: ['james47%40mail.example.com'],
  }),
})
const IdParams = t.Object({ id: t.String({ description: 'Email UUID from the inbox list' }) })

const Generated = t.Object({
  email: t.String({ examples: ['james47@mail.example.com'] }),
  domain: t.String({ examples: ['mail.example.com'] }),
  username: t.String({ examples: ['james47'] }),
  expires_in_hours: t.Number({ description: 'Lifetime of the mailbox in hours', examples: [6] }),
})

const EmailFields = {
  id: t.String({ format: 'uuid' }),
  from_address: t.String({ description: "Sender address ('' when the message names none)" }),
  subject: t.String(),
  created_at: t.String({ format: 'date-time', description: 'When the email was received' }),
  expires_at: t.String({
    format: 'date-time',
    description: 'When the email is deleted: with its mailbox, when that expires',
  }),
  text_content: t.String({ description: `Plain-text body (first ${TEXT_LIMIT} characters)` }),
}
const InboxEmail = t.Object(EmailFields)
const Inbox = t.Object({
  address: t.String(),
  count: t.Integer({ description: 'Number of emails listed' }),
  emails: t.Array(InboxEmail, { description: `Up to ${INBOX_LIMIT} emails, newest first` }),
})
const FullEmail = t.Object({
  ...EmailFields,
  to_address: t.String({ description: 'The mailbox the email was delivered to' }),
  html_content: t.Union([t.String(), t.Null()], {
    description: `Sanitised HTML body (first ${HTML_LIMIT} characters), null if none`,
  }),
  size_bytes: t.Integer({ description: 'Raw email size in bytes' }),
})
const Otp = t.Union([
  t.Object({
    found: t.Literal(true),
    otp: t.String({ examples: ['847291'] }),
    email_id: t.String({ format: 'uuid' }),
    from: t.String({ examples: ['noreply@openai.com'] }),
    subject: t.String({ examples: ['Your ChatGPT login code'] }),
    received_at: t.String({ format: 'date-time' }),
  }),
  t.Object({ found: t.Literal(false), otp: t.Null(), message: t.Literal(NO_OTP) }),
])

/** The email fields an inbox lists; `mailbox` gives the expiry, since a message dies with its mailbox. */
function emailJson(message: StoredMessage, mailbox: Mailbox) {
  return {
    id: message.id,
    from_address: message.from?.address ?? '',
    subject: message.subject ?? '',
    created_at: message.receivedAt,
    expires_at: mailbox.expiresAt.toISOString(),
    text_content: textOf(message),
  }
}

/** TempMail keys travel as `x-api-key`; Ephemail's API keys (eph_…), the admin key and mailbox tokens work there. */
function credentialStyles(): CredentialStyle[] {
  return [{ ...createHeaderStyle(), securityScheme: null }]
}

export const create: CompatApiFactory = ({ core, authenticator, parseBody, prefix }) => {
  const auth = authenticator(credentialStyles())
  const detail = (operationId: string, summary: string, description: string) => ({
    tags: [TAG],
    operationId,
    summary,
    description,
  })
  const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 404: ErrorEnvelope }

  const routes = new Elysia({ name: `compat.${name}`, prefix })
    .onParse(({ request, contentType }) => parseBody(request, contentType ?? ''))
    // Registered before the key check below: the health probe is open to all.
    .get('/health', () => ok({ status: 'ok' as const, service: 'TempMail' as const, version: API_VERSION }), {
      response: {
        200: Envelope(
          t.Object({
            status: t.Literal('ok'),
            service: t.Literal('TempMail'),
            version: t.String({ description: 'The TempMail API version emulated', examples: [API_VERSION] }),
          }),
        ),
      },
      detail: {
        ...detail('tempmailWorkerHealth', 'Health check', 'No authentication required.'),
        security: [],
      },
    })
    .derive(async ({ request }) => {
      const principal = await auth.authenticate(request)
      if (principal === null) throw unauthorized('Missing API key: send it in the x-api-key header')
      return { principal }
    })
    .post(
      '/api/generate',
      async ({ principal }) => {
        const { mailbox } = await createMailbox(core, principal, {})
        const lifetimeMs = mailbox.expiresAt.getTime() - mailbox.createdAt.getTime()
        return ok({
          email: mailbox.address,
          domain: mailbox.domain,
          username: mailbox.localPart,
          expires_in_hours: lifetimeMs / 3_600_000,
        })
      },
      {
        response: { 200: Envelope(Generated), ...errors, 503: ErrorEnvelope },
        detail: detail(
          'tempmailWorkerGenerate',
          'Generate a temporary email address',
          'A random address on a domain the key may use (public ones first); any request body is ignored. 503 when the key may use no domain.',
        ),
      },
    )
    .get(
      '/api/inbox/:address',
      async ({ principal, params }) => {
        const mailbox = await findMailbox(core, principal, params.address)
        const page = await listMessages(core, mailbox, { limit: INBOX_LIMIT })
        // The mailbox is the caller's (findMailbox checked it) and these are its messages: read them as such.
        const now = core.now()
        const messages = await Promise.all(page.items.map((item) => core.storage.getMessage(item.id, now)))
        const emails = messages.flatMap((message) => (message ? [emailJson(message, mailbox)] : []))
        return ok({ address: mailbox.address, count: emails.length, emails })
      },
      {
        params: AddressParams,
        response: { 200: Envelope(Inbox), ...errors },
        detail: detail(
          'tempmailWorkerInbox',
          'Read an inbox',
          `Up to ${INBOX_LIMIT} emails, newest first, each with its plain text (first ${TEXT_LIMIT} characters).`,
        ),
      },
    )
    .delete(
      '/api/inbox/:address',
      async ({ principal, params }) => {
        const mailbox = await findMailbox(core, principal, params.address, 'write')
        await clearMailbox(core, principal, mailbox.address)
        return ok({ cleared: true as const, address: mailbox.address })
      },
      {
        params: AddressParams,
        response: {
          200: Envelope(t.Object({ cleared: t.Literal(true), address: t.String() })),
          ...errors,
        },
        detail: detail(
          'tempmailWorkerClearInbox',
          'Delete every email of an inbox',
          'The mailbox stays; its emails go.',
        ),
      },
    )
    .get(
      '/api/email/:id',
      async ({ principal, params }) => {
        const message = await getMessage(core, principal, params.id)
        const mailbox = await core.storage.findLiveMailboxById(message.mailboxId, core.now())
        // getMessage saw it live a moment ago; a mailbox expiring in between is a vanished email.
        if (!mailbox) throw new ProblemError(404, 'not-found', `No message ${params.id}`)
        const html = message.safeHtml
        return ok({
          ...emailJson(message, mailbox),
          to_address: mailbox.address,
          html_content: html ? truncate(html, HTML_LIMIT) : null,
          size_bytes: message.size,
        })
      },
      {
        params: IdParams,
        response: { 200: Envelope(FullEmail), ...errors },
        detail: detail(
          'tempmailWorkerEmail',
          'Read one email',
          `Plain text (first ${TEXT_LIMIT} characters) and sanitised HTML (first ${HTML_LIMIT}, null if none).`,
        ),
      },
    )
    .delete(
      '/api/email/:id',
      async ({ principal, params }) => {
        await deleteMessage(core, principal, params.id)
        return ok({ deleted: true as const })
      },
      {
        params: IdParams,
        response: { 200: Envelope(t.Object({ deleted: t.Literal(true) })), ...errors },
        detail: detail('tempmailWorkerDeleteEmail', 'Delete one email', 'By its id.'),
      },
    )
    .get(
      '/api/domains',
      async ({ principal }) => {
        const domains = await usableDomains(core, principal)
        return ok({ domains: domains.map((domain) => ({ domain: domain.name })) })
      },
      {
        response: {
          200: Envelope(
            t.Object({
              domains: t.Array(t.Object({ domain: t.String({ examples: ['mail.example.com'] }) })),
            }),
          ),
          ...errors,
        },
        detail: detail(
          'tempmailWorkerDomains',
          'List the domains the key may use',
          'Public domains plus the private ones granted to the key; empty when it may use none.',
        ),
      },
    )
    .get(
      '/api/otp/:address',
      async ({ principal, params }) => {
        const mailbox = await findMailbox(core, principal, params.address)
        const latest = await findLatestOtp(core, mailbox, null)
        let hit = latest?.otp
          ? { ...latest, otp: latest.otp, receivedAt: latest.receivedAt.toISOString() }
          : null
        if (latest && !hit) {
          // The newest message with a finding has only a link: an older code in the inbox still counts.
          const { items } = await listMessages(core, mailbox, { limit: INBOX_LIMIT })
          const older = items.find((item) => item.otp !== null)
          if (older?.otp) hit = { ...older, messageId: older.id, otp: older.otp }
        }
        if (!hit) return ok({ found: false as const, otp: null, message: NO_OTP })
        return ok({
          found: true as const,
          otp: hit.otp,
          email_id: hit.messageId,
          from: hit.from?.address ?? '',
          subject: hit.subject ?? '',
          received_at: hit.receivedAt,
        })
      },
      {
        params: AddressParams,
        response: { 200: Envelope(Otp), ...errors },
        detail: detail(
          'tempmailWorkerOtp',
          'The newest one-time code of an inbox',
          "The code Ephemail's extractor found in the newest email that has one (any length it recognises); found: false until one arrives and is processed: keep polling.",
        ),
      },
    )

  return {
    name,
    prefix,
    routes,
    auth,
    renderError(problem, headers) {
      const slug = problemSlug(problem)
      const status = statusOf(problem.status, slug)
      const body = {
        success: false,
        error: status === 503 && slug === 'domain-not-allowed' ? NO_DOMAINS : problem.detail,
        ts: new Date().toISOString(),
      }
      return new Response(JSON.stringify(body), {
        status,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    },
    // No rateLimitHeaders: the document says key requests are unmetered; Ephemail still meters the
    // key's plan and says so in its native X-RateLimit-* and RateLimit headers.
    openapi: {
      tag: {
        name: TAG,
        description:
          'The TempMail (tempmail-worker) API shape (EPHEMAIL_COMPAT=tempmail-worker, under /tempmail-worker by default): keys as x-api-key',
      },
      securitySchemes: {
        tempmailWorkerKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: 'An Ephemail API key (eph_…)',
        },
      },
      errorSchema: { name: 'TempmailWorkerError', schema: ErrorEnvelope },
    },
  } satisfies CompatApi
}
