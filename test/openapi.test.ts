// The OpenAPI document: valid, complete, served by the app, and identical to the committed openapi.yaml.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import { parse } from 'yaml'
import { generateOpenApiYaml } from '#server/openapi-source.ts'
import { createApiHarness } from './support/api-harness.ts'

const committedYaml = readFileSync(join(import.meta.dir, '..', 'openapi.yaml'), 'utf8')
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options']

type Operation = {
  operationId?: string
  summary?: string
  description?: string
  parameters?: {
    name: string
    in: string
    description?: string
    example?: unknown
    schema?: Record<string, unknown>
  }[]
  requestBody?: { required?: boolean; content: Record<string, unknown> }
  responses: Record<
    string,
    {
      description?: string
      content?: Record<string, { schema?: unknown }>
      headers?: Record<string, unknown>
    }
  >
}

/** Every object in the document with where it is, for rules that hold at any depth. */
function* objectsIn(value: unknown, at = '#'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value))
    for (const [index, item] of value.entries()) yield* objectsIn(item, `${at}/${index}`)
  else if (typeof value === 'object' && value !== null) {
    yield [at, value as Record<string, unknown>]
    for (const [key, item] of Object.entries(value)) yield* objectsIn(item, `${at}/${key}`)
  }
}

function operations(document: { paths: Record<string, Record<string, Operation>> }) {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  )
}

