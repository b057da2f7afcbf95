// RFC 9457 problem details: the one error shape every HTTP failure is reported in.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Stable problem type slugs; each becomes `https://ephemail.dev/problems/<slug>`. */
export type ProblemSlug =
  | 'bad-request'
  | 'validation-failed'
  | 'malformed-json'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'upgrade-required'
  | 'conflict'
  | 'address-taken'
  | 'unknown-domain'
  | 'domain-not-allowed'
  | 'domain-type-mismatch'
  | 'invalid-domain'
  | 'insufficient-scope'
  | 'rate-limited'
  | 'mailbox-quota-exceeded'
  | 'unknown-plan'
  | 'invalid-local-part'
  | 'ttl-out-of-range'
  | 'payload-too-large'
  | 'limit-exceeded'
  | 'url-not-allowed'
  | 'unsupported-media-type'
  | 'invalid-signature'
  | 'unknown-recipient'
  | 'service-unavailable'
  | 'internal-error'

export const PROBLEM_TYPE_BASE = 'https://ephemail.dev/problems/'

const TITLES: Record<ProblemSlug, string> = {
  'bad-request': 'Bad request',
  'validation-failed': 'Request validation failed',
  'malformed-json': 'Malformed JSON body',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'upgrade-required': 'Upgrade required',
  conflict: 'Conflict',
  'address-taken': 'Address already taken',
  'unknown-domain': 'Unknown domain',
  'domain-not-allowed': 'Domain not allowed',
  'domain-type-mismatch': 'Domain type mismatch',
  'invalid-domain': 'Invalid domain name',
  'insufficient-scope': 'Insufficient scope',
  'rate-limited': 'Too many requests',
  'mailbox-quota-exceeded': 'Mailbox quota exceeded',
  'unknown-plan': 'Unknown plan',
  'invalid-local-part': 'Invalid local part',
  'ttl-out-of-range': 'Lifetime out of range',
  'payload-too-large': 'Payload too large',
  'limit-exceeded': 'Limit exceeded',
  'url-not-allowed': 'URL not allowed',
  'unsupported-media-type': 'Unsupported media type',
  'invalid-signature': 'Invalid signature',
  'unknown-recipient': 'No live recipient',
  'service-unavailable': 'Service unavailable',
  'internal-error': 'Internal server error',
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  /** Extension member: per-field validation errors. */
  errors?: { path: string; message: string }[]
}

/** The single error type of the project: thrown anywhere, rendered once as problem+json. */
export class ProblemError extends Error {
  readonly status: number
  readonly slug: ProblemSlug
  readonly headers: Record<string, string>
  readonly errors: Problem['errors']

  constructor(
    status: number,
    slug: ProblemSlug,
    detail: string,
    options: { headers?: Record<string, string>; errors?: Problem['errors'] } = {},
  ) {
    super(detail)
    this.name = 'ProblemError'
    this.status = status
    this.slug = slug
    this.headers = options.headers ?? {}
    this.errors = options.errors
  }

  toProblem(instance?: string): Problem {
    return problem(this.status, this.slug, this.message, { instance, errors: this.errors })
  }
}

export function problem(
  status: number,
  slug: ProblemSlug,
  detail: string,
  extra: { instance?: string; errors?: Problem['errors'] } = {},
): Problem {
  const body: Problem = { type: PROBLEM_TYPE_BASE + slug, title: TITLES[slug], status, detail }
  if (extra.instance) body.instance = extra.instance
  if (extra.errors?.length) body.errors = extra.errors
  return body
}

export function problemResponse(body: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  })
}

/**
 * A 401. Its WWW-Authenticate challenges depend on the credential styles a server accepts, so the
 * HTTP layer adds them when rendering, for every 401 alike.
 */
export function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, 'unauthorized', detail)
}
