// The API description: OpenAPI 3.1 generated from the routes (GET /openapi.json, /openapi.yaml) and Swagger UI at /docs.

import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { toOpenAPISchema } from '@elysiajs/openapi'
import { type AnyElysia, Elysia } from 'elysia'
import { stringify } from 'yaml'
import type { CredentialStyle } from '#contracts/auth.ts'
import type { IngestHttpRoutes } from '#contracts/ingest.ts'
import type { CompatApi } from '#core/compat.ts'
import { PROBLEM_CONTENT_TYPE, ProblemError } from '#lib/problem.ts'
import {
  documentedParameter,
  documentedSchema,
  isObject,
  type Parameter,
  type Schema,
} from '#server/http/openapi-schemas.ts'
import { ProblemSchema } from '#server/http/schemas.ts'
import { DOCS_CONTENT_SECURITY_POLICY } from '#server/http/security-headers.ts'

export const OPENAPI_VERSION = '3.1.1'
const DOC_PATHS = ['/openapi.json', '/openapi.yaml', '/docs', '/docs/:asset']

type Operation = {
  operationId?: string
  tags?: string[]
  description?: string
  security?: unknown
  parameters?: Parameter[]
  requestBody?: {
    required?: boolean
    content?: Record<string, { schema?: Schema & { required?: string[] } }>
  }
  responses?: Record<
    string,
    {
      description?: string
      content?: Record<string, { schema?: Schema; example?: unknown }>
      headers?: Record<string, unknown>
    }
  >
}

/**
 * Generates the document from the app's routes and mends what the generator cannot know:
 * error bodies are served as application/problem+json (it labels every object
 * application/json) and are the one Problem component, a 204 has no body (it emits an invalid
 * `content` for void), a body whose fields are all optional may be left out (it marks every
 * body required), a query integer is an integer (it shows the coercion from text), and a
 * parameter's description and example belong to the parameter (it leaves them in the schema).
 */
const problemContent = { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } }

const WEBSOCKET_OPERATION = {
  operationId: 'openWebSocket',
  description: [
    'Upgrade to a WebSocket (credential as a header or `access_token`; without one, each subscribe brings a `token`).',
    'Client → server JSON: `{"type":"subscribe","address":…,"token"?:…,"lastEventId"?:n}`, `{"type":"unsubscribe","address":…}`, `{"type":"ping"}`.',
    'Server → client: `{"type":"subscribed","address","lastEventId"}`, `{"type":"event","event","address","id","data"}` (the same events and data as the event stream),',
    '`{"type":"unsubscribed","address","reason"}`, `{"type":"error","status","detail","address"?}`, `{"type":"pong"}`.',
  ].join(' '),
  responses: {
    101: { description: 'Switched to the WebSocket protocol' },
    401: { description: 'The credential is not valid', content: problemContent },
    426: {
      description: 'Not a WebSocket handshake (a plain GET): open the connection with `Upgrade: websocket`',
      content: problemContent,
      headers: {
        Upgrade: {
          description: 'The protocol to upgrade to',
          schema: { type: 'string', const: 'websocket' },
        },
      },
    },
  },
}

