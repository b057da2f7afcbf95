// tempmail-v1 compatibility: the Temp Mail v1 API shape (POST /v1/emails, {error,meta} envelope, X-Ratelimit-* with an epoch reset) over the core.

import { Type } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import type { CredentialStyle } from '#contracts/auth.ts'
import { type CompatApi, type CompatApiFactory, problemSlug } from '#core/compat.ts'
import { createMailbox } from '#core/mailboxes.ts'
import { DOMAIN_TYPES, normalizeRecipient } from '#lib/address.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import { createBearerStyle } from '#plugins/auth/bearer/index.ts'
import { createHeaderStyle } from '#plugins/auth/header/index.ts'

export const name = 'tempmail-v1'

const TAG = 'Temp Mail v1 compatibility'

/**
 * The document names the error codes `not_found`, `invalid_api_key`, `rate_limited` and
 * `validation_error`; other refusals of the core keep their own name in snake case
 * (`address_taken`, `domain_not_allowed`).
 */
const CODES: Record<string, string> = {
  unauthorized: 'invalid_api_key',
  forbidden: 'invalid_api_key',
  'insufficient-scope': 'invalid_api_key',
  'not-found': 'not_found',
  'rate-limited': 'rate_limited',
  'mailbox-quota-exceeded': 'rate_limited',
  'validation-failed': 'validation_error',
  'malformed-json': 'validation_error',
  'unsupported-media-type': 'validation_error',
  'payload-too-large': 'validation_error',
}

/**
 * The document's statuses are 200, 400 and 429: every refusal of the request itself is a 400 with its
 * code, except a missing or wrong key (401), an absent route (404, 405) and the rate limit (429).
 */
function statusOf(status: number): number {
  if (status >= 500 || status === 401 || status === 404 || status === 405 || status === 429) return status
  return status === 403 ? 401 : 400
}

const ErrorEnvelope = t.Object(
  {
    error: t.Object({
      type: t.Union([t.Literal('request_error'), t.Literal('api_error')], {
        description: '`request_error`: a problem with the request; `api_error`: a problem with the API',
      }),
      code: t.String({
        description:
          'not_found, invalid_api_key, rate_limited, validation_error, or the refusal in snake case',
        examples: ['not_found'],
      }),
      detail: t.String({ examples: ['Message not found'] }),
    }),
    meta: t.Object({
      request_id: t.String({ format: 'uuid', description: 'Unique ID of the request, as in the logs' }),
    }),
  },
  { description: 'The Temp Mail v1 error envelope' },
)

const CreateBody = t.Object(
  {
    email: t.Optional(
      t.String({
        description: 'Address to create; random when absent. With it, domain and domain_type are ignored',
      }),
    ),
    domain: t.Optional(
      t.String({ description: 'Domain to use; random when absent. With it, domain_type is ignored' }),
    ),
    domain_type: t.Optional(
      t.Union(
        DOMAIN_TYPES.map((type) => t.Literal(type)),
        { description: 'Type of the random domain: public, custom or premium' },
      ),
    ),
  },
  { additionalProperties: false },
)

const Created = t.Object({
  email: t.String({ format: 'email', examples: ['user@example.com'] }),
  // TypeBox's integer: Elysia's t.Integer also takes numeric strings and is documented as string | integer.
  ttl: Type.Integer({ description: 'Time to live in seconds', examples: [86400] }),
})

/** Temp Mail keys travel as `X-API-Key` (as that service's clients send them) or as a Bearer token. */
function credentialStyles(): CredentialStyle[] {
  return [
    { ...createHeaderStyle(), securityScheme: null },
    { ...createBearerStyle(), securityScheme: null },
  ]
}

export const create: CompatApiFactory = ({ core, authenticator, parseBody, prefix }) => {
  const auth = authenticator(credentialStyles())
  const routes = new Elysia({ name: `compat.${name}`, prefix })
    .onParse(({ request, contentType }) => parseBody(request, contentType ?? ''))
    .derive(async ({ request }) => {
      const principal = await auth.authenticate(request)
      if (principal === null) throw unauthorized('Send your API key as X-API-Key (or Authorization: Bearer)')
      return { principal }
    })
    .post(
      '/v1/emails',
      async ({ principal, body }) => {
        let input: Parameters<typeof createMailbox>[2]
        if (body.email !== undefined) {
          const parts = normalizeRecipient(body.email)
          if (!parts)
            throw new ProblemError(400, 'validation-failed', `email: "${body.email}" is not an address`)
          input = { localPart: parts.localPart, domain: parts.domain }
        } else if (body.domain !== undefined) input = { domain: body.domain }
        else input = { domainType: body.domain_type }
        const { mailbox } = await createMailbox(core, principal, input)
        const ttl = Math.round((mailbox.expiresAt.getTime() - mailbox.createdAt.getTime()) / 1000)
        return { email: mailbox.address, ttl }
      },
      {
        body: CreateBody,
        response: { 200: Created, 400: ErrorEnvelope, 401: ErrorEnvelope },
        detail: {
          tags: [TAG],
          operationId: 'tempmailV1CreateEmail',
          summary: 'Create new temporary email',
          description:
            "An address of the caller's key: `email` picks it, else `domain`, else a random domain of `domain_type`. Keys are sent as `X-API-Key` or `Authorization: Bearer`.",
        },
      },
    )

  return {
    name,
    prefix,
    routes,
    auth,
    renderError(problem, headers) {
      const status = statusOf(problem.status)
      const slug = problemSlug(problem)
      const body = {
        error: {
          type: status >= 500 ? 'api_error' : 'request_error',
          code: CODES[slug] ?? slug.replaceAll('-', '_'),
          detail: problem.detail,
        },
        meta: { request_id: crypto.randomUUID() },
      }
      return new Response(JSON.stringify(body), {
        status,
        headers: { ...headers, 'content-type': 'application/json' },
      })
    },
    rateLimitHeaders: ({ limit, remaining, used, resetAt }) => ({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(used),
      'x-ratelimit-reset': String(Math.ceil(resetAt / 1000)),
    }),
    openapi: {
      tag: {
        name: TAG,
        description: 'The Temp Mail v1 API shape (EPHEMAIL_COMPAT=tempmail-v1): keys as X-API-Key or Bearer',
      },
      securitySchemes: {
        tempmailV1Key: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'An Ephemail API key',
        },
        tempmailV1Bearer: { type: 'http', scheme: 'bearer', description: 'An Ephemail API key' },
      },
      errorSchema: { name: 'TempmailV1Error', schema: ErrorEnvelope },
      headers: {
        'X-Ratelimit-Limit': {
          description: 'The maximum number of requests that you can make per period',
          schema: { type: 'integer' },
        },
        'X-Ratelimit-Remaining': {
          description: 'The number of requests remaining in the current rate limit window',
          schema: { type: 'integer' },
        },
        'X-Ratelimit-Used': {
          description: 'The number of requests you have made in the current rate limit window',
          schema: { type: 'integer' },
        },
        'X-Ratelimit-Reset': {
          description: 'The time at which the current rate limit window resets, in UTC epoch seconds',
          schema: { type: 'integer' },
        },
      },
    },
  } satisfies CompatApi
}
