// POST /v1/inbound/sendgrid: SendGrid Inbound Parse in raw mode (email + envelope fields), signed (ECDSA P-256) or with the shared secret.

import { createPublicKey, verify } from 'node:crypto'
import {
  badPayload,
  badSignature,
  deliver,
  type InboundAccepted,
  inboundUnauthorized,
  ipOrNull,
  readBody,
  requireBearer,
  sameSecret,
} from './deliver.ts'
import { requireFresh } from './mailgun.ts'
import { FormError, formOf, type InboundRouteContext } from './route-context.ts'

export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature'
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp'

export async function receiveSendgrid(
  request: Request,
  context: InboundRouteContext,
): Promise<InboundAccepted> {
  const { sendgridPublicKey, maxBodyBytes, secret } = context.options
  if (!sendgridPublicKey) requireSecret(request, secret)
  const body = await readBody(request, maxBodyBytes)
  if (sendgridPublicKey) verifySignature(request, body, sendgridPublicKey, context)
  const form = await formOf(body, request.headers.get('content-type') ?? '').catch((error) => {
    throw error instanceof FormError ? badPayload(error.message) : error
  })
  const email = form.get('email')
  if (email === null)
    throw badPayload('The form has no "email" field: turn on "POST the raw, full MIME message"')
  const raw =
    typeof email === 'string' ? new TextEncoder().encode(email) : new Uint8Array(await email.arrayBuffer())
  let envelope: { to?: unknown; from?: unknown }
  try {
    envelope = JSON.parse(String(form.get('envelope') ?? ''))
  } catch {
    throw badPayload('The "envelope" field is not JSON ({"to":[...],"from":"..."})')
  }
  if (!Array.isArray(envelope.to) || !envelope.to.every((to) => typeof to === 'string'))
    throw badPayload('The "envelope" field has no "to" list')
  const senderIp = form.get('sender_ip')
  return deliver(
    context.funnel,
    {
      raw,
      recipients: envelope.to as string[],
      mailFrom: typeof envelope.from === 'string' ? envelope.from : null,
      remoteAddress: ipOrNull(typeof senderIp === 'string' ? senderIp : null, 'sender_ip'),
      helo: null,
      source: 'http:sendgrid',
    },
    context.options.maxRecipients,
  )
}

/** Without a public key the shared secret is taken, as Basic credentials in the URL or a Bearer header. */
function requireSecret(request: Request, secret: string): void {
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')
  if (!basic) {
    requireBearer(request, secret)
    return
  }
  let decoded = ''
  try {
    decoded = atob(basic[1] as string)
  } catch {}
  const password = decoded.slice(decoded.indexOf(':') + 1)
  if (!sameSecret(password, secret))
    throw inboundUnauthorized('The inbound secret is wrong', 'Basic realm="ephemail-inbound"')
}

/** SendGrid's signed webhooks: ECDSA (P-256, SHA-256, DER, base64) over the timestamp header followed by the body. */
function verifySignature(
  request: Request,
  body: Uint8Array,
  publicKey: string,
  context: InboundRouteContext,
) {
  const signature = request.headers.get(SIGNATURE_HEADER)
  const timestamp = request.headers.get(TIMESTAMP_HEADER)
  if (!signature || !timestamp)
    throw badSignature(`Signed requests carry ${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER}`)
  const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' })
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body])
  let valid = false
  try {
    valid = verify('sha256', signed, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'))
  } catch {
    valid = false
  }
  if (!valid) throw badSignature('The SendGrid signature does not verify with the configured public key')
  requireFresh(Number(timestamp), context)
}
