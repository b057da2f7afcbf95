// tempmail-io compatibility: the tempmail.io API shape (/v1/*.php with ?key=, {error} envelope, its webhook and WebSocket payload) over the core.

import { Elysia, t } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import { registerDomain } from '#core/admin-domains.ts'
import type { Authenticator } from '#core/authenticate.ts'
import type { CompatApi, CompatApiFactory, WebhookPayloadBuilder } from '#core/compat.ts'
import { createMailbox, findMailbox, listMessages } from '#core/mailboxes.ts'
import { getMessage } from '#core/messages.ts'
import { registerWebhook } from '#core/webhooks.ts'
import type { MessageProcessedEvent } from '#lib/events.ts'
import { htmlToText } from '#lib/extract/html-to-text.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import { BodyTooLargeError, readCapped } from '#lib/read-capped.ts'
import { createQueryStyle } from '#plugins/auth/query/index.ts'

export const name = 'tempmail-io'

const TAG = 'tempmail.io compatibility'
/** The `format` of webhooks registered here: their deliveries carry the document's payload. */
const WEBHOOK_FORMAT = name
/** Messages inbox.php lists (the newest): the native list's largest page. */
const INBOX_LIMIT = 100

/** The document's times look like `2026-03-07T13:05:22Z`: ISO 8601 in UTC, whole seconds. */
const isoSeconds = (iso: string) => `${iso.slice(0, 19)}Z`

/**
 * The body of a webhook delivery and of a WebSocket push, exactly the document's example shape. Sent once
 * the message is processed (so `otp` and `confirmation_link` are known), under the document's event name.
 */
export function tempmailIoPayload(event: MessageProcessedEvent, address: string) {
  return {
    event: 'message.received',
    id: event.messageId,
    email: address,
    sender: event.from?.address ?? '',
    subject: event.subject ?? '',
    otp: event.otp,
    confirmation_link: event.link,
    received_at: isoSeconds(event.receivedAt),
  }
}

const buildWebhookPayload: WebhookPayloadBuilder = (event, address) =>
  JSON.stringify(tempmailIoPayload(event, address))

/** Collected by the server registry: webhooks registered with format `tempmail-io` get this body. */
export const webhookPayloads: Record<string, WebhookPayloadBuilder> = {
  [WEBHOOK_FORMAT]: buildWebhookPayload,
}

const ErrorEnvelope = t.Object(
  { error: t.String({ examples: ['No mailbox k9x2m7@tempmail.io (it may have expired)'] }) },
  {
    description:
      'The tempmail.io error answer (undocumented there): a message; the HTTP status says what kind',
  },
)

/** `key` is read by the authenticator (the query, or the form on POST), so it is declared but never used here. */
const KeyField = t.Optional(t.String({ description: 'Your API key (also accepted as a form field on POST)' }))
const EmailField = t.String({ description: 'The temporary address', examples: ['k9x2m7@tempmail.io'] })

const Generated = t.Object({
  email: t.String({ format: 'email', examples: ['k9x2m7@tempmail.io'] }),
  expires_at: t.String({ format: 'date-time', description: 'When the address and its mail are deleted' }),
})
const InboxItem = t.Object({
  id: t.String({ description: 'Message id (opaque)' }),
  sender: t.String({ examples: ['noreply@github.com'], description: 'Sender address; "" when none' }),
  subject: t.String({ examples: ['Verify your email address'], description: '"" when none' }),
  date_received: t.String({ format: 'date-time', examples: ['2026-03-07T13:05:22Z'] }),
})
const Message = t.Object({
  ...InboxItem.properties,
  email: t.String({ format: 'email' }),
  body: t.String({ description: 'The text part (or the HTML part as text); "" when neither' }),
  html: t.Union([t.String(), t.Null()]),
  otp: t.Union([t.String(), t.Null()], { description: 'The one-time code found, null when none' }),
  confirmation_link: t.Union([t.String(), t.Null()], { description: 'The verification link found, or null' }),
})
const WebhookBody = t.Object(
  { key: KeyField, email: EmailField, url: t.String({ description: 'Where deliveries are POSTed' }) },
  { additionalProperties: false },
)
const WebhookCreated = t.Object({
  id: t.String(),
  email: t.String({ format: 'email' }),
  url: t.String(),
  secret: t.String({
    description:
      'Standard Webhooks signing secret (`whsec_…`), shown once: verify `webhook-signature` with it',
  }),
})
const DomainBody = t.Object(
  { key: KeyField, domain: t.String({ examples: ['temp.yourcompany.com'] }) },
  { additionalProperties: false },
)
const DomainRegistered = t.Object({
  domain: t.String(),
  status: t.Union([t.Literal('pending'), t.Literal('verified')], {
    description: 'pending until its MX record points here; then addresses on it can be generated',
  }),
  problems: t.Array(t.String(), { description: 'What the last MX check found wrong' }),
})

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope }

/** Form bodies larger than this are not searched for a key (the document's form is three short fields). */
const FORM_KEY_SCAN_BYTES = 16 * 1024