/** The metering headers every response carries (src/server/http/rate-limit.ts), as reusable components. */
const RATE_LIMIT_HEADERS: Record<string, { description: string; schema: { type: string } }> = {
  'X-RateLimit-Limit': {
    description: "Requests the caller's plan allows per window",
    schema: { type: 'integer' },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current window',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Used': {
    description: 'Requests counted in the current window, this one included',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Reset': {
    description: 'When the current window ends, in seconds since the Unix epoch',
    schema: { type: 'integer' },
  },
  'RateLimit-Policy': {
    description:
      'The plan as a structured field (draft-ietf-httpapi-ratelimit-headers): `"<plan>";q=<requests>;w=<window seconds>`',
    schema: { type: 'string' },
  },
  RateLimit: {
    description:
      'The budget left as a structured field (draft-ietf-httpapi-ratelimit-headers): `"<plan>";r=<remaining>;t=<seconds until the window ends>`',
    schema: { type: 'string' },
  },
}
const RETRY_AFTER = { description: 'Seconds to wait before trying again', schema: { type: 'integer' } }
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` })
const METERED_HEADERS = Object.fromEntries(
  Object.keys(RATE_LIMIT_HEADERS).map((name) => [name, headerRef(name)]),
)
/** Any route can fail unexpectedly: the error handler answers 500 with a generic problem and logs the cause. */
const INTERNAL_ERROR = {
  description: 'An unexpected failure; the cause is logged on the server, never sent',
  content: problemContent,
}
const TOO_MANY_REQUESTS = {
  description:
    "Too many requests for the caller's plan (`rate-limited`; anonymous callers are counted by address), or, creating a mailbox without an API key, too many mailboxes this hour (`mailbox-quota-exceeded`)",
  content: problemContent,
}

/** Success responses that are not JSON, which the generator cannot describe, by operation id. */
const STREAM_RESPONSES: Record<string, NonNullable<Operation['responses']>> = {
  streamMailboxEvents: {
    200: {
      description: 'The event stream (stays open; ends after mailbox.expired)',
      headers: {
        'X-Accel-Buffering': {
          description:
            'Tells a reverse proxy such as nginx to pass each event on at once instead of buffering',
          schema: { type: 'string', const: 'no' },
        },
      },
      content: {
        'text/event-stream': {
          schema: { type: 'string' },
          example:
            'id: 2\nevent: message.processed\ndata: {"id":"0193…","address":"james47@ephemail.test","from":{"address":"no-reply@github.com","name":"GitHub"},"subject":"Your code","otp":"482913","link":null,"receivedAt":"2026-11-25T08:00:00.000Z","processedAt":"2026-11-25T08:00:00.020Z"}\n\n',
        },
      },
    },
  },
}

/** Every problem body of the native API is the one Problem component (one type in generated clients). */
const PROBLEM_PROPERTIES = Object.keys(ProblemSchema.properties).sort().join()
const isProblemSchema = (schema: Schema | undefined) =>
  isObject(schema?.properties) && Object.keys(schema.properties).sort().join() === PROBLEM_PROPERTIES

/**
 * Operations a caller may use without a credential, though one changes the answer (the caller's own domains,
 * a mailbox owned by a key): `{}` (no credential) is one of their alternatives, so Swagger UI and generated
 * clients send a credential when they have one and still work without.
 */
const CREDENTIAL_OPTIONAL = new Set(['listDomains', 'createMailbox'])

/**
 * A compatibility layer's operation: its own security schemes, its error envelope (a named schema, as
 * application/json) on every error answer, and its rate-limit headers on every answer.
 */
function mendCompatOperation(api: CompatApi, operation: Operation) {
  const { securitySchemes, errorSchema, headers } = api.openapi
  // An operation open to all (a health probe) says so with `security: []`.
  operation.security ??= Object.keys(securitySchemes).map((name) => ({ [name]: [] }))
  const errorContent = {
    'application/json': { schema: { $ref: `#/components/schemas/${errorSchema.name}` } },
  }
  operation.responses ??= {}
  operation.responses['429'] ??= { description: "Too many requests for the caller's plan" }
  const headerRefs = headers
    ? Object.fromEntries(Object.keys(headers).map((name) => [name, headerRef(`${api.name}.${name}`)]))
    : METERED_HEADERS
  for (const [status, response] of Object.entries(operation.responses)) {
    if (status === '204') delete response.content
    else if (Number(status) >= 400) response.content = errorContent
    response.headers = { ...response.headers, ...headerRefs }
  }
}

/**
 * The document of `app`; its security schemes are those the accepted credential styles declare, and
 * those of the compatibility layers mounted (each under its own tag).
 */
