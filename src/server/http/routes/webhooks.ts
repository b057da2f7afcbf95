// Webhook routes: register (with a signing secret), list, read, delete, and the recent deliveries of one.

import { Elysia, t } from 'elysia'
import type { Principal } from '#contracts/auth.ts'
import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import { isUuid, uuidv7 } from '#lib/ids.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Webhook, WebhookDelivery, WebhookFilter } from '#lib/types.ts'
import type { Config } from '#server/config.ts'
import type { Access } from '#server/http/access.ts'
import { jsonBodyProblems, problemResponse } from '#server/http/schemas.ts'
import { checkOutboundUrl, OutboundBlockedError } from '#server/webhooks/address-policy.ts'
import { newWebhookSecret } from '#server/webhooks/webhook-delivery.ts'

export interface WebhookRouteDeps {
  storage: Storage
  /** Announces registrations and deletions, so workers' cached webhook lists let go. */
  pubsub: PubSub
  access: Access
  webhooks: Config['webhooks']
  now: () => Date
}

const MAX_URL_LENGTH = 2048

const FilterSchema = t.Object(
  {
    from: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 254,
        description: 'Sender address (exact) or domain (with its subdomains), case-insensitive',
        examples: ['github.com'],
      }),
    ),
    subjectContains: t.Optional(
      t.String({ minLength: 1, maxLength: 200, description: 'Case-insensitive substring of the subject' }),
    ),
    hasOtp: t.Optional(t.Boolean({ description: 'true: only mail with a code; false: only mail without' })),
  },
  {
    additionalProperties: false,
    description: 'Every field given must match; an empty filter matches all mail',
  },
)

const WebhookSchema = t.Object(
  {
    id: t.String({ format: 'uuid' }),
    url: t.String({ format: 'uri' }),
    address: t.Union([t.String(), t.Null()], {
      description: 'The mailbox whose mail is sent; null: every mailbox (admin only)',
    }),
    filter: FilterSchema,
    createdAt: t.String({ format: 'date-time' }),
  },
  { description: 'A registered webhook' },
)

const CreatedWebhookSchema = t.Object(
  {
    ...WebhookSchema.properties,
    secret: t.String({
      description:
        'The Standard Webhooks signing secret (`whsec_…`). Shown only now: verify `webhook-signature` with it.',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    }),
  },
  { description: 'Registered; keep the secret' },
)

const AttemptSchema = t.Object({
  at: t.String({ format: 'date-time' }),
  status: t.Union([t.Integer(), t.Null()], { description: 'HTTP status, null when no answer came' }),
  latencyMs: t.Integer({ description: 'Time to the answer (or to the failure)' }),
  error: t.Union([t.String(), t.Null()]),
})

const DeliverySchema = t.Object({
  id: t.String({ format: 'uuid', description: 'Also the webhook-id header (the same on every retry)' }),
  messageId: t.String({ format: 'uuid' }),
  eventType: t.String({ examples: ['message.processed'] }),
  state: t.Union([t.Literal('pending'), t.Literal('retrying'), t.Literal('delivered'), t.Literal('dead')], {
    description: 'dead: every attempt failed (or the URL is blocked); nothing more will be tried',
  }),
  attempts: t.Array(AttemptSchema),
  createdAt: t.String({ format: 'date-time' }),
  updatedAt: t.String({ format: 'date-time' }),
})

const CreateWebhookBody = t.Object(
  {
    url: t.String({
      minLength: 1,
      maxLength: MAX_URL_LENGTH,
      description: 'http(s) URL that receives POSTs',
    }),
    address: t.Optional(
      t.String({
        description:
          'The mailbox to follow. With a mailbox token: that mailbox (the default). With the admin key: omit for every mailbox.',
      }),
    ),
    filter: t.Optional(FilterSchema),
  },
  {
    additionalProperties: false,
    examples: [{ url: 'https://example.com/hook', filter: { from: 'github.com', hasOtp: true } }],
  },
)

const IdParams = t.Object({ id: t.String({ description: 'Webhook id' }) })

const unauthorizedResponse = problemResponse('No credential, or one that is not valid')
const notFoundResponse = problemResponse('No such webhook visible to this credential')

function webhookJson(webhook: Webhook) {
  return {
    id: webhook.id,
    url: webhook.url,
    address: webhook.address,
    filter: webhook.filter,
    createdAt: webhook.createdAt.toISOString(),
  }
}

function deliveryJson(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    eventType: delivery.eventType,
    state: delivery.state,
    attempts: delivery.attempts,
    createdAt: delivery.createdAt.toISOString(),
    updatedAt: delivery.updatedAt.toISOString(),
  }
}