/** The text of a copy of the request's body, or null past `limit` bytes (the route's parser refuses it then). */
async function peekBody(request: Request, limit: number): Promise<string | null> {
  try {
    return new TextDecoder().decode(await readCapped(request.clone(), limit))
  } catch (error) {
    if (error instanceof BodyTooLargeError) return null
    throw error
  }
}

/**
 * `?key=` on every route, and on POST also a `key` form field (the document's curl sends `-d key=…`).
 * Request metering authenticates before the body is parsed, so the form is read from a copy of the
 * request here (bounded, so a large body is not buffered twice).
 */
function withFormKey(inner: Authenticator): Authenticator {
  const known = new WeakMap<Request, Promise<Principal | null>>()
  async function fromForm(request: Request): Promise<Principal | null> {
    const fromQuery = await inner.authenticate(request)
    if (fromQuery !== null || request.method !== 'POST') return fromQuery
    if (!(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded'))
      return null
    const text = await peekBody(request, FORM_KEY_SCAN_BYTES)
    if (text === null) return null
    const keys = new URLSearchParams(text).getAll('key')
    if (keys.length === 0) return null
    if (keys.length > 1 || keys[0] === '') throw unauthorized('Send one non-empty "key"')
    return inner.principalOf(keys[0] as string)
  }
  function authenticate(request: Request, scope: 'request' | 'stream' = 'request') {
    if (scope === 'stream') return inner.authenticate(request, scope)
    let answer = known.get(request)
    if (answer === undefined) {
      answer = fromForm(request)
      known.set(request, answer)
    }
    return answer
  }
  return {
    ...inner,
    authenticate,
    async requirePrincipal(request, scope) {
      const principal = await authenticate(request, scope)
      if (principal === null) throw inner.credentialRequired(request)
      return principal
    },
  }
}

/** The document's "Premium only": webhooks and domains need an API key (or the admin key), not a mailbox token. */
function requireApiKey(principal: Principal): void {
  if (principal.kind === 'mailbox')
    throw new ProblemError(403, 'forbidden', 'Premium only: this needs an API key, not a mailbox token')
}

const summaryFields = (message: {
  id: string
  from: { address: string } | null
  subject: string | null
  receivedAt: string
}) => ({
  id: message.id,
  sender: message.from?.address ?? '',
  subject: message.subject ?? '',
  date_received: isoSeconds(message.receivedAt),
})

export const create: CompatApiFactory = ({ core, authenticator, events, parseBody, prefix }) => {
  const auth = withFormKey(authenticator([{ ...createQueryStyle(), securityScheme: null }]))
  const requireCaller = async (request: Request) => {
    const principal = await auth.authenticate(request)
    if (principal === null)
      throw unauthorized('Send your API key as ?key= (or as a "key" form field on POST)')
    return principal
  }
  /** What a WebSocket upgrade found, for its open handler. */
  const upgrades = new WeakMap<Request, { principal: Principal; mailboxId: string; address: string }>()
  const sockets = new WeakMap<object, { unsubscribe(): void } | 'closed'>()

  const routes = new Elysia({ name: `compat.${name}`, prefix })
    .onParse(({ request, contentType }) => parseBody(request, contentType ?? ''))
    // The credential is read from the URL by the authenticator; the query schemas list it only for the docs.
    .derive(async ({ request }) => ({ principal: await requireCaller(request) }))
    .get(
      '/v1/generate_email.php',
      async ({ principal, query }) => {
        const { mailbox } = await createMailbox(
          core,
          principal,
          query.domain === undefined ? {} : { domain: query.domain },
        )
        return { email: mailbox.address, expires_at: mailbox.expiresAt.toISOString() }
      },
      {
        query: t.Object({
          key: KeyField,
          domain: t.Optional(
            t.String({ description: 'A domain your key may use (e.g. one registered here)' }),
          ),
        }),
        response: { 200: Generated, ...errors, 422: ErrorEnvelope },
        detail: {
          tags: [TAG],
          operationId: 'tempmailIoGenerateEmail',
          summary: 'Generate a temporary address',
          description: 'A random address on `domain`, or on a random domain the key may use.',
        },
      },
    )
    .get(
      '/v1/inbox.php',
      async ({ principal, query }) => {
        const mailbox = await findMailbox(core, principal, query.email)
        const page = await listMessages(core, mailbox, { limit: INBOX_LIMIT })
        return page.items.map(summaryFields)
      },
      {
        query: t.Object({ key: KeyField, email: EmailField }),
        response: { 200: t.Array(InboxItem, { description: 'Newest first' }), ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailIoInbox',
          summary: 'List the messages of an address',
          description: `The newest ${INBOX_LIMIT} messages, newest first.`,
        },
      },
    )
    .get(
      '/v1/read.php',
      async ({ principal, query }) => {
        const mailbox = await findMailbox(core, principal, query.email)
        const message = await getMessage(core, principal, query.id)
        // A message of another mailbox is not this address's: as absent as one that does not exist.
        if (message.mailboxId !== mailbox.id)
          throw new ProblemError(404, 'not-found', `No message ${query.id}`)
        const html = message.parsed?.html ?? null
        return {
          ...summaryFields(message),
          email: mailbox.address,
          body: message.parsed?.text ?? (html === null ? '' : htmlToText(html)),
          html,
          otp: message.otp,
          confirmation_link: message.link,
        }
      },
      {
        query: t.Object({ key: KeyField, email: EmailField, id: t.String({ description: 'Message id' }) }),
        response: { 200: Message, ...errors },
        detail: {
          tags: [TAG],
          operationId: 'tempmailIoRead',
          summary: 'Read one message, with its code and link pre-parsed',
          description: '`otp` and `confirmation_link` are null until found (or when the message has none).',
        },
      },
    )
    .post(
      '/v1/webhook.php',
      async ({ principal, body }) => {
        requireApiKey(principal)
        const { webhook, secret } = await registerWebhook(core, principal, {
          url: body.url,
          address: body.email,
          format: WEBHOOK_FORMAT,
        })
        return { id: webhook.id, email: webhook.address as string, url: webhook.url, secret }
      },
      {
        body: WebhookBody,
        response: { 200: WebhookCreated, ...errors, 422: ErrorEnvelope },
        detail: {
          tags: [TAG],
          operationId: 'tempmailIoWebhook',
          summary: 'Register a webhook for an address (API keys only)',
          description:
            'Each processed message is POSTed as `{event:"message.received", id, email, sender, subject, otp, confirmation_link, received_at}`, signed with Standard Webhooks headers.',
        },
      },
    )
    .post(
      '/v1/domains.php',
      async ({ principal, body }) => {
        requireApiKey(principal)
        const registered = await registerDomain(core, principal, {
          name: body.domain,
          type: 'custom',
          // Registered by a key: only that key may generate addresses on it.
          ...(principal.kind === 'key' ? { privateToKeys: [principal.keyId] } : {}),
        })
        return { domain: registered.name, status: registered.status, problems: registered.problems }
      },
      {
        body: DomainBody,
        response: { 200: DomainRegistered, ...errors, 409: ErrorEnvelope, 422: ErrorEnvelope },
        detail: {
          tags: [TAG],
          operationId: 'tempmailIoRegisterDomain',
          summary: 'Register a custom domain (API keys with the admin scope)',
          description:
            'Point its MX record at this server first; it receives mail (and takes `domain=`) once the check passes.',
        },
      },
    )
    .ws('/v1/ws.php', {
      query: t.Object({ key: KeyField, email: EmailField }),
      async beforeHandle({ request, principal, query }) {
        const mailbox = await findMailbox(core, principal, query.email)
        upgrades.set(request, { principal, mailboxId: mailbox.id, address: mailbox.address })
      },
      async open(ws) {
        const upgrade = upgrades.get(ws.data.request)
        if (!upgrade) return void ws.close(1011, 'no mailbox')
        const subscription = await events.subscribe(
          upgrade.mailboxId,
          (event) => {
            if (event.type === 'message.processed')
              ws.send(JSON.stringify(tempmailIoPayload(event, upgrade.address)))
            else if (event.type === 'mailbox.expired') ws.close(1000, `mailbox ${event.reason}`)
          },
          () => ws.close(1001, 'server shutting down'),
          upgrade.principal.kind === 'key' ? upgrade.principal.keyId : null,
        )
        if (subscription === null) return void ws.close(1000, 'mailbox expired')
        // Closed while subscribing: let go at once.
        if (sockets.get(ws.raw) === 'closed') subscription.unsubscribe()
        else sockets.set(ws.raw, subscription)
      },
      close(ws) {
        const subscription = sockets.get(ws.raw)
        if (subscription && subscription !== 'closed') subscription.unsubscribe()
        sockets.set(ws.raw, 'closed')
      },
      detail: {
        tags: [TAG],
        operationId: 'tempmailIoWebSocket',
        summary: 'Receive the messages of an address as they arrive (WebSocket)',
        description:
          'Upgrade to a WebSocket; each processed message is pushed as the webhook payload `{event:"message.received", id, email, sender, subject, otp, confirmation_link, received_at}`.',
      },
    })

  return {
    name,
    prefix,
    routes,
    auth,
    // The document names no error shape: `{error}` with the native HTTP status, so `fetch(...).then(r => r.json())`
    // callers get a readable message and `raise_for_status()` callers the usual status.
    renderError(problem, headers) {
      return new Response(JSON.stringify({ error: problem.detail }), {
        status: problem.status,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    },
    openapi: {
      tag: {
        name: TAG,
        description:
          'The tempmail.io API shape (EPHEMAIL_COMPAT=tempmail-io): `?key=` on every route, also a `key` form field on POST',
      },
      securitySchemes: {
        tempmailIoKey: { type: 'apiKey', in: 'query', name: 'key', description: 'An Ephemail API key' },
      },
      errorSchema: { name: 'TempmailIoError', schema: ErrorEnvelope },
    },
  } satisfies CompatApi
}