describe('OpenAPI document', () => {
  let h: Awaited<ReturnType<typeof createApiHarness>>
  beforeAll(async () => {
    // As the committed document is generated: with the HTTP inbound source on, so its routes are served.
    h = await createApiHarness({
      EPHEMAIL_INGEST: 'smtp,http',
      EPHEMAIL_INBOUND_SECRET: 'openapi-test-inbound-secret',
    })
  })
  afterAll(() => h.close())

  test('the committed openapi.yaml is what the routes generate (run `npm run openapi` after changing routes)', async () => {
    expect(await generateOpenApiYaml()).toBe(committedYaml)
  })

  test('it is a valid OpenAPI 3.1 document', async () => {
    const document = parse(committedYaml)
    expect(document.openapi).toStartWith('3.1')
    await SwaggerParser.validate(structuredClone(document))
  })

  test('every API route is documented with an id, a summary and described responses', () => {
    const document = parse(committedYaml)
    const documented = new Set(
      operations(document).map(({ path, method }) => `${method.toUpperCase()} ${path}`),
    )
    const expected = [
      'GET /health',
      'GET /ready',
      'GET /v1/domains',
      'POST /v1/mailboxes',
      'GET /v1/mailboxes/{address}',
      'PATCH /v1/mailboxes/{address}',
      'DELETE /v1/mailboxes/{address}',
      'GET /v1/mailboxes/{address}/messages',
      'GET /v1/mailboxes/{address}/otp',
      'DELETE /v1/mailboxes/{address}/messages',
      'GET /v1/messages/{id}',
      'PATCH /v1/messages/{id}',
      'DELETE /v1/messages/{id}',
      'GET /v1/messages/{id}/raw',
      'GET /v1/messages/{id}/attachments/{attachmentId}',
      'GET /v1/mailboxes/{address}/events',
      'GET /v1/ws',
      'POST /v1/webhooks',
      'GET /v1/webhooks',
      'GET /v1/webhooks/{id}',
      'DELETE /v1/webhooks/{id}',
      'GET /v1/webhooks/{id}/deliveries',
      'POST /v1/inbound',
      'POST /v1/inbound/cloudflare',
      'POST /v1/inbound/mailgun',
      'POST /v1/inbound/sendgrid',
      'POST /v1/inbound/postmark',
      'POST /v1/admin/domains',
      'GET /v1/admin/domains',
      'GET /v1/admin/domains/{name}',
      'POST /v1/admin/domains/{name}/verify',
      'DELETE /v1/admin/domains/{name}',
      'GET /v1/mailboxes',
      'POST /v1/admin/keys',
      'GET /v1/admin/keys',
      'GET /v1/admin/keys/{id}',
      'PATCH /v1/admin/keys/{id}',
      'DELETE /v1/admin/keys/{id}',
    ]
    expect([...documented].sort()).toEqual(expected.sort())
    const ids = new Set<string>()
    for (const { path, method, operation } of operations(document)) {
      const where = `${method.toUpperCase()} ${path}`
      expect(operation.operationId, where).toBeString()
      expect(ids.has(operation.operationId as string), `${where} repeats an operationId`).toBe(false)
      ids.add(operation.operationId as string)
      expect(operation.summary, where).toBeString()
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${where} ${status}`).toBeString()
        if (Number(status) >= 400)
          expect(Object.keys(response.content ?? {}), `${where} ${status}`).toEqual([
            'application/problem+json',
          ])
        if (status === '204') expect(response.content, `${where} 204`).toBeUndefined()
      }
      for (const parameter of operation.parameters ?? [])
        if (parameter.in === 'path') expect(path).toContain(`{${parameter.name}}`)
      // The API takes JSON; the inbound routes take what their providers send (raw mail, forms, JSON).
      const inbound = (operation as { tags?: string[] }).tags?.includes('Inbound')
      if (operation.requestBody && !inbound)
        expect(Object.keys(operation.requestBody.content), where).toEqual(['application/json'])
    }
    const create = document.paths['/v1/mailboxes'].post as Operation
    expect(create.requestBody?.required).toBe(false) // every field optional: the body may be left out
    expect(Object.keys(create.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '422',
      '429',
      '500',
      '503',
    ])
  })

  test('every operation may answer 429 with Retry-After and 500, and every response carries the rate-limit headers', () => {
    const document = parse(committedYaml)
    const metered = [
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Used',
      'X-RateLimit-Reset',
      'RateLimit-Policy',
      'RateLimit',
    ]
    for (const name of [...metered, 'Retry-After'])
      expect(document.components.headers[name]?.schema, name).toBeDefined()
    for (const { path, method, operation } of operations(document)) {
      const where = `${method.toUpperCase()} ${path}`
      const tooMany = operation.responses['429'] as { headers?: Record<string, unknown>; content?: object }
      expect(tooMany, `${where} 429`).toBeDefined()
      expect(Object.keys(tooMany.content ?? {}), `${where} 429`).toEqual(['application/problem+json'])
      expect(tooMany.headers?.['Retry-After'], `${where} 429`).toEqual({
        $ref: '#/components/headers/Retry-After',
      })
      // The error handler answers any unexpected failure with a 500 problem (the cause stays in the log).
      expect(Object.keys(operation.responses['500']?.content ?? {}), `${where} 500`).toEqual([
        'application/problem+json',
      ])
      for (const [status, response] of Object.entries(operation.responses))
        for (const name of metered)
          expect(
            (response as { headers?: Record<string, unknown> }).headers?.[name],
            `${where} ${status} ${name}`,
          ).toEqual({
            $ref: `#/components/headers/${name}`,
          })
    }
  })

  test('integers are plain `type: integer` (no anyOf of a numeric string), with their bounds and defaults', () => {
    const document = parse(committedYaml)
    for (const [at, schema] of objectsIn(document)) {
      const branches = schema.anyOf as { type?: string; format?: string }[] | undefined
      if (!Array.isArray(branches)) continue
      const numericString = branches.find(
        (branch) => branch.type === 'string' && (branch.format === 'integer' || branch.format === 'numeric'),
      )
      expect(numericString, `${at} is a coercion union`).toBeUndefined()
    }
    const limit = (document.paths['/v1/mailboxes/{address}/messages'].get as Operation).parameters?.find(
      (parameter) => parameter.name === 'limit',
    )
    expect(limit?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
    expect(document.components.schemas.Problem.properties.status.type).toBe('integer')
  })

  test("Elysia's validation keyword `error` stays out of the document's schemas", () => {
    const document = parse(committedYaml)
    for (const { path, method, operation } of operations(document))
      for (const parameter of operation.parameters ?? [])
        for (const [at, schema] of objectsIn(parameter.schema, `${method} ${path} ${parameter.name}`))
          expect(schema.error, at).toBeUndefined()
  })

  test('every problem+json body is the one Problem component', () => {
    const document = parse(committedYaml)
    let problems = 0
    for (const { path, method, operation } of operations(document))
      for (const [status, response] of Object.entries(operation.responses)) {
        const problem = response.content?.['application/problem+json']
        if (!problem) continue
        problems++
        expect(problem.schema, `${method.toUpperCase()} ${path} ${status}`).toEqual({
          $ref: '#/components/schemas/Problem',
        })
      }
    expect(problems).toBeGreaterThan(100)
    expect(Object.keys(document.components.schemas.Problem.properties).sort()).toEqual([
      'detail',
      'errors',
      'instance',
      'status',
      'title',
      'type',
    ])
  })

  test('parameters carry their own description and example; every operation has a description; servers are set', () => {
    const document = parse(committedYaml)
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }])
    for (const { path, method, operation } of operations(document)) {
      const where = `${method.toUpperCase()} ${path}`
      expect(operation.description, where).toBeString()
      for (const parameter of operation.parameters ?? []) {
        expect(parameter.description, `${where} ${parameter.name}`).toBeString()
        expect(parameter.schema?.description, `${where} ${parameter.name}`).toBeUndefined()
        expect(parameter.schema?.examples, `${where} ${parameter.name}`).toBeUndefined()
      }
    }
    const messages = document.paths['/v1/mailboxes/{address}/messages'].get as Operation
    const address = messages.parameters?.find((parameter) => parameter.name === 'address')
    expect(address?.example).toBe('james47@ephemail.test')
    // Swagger UI showed `wait` as "string | (string | integer)": it is one integer.
    const wait = messages.parameters?.find((parameter) => parameter.name === 'wait')
    expect(wait?.schema).toEqual({ type: 'integer', minimum: 0, maximum: 300 })
    // A one-of-a-few-strings field keeps its description (the generator drops a literal union's).
    const type = (document.paths['/v1/domains'].get as Operation).parameters?.[0]
    expect(type).toMatchObject({ name: 'type', description: 'Only domains of this type' })
    expect(type?.schema).toEqual({ type: 'string', enum: ['public', 'custom', 'premium'] })
  })

  test('the WebSocket route documents its 426 for a plain GET, and the app answers it', async () => {
    const upgrade = parse(committedYaml).paths['/v1/ws'].get as Operation
    expect(upgrade.responses['426']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    })
    expect(upgrade.responses['426']?.headers?.Upgrade).toBeDefined()
    const plain = await h.call('GET', '/v1/ws', { token: null })
    expect(plain.status).toBe(426)
    expect(plain.headers.get('content-type')).toBe('application/problem+json')
    expect(plain.headers.get('upgrade')).toBe('websocket')
    expect(plain.json.type).toEndWith('/upgrade-required')
    const post = await h.call('POST', '/v1/ws', { token: null })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  test('the app serves the same document as JSON and YAML, and Swagger UI from local assets', async () => {
    const json = await h.call('GET', '/openapi.json', { token: null })
    expect(json.status).toBe(200)
    expect(json.json).toEqual(parse(committedYaml))
    const yaml = await h.call('GET', '/openapi.yaml', { token: null })
    expect(yaml.headers.get('content-type')).toBe('application/yaml')
    expect(yaml.text).toBe(committedYaml)
    const page = await h.call('GET', '/docs', { token: null })
    expect(page.headers.get('content-type')).toStartWith('text/html')
    expect(page.text).toContain('<script src="/docs/swagger-init.js"></script>')
    const init = await h.call('GET', '/docs/swagger-init.js', { token: null })
    expect(init.text).toContain("url: '/openapi.json'")
    const bundle = await h.app.handle(new Request('http://localhost/docs/swagger-ui-bundle.js'))
    expect(bundle.status).toBe(200)
    expect((await bundle.text()).length).toBeGreaterThan(100_000)
    // The page names its icon, so a browser does not ask for /favicon.ico (a 404 in its console).
    expect(page.text).toContain('<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">')
    const icon = await h.app.handle(new Request('http://localhost/docs/favicon-32x32.png'))
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await icon.arrayBuffer()).subarray(1, 4)).toEqual(new TextEncoder().encode('PNG'))
    const missing = await h.call('GET', '/docs/secret.txt', { token: null })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toBe('application/problem+json')
  })
})
