// The OpenAPI document lists exactly the credential styles EPHEMAIL_AUTH turns on, as alternatives on every
// API operation (the Inbound operations of HTTP ingest sources carry their providers' own schemes).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import { parse } from 'yaml'
import { createApiHarness } from './support/api-harness.ts'

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options']
/** Operations anyone may call: they declare `security: []`, so Swagger UI sends no credential. */
const PUBLIC_OPERATIONS = ['health', 'ready']
/** Operations open without a credential that still read one when sent: `{}` is one alternative. */
const OPTIONAL_OPERATIONS = ['listDomains', 'createMailbox']

type Requirement = Record<string, string[]>
type Document = {
  security?: Requirement[]
  paths: Record<string, Record<string, { operationId: string; tags?: string[]; security?: Requirement[] }>>
  components: { securitySchemes: Record<string, unknown> }
}

/** What each operation requires, by operation id: its own `security`, else the document's. */
function effectiveSecurity(document: Document) {
  return Object.fromEntries(
    Object.values(document.paths).flatMap((item) =>
      Object.entries(item)
        .filter(
          ([method, operation]) => HTTP_METHODS.includes(method) && !operation.tags?.includes('Inbound'),
        )
        .map(([, operation]) => [operation.operationId, operation.security ?? document.security ?? []]),
    ),
  )
}

/** The schemes only Inbound operations use (a provider's secret or signature, not an API credential). */
function inboundSchemes(document: Document): Set<string> {
  const names = new Set<string>()
  for (const item of Object.values(document.paths))
    for (const [method, operation] of Object.entries(item))
      if (HTTP_METHODS.includes(method) && operation.tags?.includes('Inbound'))
        for (const requirement of operation.security ?? [])
          for (const name of Object.keys(requirement)) names.add(name)
  return names
}

function expectSchemes(document: Document, schemes: Record<string, unknown>) {
  const inbound = inboundSchemes(document)
  const apiSchemes = Object.fromEntries(
    Object.entries(document.components.securitySchemes).filter(([name]) => !inbound.has(name)),
  )
  expect(apiSchemes).toEqual(schemes)
  const alternatives = Object.keys(schemes).map((name) => ({ [name]: [] }))
  const security = effectiveSecurity(document)
  expect(Object.keys(security).length).toBeGreaterThan(15)
  for (const [operationId, requirement] of Object.entries(security))
    expect({ operationId, requirement }).toEqual({
      operationId,
      requirement: PUBLIC_OPERATIONS.includes(operationId)
        ? []
        : OPTIONAL_OPERATIONS.includes(operationId)
          ? [{}, ...alternatives]
          : alternatives,
    })
}

const BEARER = { type: 'http', scheme: 'bearer', description: expect.any(String) }
const HEADER = { type: 'apiKey', in: 'header', name: 'x-api-key', description: expect.any(String) }
const QUERY = { type: 'apiKey', in: 'query', name: 'key', description: expect.any(String) }

test('the committed openapi.yaml (default auth) has the bearer scheme only, and its Inbound operations their own', () => {
  const document = parse(readFileSync(join(import.meta.dir, '..', 'openapi.yaml'), 'utf8')) as Document
  expectSchemes(document, { bearer: BEARER })
  expect([...inboundSchemes(document)].sort()).toEqual([
    'inboundSecret',
    'mailgunSignature',
    'postmarkBasic',
    'sendgridSignature',
  ])
})

for (const [setting, schemes] of [
  ['bearer,header,query', { bearer: BEARER, apiKeyHeader: HEADER, apiKeyQuery: QUERY }],
  ['header', { apiKeyHeader: HEADER }],
] as const) {
  describe(`OpenAPI document with EPHEMAIL_AUTH=${setting}`, () => {
    let h: Awaited<ReturnType<typeof createApiHarness>>
    let document: Document
    beforeAll(async () => {
      h = await createApiHarness({ EPHEMAIL_AUTH: setting })
      const served = await h.call('GET', '/openapi.json', { token: null })
      expect(served.status).toBe(200)
      document = served.json
    }, 60_000)
    afterAll(() => h?.close())

    test('it lists exactly the enabled schemes, and every non-public operation accepts any one of them', () => {
      expectSchemes(document, schemes)
    })

    test('it is still a valid OpenAPI 3.1 document', async () => {
      await SwaggerParser.validate(structuredClone(document) as never)
    })
  })
}
