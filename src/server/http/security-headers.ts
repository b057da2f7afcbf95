// Security headers on every HTTP response, and the CORS policy (EPHEMAIL_CORS_ORIGINS) for browsers on other origins.

/**
 * Every response: no MIME sniffing (an attachment must not become a page), no referrer leaking a
 * mailbox address to a linked site, never framed by another site. JSON needs no script or style.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
})

/**
 * Swagger UI: its own files only. Its styles are partly inline (style attributes); scripts are not
 * (the page's start-up code is a served file), so no inline script can run.
 */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/**
 * The web inbox (GET /): its own script and style sheet only, no inline script or style, API calls and
 * the event stream to this origin only. A message's iframe (srcdoc) inherits this policy and adds its
 * own (src/web/message-frame.ts): `style-src data:` is the message's styles moved into a data: style sheet;
 * `img-src http: https:` lets remote images load once the user allows them for a message, since the
 * frame's own policy, which blocks them until then, can narrow this one but never widen it.
 */
export const PAGE_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' data:; img-src 'self' data: http: https:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; worker-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/** Methods and request headers a cross-origin browser may use (preflight answers). */
const CORS_METHODS = 'GET, POST, PATCH, DELETE'
// x-api-key for the header credential style (harmless when that style is off: nothing reads it).
const CORS_REQUEST_HEADERS = 'authorization, x-api-key, content-type, last-event-id'
/** Response headers a cross-origin script may read. */
const CORS_EXPOSED_HEADERS =
  'location, www-authenticate, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-used, x-ratelimit-reset, ratelimit-policy, ratelimit'
/** How long a browser may reuse a preflight answer. */
const CORS_MAX_AGE_SECONDS = 600

export type CorsOrigins = '*' | readonly string[]

/** The CORS headers for a request from `origin`, or none when that origin is not allowed. */
export function corsHeaders(allowed: CorsOrigins, origin: string | null): Record<string, string> {
  if (origin === null) return {}
  if (allowed === '*')
    return { 'access-control-allow-origin': '*', 'access-control-expose-headers': CORS_EXPOSED_HEADERS }
  if (!allowed.includes(origin)) return {}
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS,
    vary: 'origin',
  }
}

/** The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method). */
export function preflightResponse(allowed: CorsOrigins, origin: string | null): Response {
  const cors = corsHeaders(allowed, origin)
  const headers: Record<string, string> = { ...API_SECURITY_HEADERS, ...cors }
  if (cors['access-control-allow-origin']) {
    headers['access-control-allow-methods'] = CORS_METHODS
    headers['access-control-allow-headers'] = CORS_REQUEST_HEADERS
    headers['access-control-max-age'] = String(CORS_MAX_AGE_SECONDS)
  }
  return new Response(null, { status: 204, headers })
}
