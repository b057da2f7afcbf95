// POST /v1/inbound/mailgun: a Mailgun route's forward() to a URL ending in "mime" (body-mime), signed with the webhook signing key.

import { createHmac } from 'node:crypto'
import { ProblemError } from '#lib/problem.ts'
import { badPayload, badSignature, deliver, type InboundAccepted, readBody, sameSecret } from './deliver.ts'
import { FormError, formOf, type InboundRouteContext } from './route-context.ts'

/** Mailgun's documented scheme: hex HMAC-SHA256 of timestamp + token under the signing key. */
export function mailgunSignature(signingKey: string, timestamp: string, token: string): string {
  return createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest('hex')
}

export async function receiveMailgun(
  request: Request,
  context: InboundRouteContext,
): Promise<InboundAccepted> {
  const { mailgunSigningKey, maxBodyBytes } = context.options
  if (!mailgunSigningKey)
    throw new ProblemError(404, 'not-found', 'The Mailgun adapter is not configured on this server')
  const body = await readBody(request, maxBodyBytes)
  const form = await formOf(body, request.headers.get('content-type') ?? '').catch((error) => {
    throw error instanceof FormError ? badPayload(error.message) : error
  })
  const field = (name: string) => {
    const value = form.get(name)
    return typeof value === 'string' ? value : null
  }
  const timestamp = field('timestamp')
  const token = field('token')
  const signature = field('signature')
  if (!timestamp || !token || !signature)
    throw badSignature('The Mailgun form lacks timestamp, token or signature')
  if (!sameSecret(signature.toLowerCase(), mailgunSignature(mailgunSigningKey, timestamp, token)))
    throw badSignature('The Mailgun signature does not match the signing key')
  requireFresh(Number(timestamp), context)
  const mime = form.get('body-mime')
  if (mime === null)
    throw badPayload('The Mailgun form has no body-mime field (route to a URL ending in "mime")')
  const raw =
    typeof mime === 'string' ? new TextEncoder().encode(mime) : new Uint8Array(await mime.arrayBuffer())
  return deliver(
    context.funnel,
    {
      raw,
      recipients: (field('recipient') ?? '').split(','),
      mailFrom: field('sender'),
      remoteAddress: null,
      helo: null,
      source: 'http:mailgun',
    },
    context.options.maxRecipients,
  )
}

/** A signed request's timestamp (seconds) must be near now: a captured request cannot be replayed later. */
export function requireFresh(seconds: number, { options }: InboundRouteContext): void {
  const tolerance = options.signatureToleranceSeconds ?? 3600
  const now = (options.now?.() ?? new Date()).getTime() / 1000
  if (!Number.isFinite(seconds) || Math.abs(now - seconds) > tolerance)
    throw badSignature(`The signed timestamp is more than ${tolerance} s away from this server's clock`)
}
