// Admin routes for API keys: issue (the key shown once), list, read, change, revoke (validate → core → serialize).

import { Elysia, t } from 'elysia'
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, updateApiKey } from '#core/api-keys.ts'
import type { CoreDeps } from '#core/context.ts'
import type { ApiKey } from '#lib/types.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import { jsonBodyProblems, problemResponse, unauthorizedResponse } from '#server/http/schemas.ts'

export interface AdminKeyRouteDeps {
  core: CoreDeps
  principal: PrincipalPlugins
}

const EXAMPLE_KEY_ID = '0193a1f4-1b2c-7d3e-9f40-516273849506'

const Scopes = t.Array(t.Union([t.Literal('read'), t.Literal('write'), t.Literal('admin')]), {
  minItems: 1,
  maxItems: 3,
  uniqueItems: true,
  description:
    '`read`: read mailboxes, messages, webhooks and event streams; `write`: create and delete them; `admin`: the admin routes, and every mailbox',
  examples: [['read', 'write']],
})
const KeyName = t.String({
  minLength: 1,
  maxLength: 100,
  description: 'What the key is for',
  examples: ['ci'],
})
const Plan = t.String({
  minLength: 1,
  maxLength: 64,
  description: 'A rate-limit plan from the configuration (built in: anonymous, default, admin)',
  examples: ['default'],
})
const AllowedDomains = t.Union(
  [t.Array(t.String({ minLength: 1, maxLength: 253 }), { maxItems: 100 }), t.Null()],
  { description: "Domains the key's mailboxes may use; null: every domain its plan allows" },
)
const ExpiresAt = t.Union([t.String({ format: 'date-time' }), t.Null()], {
  description: 'When the key stops working; null: never',
})

const ApiKeySchema = t.Object(
  {
    id: t.String({ format: 'uuid', examples: [EXAMPLE_KEY_ID] }),
    name: t.String({ examples: ['ci'] }),
    prefix: t.String({
      description: 'The first characters of the key, to recognise it (the key itself is not stored)',
      examples: ['eph_Xk2m9XnP'],
    }),
    scopes: Scopes,
    plan: t.String({ examples: ['default'] }),
    allowedDomains: AllowedDomains,
    createdAt: t.String({ format: 'date-time' }),
    expiresAt: ExpiresAt,
    lastUsedAt: t.Union([t.String({ format: 'date-time' }), t.Null()], {
      description: 'Last request made with it (recorded at most once a minute)',
    }),
  },
  { description: 'An API key, without its secret' },
)

const IssuedApiKeySchema = t.Object(
  {
    ...ApiKeySchema.properties,
    key: t.String({
      description:
        'The key: send it as the credential. Shown once; only its SHA-256 is stored, so it cannot be shown again.',
      examples: ['eph_Xk2m9XnP0aLr5sT6uV7wX8yZ9aB0cD1eF2gH3iJ4kL5'],
    }),
  },
  { description: 'The new key, with the key itself' },
)

const CreateApiKeyBody = t.Object(
  {
    name: KeyName,
    scopes: t.Optional(Scopes),
    plan: t.Optional(Plan),
    allowedDomains: t.Optional(AllowedDomains),
    expiresAt: t.Optional(ExpiresAt),
  },
  {
    additionalProperties: false,
    description: 'scopes default to read and write; plan to `default`',
    examples: [{ name: 'ci', scopes: ['read', 'write'], plan: 'default' }],
  },
)

const UpdateApiKeyBody = t.Object(
  {
    name: t.Optional(KeyName),
    scopes: t.Optional(Scopes),
    plan: t.Optional(Plan),
    allowedDomains: t.Optional(AllowedDomains),
    expiresAt: t.Optional(ExpiresAt),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The fields to change; they take effect on the next request in every process',
    examples: [{ scopes: ['read'] }],
  },
)