export function webhookRoutes({ storage, pubsub, access, webhooks: settings, now }: WebhookRouteDeps) {
  const policy = { allowedCidrs: settings.allowCidrs }

  /** The webhook if this principal may see it (its own mailbox's, or any for the admin), else 404. */
  async function visibleWebhook(principal: Principal, id: string): Promise<Webhook> {
    const webhook = isUuid(id) ? await storage.getWebhook(id) : null
    const visible =
      webhook &&
      (principal.kind === 'admin' ||
        (webhook.mailboxId !== null && webhook.mailboxId === principal.mailboxId))
    if (!webhook || !visible) throw new ProblemError(404, 'not-found', `No webhook ${id}`)
    return webhook
  }

  return new Elysia({ name: 'routes.webhooks' })
    .post(
      '/v1/webhooks',
      async ({ body, request, set }) => {
        const principal = await access.requirePrincipal(request)
        let mailboxId: string | null = null
        let address: string | null = null
        if (body.address !== undefined) {
          const mailbox = await access.mailboxFor(principal, body.address)
          mailboxId = mailbox.id
          address = mailbox.address
        } else if (principal.kind === 'mailbox') {
          mailboxId = principal.mailboxId
          address = (await storage.findLiveMailboxById(principal.mailboxId, now()))?.address ?? null
        }
        try {
          await checkOutboundUrl(body.url, policy)
        } catch (error) {
          if (error instanceof OutboundBlockedError)
            throw new ProblemError(422, 'url-not-allowed', error.message)
          const code = (error as { code?: string }).code
          if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA')
            throw new ProblemError(
              422,
              'url-not-allowed',
              `url: the host ${new URL(body.url).hostname} does not resolve (${code}); deliveries could not reach it`,
            )
          throw new ProblemError(422, 'url-not-allowed', `url: ${(error as Error).message}`)
        }
        if (mailboxId !== null && (await storage.countWebhooksOfMailbox(mailboxId)) >= settings.maxPerMailbox)
          throw new ProblemError(
            422,
            'limit-exceeded',
            `A mailbox may have at most ${settings.maxPerMailbox} webhooks (EPHEMAIL_WEBHOOK_MAX_PER_MAILBOX); delete one first`,
          )
        const filter: WebhookFilter = body.filter ?? {}
        const webhook = { id: uuidv7(), mailboxId, url: body.url, filter, createdAt: now() }
        const secret = newWebhookSecret()
        await storage.insertWebhook({ ...webhook, secret })
        await pubsub.publish({ type: 'webhooks.changed', mailboxId })
        set.status = 201
        set.headers.location = `/v1/webhooks/${webhook.id}`
        return { ...webhookJson({ ...webhook, address }), secret }
      },
      {
        // Declared for the document only: the app's own parser (app.ts) runs first and answers.
        parse: 'json',
        body: CreateWebhookBody,
        response: {
          201: CreatedWebhookSchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          404: problemResponse('No such live mailbox visible to this credential'),
          422: problemResponse(
            'The URL is not http(s), resolves to a blocked address (loopback, private, link-local, metadata), or the mailbox has too many webhooks',
          ),
        },
        detail: {
          tags: ['Webhooks'],
          operationId: 'createWebhook',
          summary: 'Register a webhook',
          description:
            'Each processed message that passes the filter is POSTed to `url` as `{type, timestamp, data}` with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 with the returned secret). Delivery is at least once, retried with capped exponential backoff; see the deliveries list. Loopback, private, link-local and metadata addresses are refused (also after redirects) unless EPHEMAIL_WEBHOOK_ALLOW_CIDRS allows them.',
        },
      },
    )
    .get(
      '/v1/webhooks',
      async ({ request }) => {
        const principal = await access.requirePrincipal(request)
        const list = await storage.listWebhooks(principal.kind === 'admin' ? null : principal.mailboxId)
        return { items: list.map(webhookJson) }
      },
      {
        response: { 200: t.Object({ items: t.Array(WebhookSchema) }), 401: unauthorizedResponse },
        detail: {
          tags: ['Webhooks'],
          operationId: 'listWebhooks',
          summary: 'List webhooks (the admin sees all, a mailbox token its own)',
        },
      },
    )
    .get(
      '/v1/webhooks/:id',
      async ({ params, request }) =>
        webhookJson(await visibleWebhook(await access.requirePrincipal(request), params.id)),
      {
        params: IdParams,
        response: { 200: WebhookSchema, 401: unauthorizedResponse, 404: notFoundResponse },
        detail: { tags: ['Webhooks'], operationId: 'getWebhook', summary: 'Get a webhook' },
      },
    )
    .delete(
      '/v1/webhooks/:id',
      async ({ params, request, set }) => {
        const webhook = await visibleWebhook(await access.requirePrincipal(request), params.id)
        await storage.deleteWebhook(webhook.id)
        await pubsub.publish({ type: 'webhooks.changed', mailboxId: webhook.mailboxId })
        set.status = 204
      },
      {
        params: IdParams,
        response: {
          204: t.Void({ description: 'Deleted, with its deliveries; queued retries stop' }),
          401: unauthorizedResponse,
          404: notFoundResponse,
        },
        detail: { tags: ['Webhooks'], operationId: 'deleteWebhook', summary: 'Delete a webhook' },
      },
    )
    .get(
      '/v1/webhooks/:id/deliveries',
      async ({ params, query, request }) => {
        const webhook = await visibleWebhook(await access.requirePrincipal(request), params.id)
        const list = await storage.listWebhookDeliveries(webhook.id, query.limit ?? 50)
        return { items: list.map(deliveryJson) }
      },
      {
        params: IdParams,
        query: t.Object({
          limit: t.Optional(
            t.Integer({
              minimum: 1,
              maximum: 200,
              default: 50,
              description: 'How many of the newest deliveries (1..200)',
              error: 'query.limit: must be a whole number from 1 to 200',
            }),
          ),
        }),
        response: {
          200: t.Object({ items: t.Array(DeliverySchema) }),
          400: problemResponse('limit is invalid'),
          401: unauthorizedResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Webhooks'],
          operationId: 'listWebhookDeliveries',
          summary: 'Recent deliveries with every attempt: status code, latency, error',
        },
      },
    )
}
