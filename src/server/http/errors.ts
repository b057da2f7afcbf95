// One error handler: every failure leaves the server as application/problem+json (RFC 9457), never a stack trace.

import type { ValidationError } from 'elysia'
import { loggableError } from '#lib/loggable-error.ts'
import { type Problem, ProblemError, problem, problemResponse } from '#lib/problem.ts'

interface RouteShape {
  method: string
  pattern: RegExp
}

/** Turns `/v1/messages/:id` into a matcher, so a 404 can tell "wrong method" (405) apart. */
export function routeShapes(routes: readonly { method: string; path: string }[]): RouteShape[] {
  return routes.map((route) => ({
    method: route.method.toUpperCase(),
    pattern: new RegExp(
      `^${route.path
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:[^/]+/g, '[^/]+')
        .replace(/\*/g, '.*')}$`,
    ),
  }))
}

/** Methods a path answers; a WebSocket route (Elysia's `WS`) is opened by a GET. */
export function allowedMethods(shapes: readonly RouteShape[], pathname: string): string[] {
  const methods = new Set<string>()
  for (const shape of shapes)
    if (shape.pattern.test(pathname)) methods.add(shape.method === 'WS' ? 'GET' : shape.method)
  if (methods.has('GET')) methods.add('HEAD')
  return [...methods].sort()
}

/** A path whose only GET is a WebSocket: a GET without the handshake reaches no route. */
function upgradeOnly(shapes: readonly RouteShape[], pathname: string): boolean {
  const here = shapes.filter((shape) => shape.pattern.test(pathname))
  return here.some((shape) => shape.method === 'WS') && !here.some((shape) => shape.method === 'GET')
}

type SchemaLike = { type?: string; format?: string; anyOf?: SchemaLike[]; enum?: unknown[] }

/**
 * TypeBox says "Expected union value" for coercible numbers and "Expected kind 'UnionEnum'" for one of a
 * few strings: name the types, or the values, instead.
 */
function issueMessage(message: string, schema: SchemaLike | undefined): string {
  if (message === "Expected kind 'UnionEnum'" && Array.isArray(schema?.enum))
    return `Expected one of ${schema.enum.join(', ')}`
  if (message !== 'Expected union value' || !schema?.anyOf) return message
  const types = new Set(
    schema.anyOf.map((option) =>
      option.format === 'integer' ? 'integer' : option.format === 'numeric' ? 'number' : option.type,
    ),
  )
  types.delete(undefined)
  return `Expected ${[...types].join(' or ')}`
}

function validationProblem(error: ValidationError, instance: string): Problem {
  // A schema's own `error` text ("query.limit: must be ...") wins: it names the field.
  if (typeof error.customError === 'string') {
    const [path = 'request', message = error.customError] = error.customError.split(': ')
    return problem(400, 'validation-failed', error.customError, { instance, errors: [{ path, message }] })
  }
  const location = error.type === 'params' ? 'path' : error.type
  const errors = error.all.map((issue) => {
    const field =
      'path' in issue && issue.path ? String(issue.path).replace(/^\//, '').replaceAll('/', '.') : ''
    const message =
      'message' in issue && issue.message
        ? issueMessage(issue.message, (issue as { schema?: SchemaLike }).schema)
        : 'summary' in issue && issue.summary
          ? String(issue.summary)
          : 'is invalid'
    return { path: field ? `${location}.${field}` : location, message }
  })
  const first = errors[0]
  const detail = first ? `${first.path}: ${first.message}` : `The request ${location} is invalid`
  return problem(400, 'validation-failed', detail, { instance, errors })
}

export interface ErrorContext {
  code: string | number
  error: unknown
  request: Request
  /** Known routes, for telling 405 from 404. */
  shapes: () => readonly RouteShape[]
  /** WWW-Authenticate challenges of the accepted credential styles, sent with every 401. */
  challenges: readonly string[]
}

/** The Problem an error stands for, with the headers its answer carries (Allow, WWW-Authenticate, Retry-After). */
export function problemOf({ code, error, request, shapes, challenges }: ErrorContext): {
  problem: Problem
  headers: Record<string, string>
} {
  const instance = new URL(request.url).pathname
  // A ProblemError thrown while parsing the body reaches us wrapped in Elysia's ParseError.
  const cause = (error as { cause?: unknown } | null)?.cause
  const own = error instanceof ProblemError ? error : cause instanceof ProblemError ? cause : null
  if (own) {
    const headers =
      own.status === 401 && challenges.length > 0
        ? { 'www-authenticate': challenges.join(', '), ...own.headers }
        : own.headers
    return { problem: own.toProblem(instance), headers }
  }
  switch (code) {
    case 'VALIDATION':
      return { problem: validationProblem(error as ValidationError, instance), headers: {} }
    case 'PARSE':
      return {
        problem: problem(400, 'malformed-json', 'The request body could not be parsed', { instance }),
        headers: {},
      }
    case 'NOT_FOUND': {
      // RFC 9110 §15.5.22: 426 names the protocol to switch to in Upgrade (and Connection says so).
      if ((request.method === 'GET' || request.method === 'HEAD') && upgradeOnly(shapes(), instance))
        return {
          problem: problem(
            426,
            'upgrade-required',
            `${instance} is a WebSocket: open it with a handshake (Upgrade: websocket), not a plain ${request.method}`,
            { instance },
          ),
          headers: { upgrade: 'websocket', connection: 'Upgrade' },
        }
      const allowed = allowedMethods(shapes(), instance)
      if (allowed.length > 0)
        return {
          problem: problem(
            405,
            'method-not-allowed',
            `${request.method} is not supported on ${instance}; use ${allowed.join(', ')}`,
            { instance },
          ),
          headers: { allow: allowed.join(', ') },
        }
      return {
        problem: problem(404, 'not-found', `There is no route ${request.method} ${instance}`, { instance }),
        headers: {},
      }
    }
    default:
      console.error(`unhandled error on ${request.method} ${instance}: ${loggableError(error)}`)
      return {
        problem: problem(
          500,
          'internal-error',
          'The server failed to handle this request; it has been logged',
          { instance },
        ),
        headers: {},
      }
  }
}

/** The native answer: application/problem+json (RFC 9457). */
export function renderError(context: ErrorContext): Response {
  const { problem, headers } = problemOf(context)
  return problemResponse(problem, headers)
}