export function buildOpenApiDocument(
  app: AnyElysia,
  version: string,
  styles: readonly CredentialStyle[],
  compat: readonly CompatApi[] = [],
  ingest: readonly IngestHttpRoutes[] = [],
) {
  const ingestDocs = ingest.flatMap((source) => (source.openapi ? [source.openapi] : []))
  const securitySchemes = Object.fromEntries(
    styles.flatMap((style) =>
      style.securityScheme ? [[style.securityScheme.schemeName, style.securityScheme.scheme]] : [],
    ),
  )
  const compatByTag = new Map(compat.map((api) => [api.openapi.tag.name, api]))
  // staticFile: false: Elysia would drop every path with a dot as a static file, and a compatibility
  // layer's routes may be `/v1/inbox.php`; the document's own files are excluded by path.
  const generated = toOpenAPISchema(
    app,
    { paths: DOC_PATHS, staticFile: false },
    undefined,
    undefined,
    OPENAPI_VERSION,
  ) as {
    paths: Record<string, Record<string, Operation>>
    components: { schemas: Record<string, unknown> }
  }
  // Elysia lists a WebSocket route under a `ws` method, which OpenAPI does not have: it is the GET
  // that upgrades (101), or fails like any other request.
  for (const operations of Object.values(generated.paths)) {
    const upgrade = operations.ws
    if (!upgrade) continue
    delete operations.ws
    // A compatibility layer's socket keeps its own id and description; it answers 101 the same way.
    operations.get = compatByTag.has(upgrade.tags?.[0] ?? '')
      ? { ...upgrade, responses: { 101: WEBSOCKET_OPERATION.responses[101], ...upgrade.responses } }
      : { ...upgrade, ...WEBSOCKET_OPERATION }
  }
  for (const operations of Object.values(generated.paths)) {
    for (const operation of Object.values(operations)) {
      if (operation.parameters) operation.parameters = operation.parameters.map(documentedParameter)
      for (const media of Object.values(operation.requestBody?.content ?? {}))
        if (media.schema) media.schema = documentedSchema(media.schema)
      for (const response of Object.values(operation.responses ?? {}))
        for (const media of Object.values(response.content ?? {}))
          if (media.schema) media.schema = documentedSchema(media.schema)
      const api = compatByTag.get(operation.tags?.[0] ?? '')
      if (api) {
        mendCompatOperation(api, operation)
        continue
      }
      const extra = STREAM_RESPONSES[operation.operationId ?? '']
      if (extra) operation.responses = { ...extra, ...operation.responses }
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema
      if (operation.requestBody && bodySchema && !bodySchema.required?.length)
        operation.requestBody.required = false
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (status === '204') delete response.content
        else if (Number(status) >= 400 && response.content?.['application/json']) {
          const json = response.content['application/json']
          // A body of another shape stays as declared (and test/openapi.test.ts says which).
          response.content = isProblemSchema(json.schema) ? problemContent : { [PROBLEM_CONTENT_TYPE]: json }
        }
      }
      // Every operation is metered: any answer may be a 429, and every answer says the budget left.
      operation.responses ??= {}
      operation.responses['429'] ??= { ...TOO_MANY_REQUESTS }
      operation.responses['500'] ??= { ...INTERNAL_ERROR }
      for (const [status, response] of Object.entries(operation.responses))
        response.headers = {
          ...response.headers,
          ...METERED_HEADERS,
          ...(status === '429' ? { 'Retry-After': headerRef('Retry-After') } : {}),
        }
    }
  }
  const alternatives = Object.keys(securitySchemes).map((name) => ({ [name]: [] }))
  for (const operations of Object.values(generated.paths))
    for (const operation of Object.values(operations))
      if (operation.operationId && CREDENTIAL_OPTIONAL.has(operation.operationId))
        operation.security = [{}, ...alternatives]
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Ephemail API',
      version,
      description:
        'Disposable mailboxes as a service. Create a mailbox, send mail to it over SMTP, read it here. Errors are application/problem+json (RFC 9457).',
    },
    tags: [
      { name: 'Mailboxes', description: 'Create, rename, extend and delete mailboxes' },
      { name: 'Messages', description: 'Read and manage received mail' },
      { name: 'Domains', description: 'Where mail can be received' },
      { name: 'Health', description: 'Probes for orchestrators' },
      { name: 'Live', description: 'Events as they happen: Server-Sent Events and WebSocket' },
      { name: 'Webhooks', description: 'Signed HTTP callbacks for processed mail' },
      { name: 'Admin', description: 'Operator routes: the admin key or an API key with the admin scope' },
      ...compat.map((api) => api.openapi.tag),
      ...ingestDocs.map((source) => source.tag),
    ],
    // The server that serves this document: one instance is reachable under many names (localhost, a
    // proxy's host, a LAN address), so no absolute URL is right for all; '/' resolves against wherever
    // the document was read from (Swagger UI at /docs, a client given /openapi.json).
    servers: [{ url: '/', description: 'The server this document was read from' }],
    // Any one of the schemes is enough (OpenAPI: alternatives are separate entries).
    security: alternatives,
    paths: generated.paths,
    components: {
      schemas: {
        ...Object.fromEntries(
          Object.entries(generated.components.schemas).map(([name, schema]) => [
            name,
            documentedSchema(schema as Schema),
          ]),
        ),
        Problem: documentedSchema(ProblemSchema),
        ...Object.fromEntries(
          compat.map((api) => [
            api.openapi.errorSchema.name,
            documentedSchema(api.openapi.errorSchema.schema as Schema),
          ]),
        ),
      },
      headers: {
        ...RATE_LIMIT_HEADERS,
        'Retry-After': RETRY_AFTER,
        ...Object.fromEntries(
          compat.flatMap((api) =>
            Object.entries(api.openapi.headers ?? {}).map(([name, header]) => [
              `${api.name}.${name}`,
              header,
            ]),
          ),
        ),
      },
      securitySchemes: {
        ...securitySchemes,
        ...Object.fromEntries(compat.flatMap((api) => Object.entries(api.openapi.securitySchemes))),
        ...Object.fromEntries(ingestDocs.flatMap((source) => Object.entries(source.securitySchemes))),
      },
    },
  }
}