const KeyParams = t.Object({ id: t.String({ description: 'API key id', examples: [EXAMPLE_KEY_ID] }) })

function apiKeyJson(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    plan: key.plan,
    allowedDomains: key.allowedDomains,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  }
}

const forbiddenResponse = problemResponse(
  'The credential is not the admin key or an API key with the admin scope',
)
const notFoundResponse = problemResponse('No such API key')
const invalidResponse = problemResponse('Unknown plan or domain, or an expiry that is not in the future')

export function adminKeyRoutes({ core, principal }: AdminKeyRouteDeps) {
  const tags = ['Admin']
  return new Elysia({ name: 'routes.admin-keys' })
    .use(principal.required)
    .post(
      '/v1/admin/keys',
      async ({ body, principal, set }) => {
        const { apiKey, secret } = await createApiKey(core, principal, body)
        set.status = 201
        return { ...apiKeyJson(apiKey), key: secret }
      },
      {
        parse: 'json',
        body: CreateApiKeyBody,
        response: {
          201: IssuedApiKeySchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          403: forbiddenResponse,
          422: invalidResponse,
        },
        detail: {
          tags,
          operationId: 'createApiKey',
          summary: 'Issue an API key',
          description:
            'Creates a key with a name, scopes, a rate-limit plan, optional allowed domains and an optional expiry. The key (`eph_…`) is in the answer once; afterwards it is known by its `prefix`. Mailboxes, messages and webhooks created with a key belong to it: another key sees none of them.',
        },
      },
    )
    .get(
      '/v1/admin/keys',
      async ({ principal }) => ({ items: (await listApiKeys(core, principal)).map(apiKeyJson) }),
      {
        response: {
          200: t.Object({ items: t.Array(ApiKeySchema) }, { description: 'Every API key, newest first' }),
          401: unauthorizedResponse,
          403: forbiddenResponse,
        },
        detail: {
          tags,
          operationId: 'listApiKeys',
          summary: 'List API keys',
          description:
            'Every API key with its scopes, plan and last use; the keys themselves are not stored.',
        },
      },
    )
    .get(
      '/v1/admin/keys/:id',
      async ({ params, principal }) => apiKeyJson(await getApiKey(core, principal, params.id)),
      {
        params: KeyParams,
        response: {
          200: ApiKeySchema,
          401: unauthorizedResponse,
          403: forbiddenResponse,
          404: notFoundResponse,
        },
        detail: {
          tags,
          operationId: 'getApiKey',
          summary: 'Get an API key',
          description: 'One API key with its scopes, plan and last use, without the key itself.',
        },
      },
    )
    .patch(
      '/v1/admin/keys/:id',
      async ({ params, body, principal }) => apiKeyJson(await updateApiKey(core, principal, params.id, body)),
      {
        parse: 'json',
        params: KeyParams,
        body: UpdateApiKeyBody,
        response: {
          200: ApiKeySchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          403: forbiddenResponse,
          404: notFoundResponse,
          422: invalidResponse,
        },
        detail: {
          tags,
          operationId: 'updateApiKey',
          summary: 'Change an API key',
          description:
            'Renames it, or changes its scopes, plan, allowed domains or expiry, at once in every process.',
        },
      },
    )
    .delete(
      '/v1/admin/keys/:id',
      async ({ params, principal, set }) => {
        await deleteApiKey(core, principal, params.id)
        set.status = 204
      },
      {
        params: KeyParams,
        response: {
          204: t.Void({ description: 'Revoked' }),
          401: unauthorizedResponse,
          403: forbiddenResponse,
          404: notFoundResponse,
        },
        detail: {
          tags,
          operationId: 'deleteApiKey',
          summary: 'Revoke an API key',
          description:
            'The key stops working at once in every process (keys are looked up on every request), and event streams and WebSockets opened with it are closed. Its webhooks are deleted; its mailboxes stay readable with their own tokens and the admin key until they expire.',
        },
      },
    )
}
