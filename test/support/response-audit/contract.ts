// The response contract of openapi.yaml: finds the operation of a request and lists every way a response differs from it.

import SwaggerParser from '@apidevtools/swagger-parser'
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { parse } from 'yaml'

// biome-ignore lint/suspicious/noExplicitAny: the document is arbitrary JSON read at run time
type Schema = Record<string, any>

/** One response as a client saw it; `body` is null when it was not read (a stream, a HEAD, an aborted read). */
export interface SeenResponse {
  method: string
  /** The path without the query, as sent (percent-encoded). */
  path: string
  status: number
  headers: Headers
  body: string | null
}

export interface Verdict {
  /** `METHOD /template` of the documented operation, or `METHOD /path (no operation)`. */
  route: string
  problems: string[]
}

/**
 * Headers any HTTP response may carry without the document naming them: the framing and caching headers of
 * RFC 9110/9111, the browser security headers every answer of this API carries (security-headers.ts) and CORS
 * (Fetch standard). Anything else (the rate-limit headers, Retry-After, Upgrade) must be documented on the
 * response that carries it.
 */
export const STANDARD_HEADERS: ReadonlySet<string> = new Set([
  'accept-ranges',
  'age',
  'allow',
  'cache-control',
  'connection',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-range',
  'content-type',
  'date',
  'etag',
  'expires',
  'keep-alive',
  'last-modified',
  'location',
  'pragma',
  'transfer-encoding',
  'vary',
  'www-authenticate',
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'permissions-policy',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-expose-headers',
  'access-control-max-age',
])

/**
 * What a request that reaches no documented operation (an unknown path, a method the path does not have)
 * may answer: the app's router and its request-level rules (app.ts, errors.ts), always problem+json. No
 * operation can document these, so the rule is here: 404 or 405 from the router, 413 from the declared
 * length, 400/401/415 from the body parser or the principal, 429 from metering, which runs first.
 */
export const UNROUTED_STATUSES: ReadonlySet<number> = new Set([400, 401, 404, 405, 413, 415, 429])

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/

interface DocumentedOperation {
  method: string
  template: string
  /** The template's segments: a literal, or null for a `{parameter}`. */
  segments: (string | null)[]
  operation: Schema
}

/**
 * Every object schema that lists its properties and says nothing of others is closed for this check:
 * "no undocumented field" is the point of the audit, while the document itself stays open for clients
 * (an added field is not a breaking change). The document has no allOf, where closing would be wrong.
 */
function closeObjects(schema: unknown, seen = new WeakSet<object>()): void {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return
  seen.add(schema)
  const node = schema as Schema
  if (node.allOf) throw new Error('closeObjects: allOf would need unevaluatedProperties instead')
  if (node.properties && node.additionalProperties === undefined && node.type === 'object')
    node.additionalProperties = false
  for (const value of Object.values(node)) closeObjects(value, seen)
}

const describeError = (error: ErrorObject) =>
  `${error.instancePath || 'as a whole'} ${error.message}${
    error.keyword === 'additionalProperties' ? ` (${error.params.additionalProperty})` : ''
  }`

export interface ResponseContract {
  /** Every difference between the response and the document, with the route it was matched to. */
  check(seen: SeenResponse): Verdict
  readonly operationCount: number
}