export function openApiYaml(document: object): string {
  return stringify(JSON.parse(JSON.stringify(document)), { lineWidth: 0 })
}

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
const SWAGGER_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  // Named in the page so browsers stop asking for /favicon.ico, whose 404 is a console error on every visit.
  'favicon-32x32.png': 'image/png',
}

/** The page's start-up code, served as a file so the Content-Security-Policy can forbid inline script. */
const SWAGGER_INIT =
  "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true })\n"

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Ephemail API</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-init.js"></script>
</body>
</html>`

/** Serves the document; `app` is the finished application, read lazily so every route is in it. */
export function docsRoutes(
  app: () => AnyElysia,
  version: string,
  styles: readonly CredentialStyle[],
  compat: readonly CompatApi[] = [],
  ingest: readonly IngestHttpRoutes[] = [],
) {
  let cached: { json: string; yaml: string } | null = null
  const rendered = () => {
    if (!cached) {
      const document = buildOpenApiDocument(app(), version, styles, compat, ingest)
      cached = { json: JSON.stringify(document), yaml: openApiYaml(document) }
    }
    return cached
  }
  const hidden = { detail: { hide: true } }
  return new Elysia({ name: 'routes.docs' })
    .get(
      '/openapi.json',
      () => new Response(rendered().json, { headers: { 'content-type': 'application/json' } }),
      hidden,
    )
    .get(
      '/openapi.yaml',
      () => new Response(rendered().yaml, { headers: { 'content-type': 'application/yaml' } }),
      hidden,
    )
    .get(
      '/docs',
      () =>
        new Response(SWAGGER_PAGE, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': DOCS_CONTENT_SECURITY_POLICY,
          },
        }),
      hidden,
    )
    .get(
      '/docs/swagger-init.js',
      () =>
        new Response(SWAGGER_INIT, {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
        }),
      hidden,
    )
    .get(
      '/docs/:asset',
      ({ params }) => {
        const type = SWAGGER_ASSETS[params.asset]
        if (!type) throw new ProblemError(404, 'not-found', `There is no documentation asset ${params.asset}`)
        return new Response(Bun.file(join(swaggerUiDir, params.asset)), {
          headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' },
        })
      },
      hidden,
    )
}
