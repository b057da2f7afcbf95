// Webhook routes: register (with a signing secret), list, read, delete, and the recent deliveries of one.

import { Elysia, t } from 'elysia'
import type { CoreDeps } from '#core/context.ts'
import {
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  registerWebhook,
} from '#core/webhooks.ts'
import type { Webhook, WebhookDelivery } from '#lib/types.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import {
  Integer,
  insufficientScopeResponse,
  jsonBodyProblems,
  OneOf,
  problemResponse,
  QueryInteger,
  unauthorizedResponse,
} from '#server/http/schemas.ts'

export interface WebhookRouteDeps {
  core: CoreDeps
  principal: PrincipalPlugins
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
  status: t.Union([Integer(), t.Null()], { description: 'HTTP status, null when no answer came' }),
  latencyMs: Integer({ description: 'Time to the answer (or to the failure)' }),
  error: t.Union([t.String(), t.Null()]),
})

const DeliverySchema = t.Object({
  id: t.String({ format: 'uuid', description: 'Also the webhook-id header (the same on every retry)' }),
  messageId: t.String({ format: 'uuid' }),
  eventType: t.String({ examples: ['message.processed'] }),
  state: OneOf(
    ['pending', 'retrying', 'delivered', 'dead'],
    'dead: every attempt failed (or the URL is blocked); nothing more will be tried',
  ),
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

export function webhookRoutes({ core, principal }: WebhookRouteDeps) {
  return new Elysia({ name: 'routes.webhooks' })
    .use(principal.required)
    .post(
      '/v1/webhooks',
      async ({ body, requirePrincipal, set }) => {
        const { webhook, secret } = await registerWebhook(core, requirePrincipal(), body)
        set.status = 201
        set.headers.location = `/v1/webhooks/${webhook.id}`
        return { ...webhookJson(webhook), secret }
      },
      {
        // Declared for the document only: the app's own parser (app.ts) runs first and answers.
        parse: 'json',
        body: CreateWebhookBody,
        response: {
          201: CreatedWebhookSchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
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
      async ({ requirePrincipal }) => ({
        items: (await listWebhooks(core, requirePrincipal())).map(webhookJson),
      }),
      {
        response: {
          200: t.Object({ items: t.Array(WebhookSchema) }),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
        },
        detail: {
          tags: ['Webhooks'],
          operationId: 'listWebhooks',
          summary: 'List webhooks (the admin sees all, a mailbox token its own)',
          description:
            "The webhooks this credential may see: a mailbox token its mailbox's, an API key those of its mailboxes, the admin every one. Secrets are never shown again.",
        },
      },
    )
    .get(
      '/v1/webhooks/:id',
      async ({ params, requirePrincipal }) =>
        webhookJson(await getWebhook(core, requirePrincipal(), params.id)),
      {
        params: IdParams,
        response: {
          200: WebhookSchema,
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Webhooks'],
          operationId: 'getWebhook',
          summary: 'Get a webhook',
          description: 'The webhook with its filter, without its secret.',
        },
      },
    )
    .delete(
      '/v1/webhooks/:id',
      async ({ params, requirePrincipal, set }) => {
        await deleteWebhook(core, requirePrincipal(), params.id)
        set.status = 204
      },
      {
        params: IdParams,
        response: {
          204: t.Void({ description: 'Deleted, with its deliveries; queued retries stop' }),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Webhooks'],
          operationId: 'deleteWebhook',
          summary: 'Delete a webhook',
          description:
            'Stops deliveries at once: queued retries are dropped and the delivery log goes with it.',
        },
      },
    )
    .get(
      '/v1/webhooks/:id/deliveries',
      async ({ params, query, requirePrincipal }) => ({
        items: (await listWebhookDeliveries(core, requirePrincipal(), params.id, query.limit ?? 50)).map(
          deliveryJson,
        ),
      }),
      {
        params: IdParams,
        query: t.Object({
          limit: t.Optional(
            QueryInteger({
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
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Webhooks'],
          operationId: 'listWebhookDeliveries',
          summary: 'Recent deliveries with every attempt: status code, latency, error',
          description:
            'The newest deliveries of one webhook, each with its state and every attempt, to see why an endpoint gets nothing.',
        },
      },
    )
}