/** Builds the contract from the YAML text of an OpenAPI 3.1 document. */
export async function loadResponseContract(yamlText: string): Promise<ResponseContract> {
  const document = (await SwaggerParser.dereference(parse(yamlText))) as Schema
  const operations: DocumentedOperation[] = []
  for (const [template, item] of Object.entries<Schema>(document.paths ?? {}))
    for (const method of HTTP_METHODS)
      if (item[method])
        operations.push({
          method: method.toUpperCase(),
          template,
          segments: template.split('/').map((segment) => (/^\{[^}]+\}$/.test(segment) ? null : segment)),
          operation: item[method],
        })
  const componentHeaders = new Set(
    Object.keys(document.components?.headers ?? {}).map((name) => name.toLowerCase()),
  )
  const problemSchema = document.components?.schemas?.Problem as Schema | undefined
  if (!problemSchema) throw new Error('the document has no Problem schema')

  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  addFormats(ajv)
  // OpenAPI's marker for raw bytes: nothing a JSON validator can check.
  ajv.addFormat('binary', true)
  const validators = new Map<object, ValidateFunction>()
  const validatorOf = (schema: Schema) => {
    let validate = validators.get(schema)
    if (!validate) {
      const closed = structuredClone(schema)
      closeObjects(closed)
      validate = ajv.compile(closed)
      validators.set(schema, validate)
    }
    return validate
  }

  /** The operations whose template fits the path; a literal segment beats a parameter (as routers do). */
  function operationsAt(path: string): DocumentedOperation[] {
    const segments = path.split('/')
    const fitting = operations.filter(
      (candidate) =>
        candidate.segments.length === segments.length &&
        candidate.segments.every((literal, index) =>
          literal === null ? segments[index] !== '' : literal === segments[index],
        ),
    )
    const literals = (candidate: DocumentedOperation) =>
      candidate.segments.filter((segment) => segment !== null).length
    const best = Math.max(-1, ...fitting.map(literals))
    return fitting.filter((candidate) => literals(candidate) === best)
  }

  function checkBody(
    problems: string[],
    seen: SeenResponse,
    mediaType: string,
    content: Schema | undefined,
  ): void {
    if (seen.body === null || !JSON_MEDIA_TYPE.test(mediaType) || !content?.schema) return
    let value: unknown
    try {
      value = JSON.parse(seen.body)
    } catch {
      problems.push(`the ${mediaType} body is not JSON: ${JSON.stringify(seen.body.slice(0, 80))}`)
      return
    }
    const validate = validatorOf(content.schema)
    if (!validate(value))
      for (const error of validate.errors ?? []) problems.push(`body ${describeError(error)}`)
  }

  function checkHeaders(problems: string[], seen: SeenResponse, documented: ReadonlySet<string>): void {
    for (const name of seen.headers.keys())
      if (!STANDARD_HEADERS.has(name) && !documented.has(name))
        problems.push(`undocumented header ${name}: ${JSON.stringify(seen.headers.get(name))}`)
  }

  function checkRouted(seen: SeenResponse, found: DocumentedOperation, problems: string[]): void {
    const responses = found.operation.responses ?? {}
    const response: Schema | undefined =
      responses[String(seen.status)] ?? responses[`${String(seen.status)[0]}XX`] ?? responses.default
    if (!response) {
      problems.push(`undocumented status (documented: ${Object.keys(responses).join(', ')})`)
      return
    }
    const headers: Record<string, Schema> = response.headers ?? {}
    const documented = new Set(Object.keys(headers).map((name) => name.toLowerCase()))
    for (const [name, header] of Object.entries(headers)) {
      const value = seen.headers.get(name)
      if (value === null) {
        if (header.required) problems.push(`required header ${name} is missing`)
      } else if (header.schema?.type === 'integer' && !/^-?\d+$/.test(value))
        problems.push(`header ${name} is not an integer: ${JSON.stringify(value)}`)
    }
    checkHeaders(problems, seen, documented)
    const mediaType = (seen.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    const content: Record<string, Schema> | undefined = response.content
    if (!content) {
      if (mediaType !== '') problems.push(`content type ${mediaType} where the document says no body`)
      if (seen.body)
        problems.push(`a body where the document says none: ${JSON.stringify(seen.body.slice(0, 80))}`)
      return
    }
    // A range (`*/*`, `text/*`) documents every type it covers; the exact type wins (OpenAPI 3.1 §4.8.14).
    const documentedAs = [mediaType, `${mediaType.split('/')[0]}/*`, '*/*'].find((key) =>
      Object.hasOwn(content, key),
    )
    if (documentedAs === undefined) {
      problems.push(
        `undocumented content type ${JSON.stringify(mediaType)} (documented: ${Object.keys(content).join(', ')})`,
      )
      return
    }
    checkBody(problems, seen, mediaType, content[documentedAs])
  }

  function checkUnrouted(seen: SeenResponse, problems: string[]): void {
    // A CORS preflight is answered by the Fetch standard's rules (security-headers.ts), not by an operation.
    if (seen.method === 'OPTIONS' && seen.status === 204 && !seen.body) {
      checkHeaders(problems, seen, new Set())
      return
    }
    if (!UNROUTED_STATUSES.has(seen.status))
      problems.push(
        `status ${seen.status} for a request no operation describes (allowed: ${[...UNROUTED_STATUSES].join(', ')})`,
      )
    checkHeaders(problems, seen, componentHeaders)
    const mediaType = (seen.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (seen.method === 'HEAD') return
    if (mediaType !== 'application/problem+json') {
      problems.push(`content type ${JSON.stringify(mediaType)}, not application/problem+json`)
      return
    }
    checkBody(problems, seen, mediaType, { schema: problemSchema })
  }

  return {
    operationCount: operations.length,
    check(seen) {
      const problems: string[] = []
      const here = operationsAt(seen.path)
      // HEAD is answered by the GET route (Elysia), without a body.
      const method = seen.method === 'HEAD' ? 'GET' : seen.method
      const found = here.find((candidate) => candidate.method === method)
      if (!found) {
        checkUnrouted(seen, problems)
        return { route: `${seen.method} ${seen.path} (no operation)`, problems }
      }
      checkRouted(seen.method === 'HEAD' ? { ...seen, body: null } : seen, found, problems)
      return { route: `${seen.method} ${found.template}`, problems }
    },
  }
}
