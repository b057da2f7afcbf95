// POST /v1/inbound (and /cloudflare, what the Email Worker in docs/ sends): a raw RFC 5322 message, the envelope in the query, a Bearer secret.

import { ProblemError } from '#lib/problem.ts'
import { deliver, type InboundAccepted, ipOrNull, readBody, requireBearer } from './deliver.ts'
import type { InboundRouteContext } from './route-context.ts'

/** Media types a raw message may be posted as (curl --data-binary sends what it is told). */
const RAW_TYPES = ['message/rfc822', 'application/octet-stream']

export async function receiveRaw(
  request: Request,
  context: InboundRouteContext,
  source: 'http:raw' | 'http:cloudflare',
): Promise<InboundAccepted> {
  requireBearer(request, context.options.secret)
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (!RAW_TYPES.includes(type))
    throw new ProblemError(
      415,
      'unsupported-media-type',
      `Send the message as Content-Type: message/rfc822 (got "${type || 'none'}")`,
    )
  const query = new URL(request.url).searchParams
  const raw = await readBody(request, context.options.maxBodyBytes)
  if (raw.byteLength === 0) throw new ProblemError(400, 'bad-request', 'The request body holds no message')
  return deliver(
    context.funnel,
    {
      raw,
      recipients: query.getAll('to').flatMap((to) => to.split(',')),
      mailFrom: query.get('from')?.trim() || null,
      remoteAddress: ipOrNull(query.get('ip'), 'ip'),
      helo: query.get('helo')?.trim() || null,
      source,
    },
    context.options.maxRecipients,
  )
}
