// POST /v1/inbound/postmark: Postmark's inbound JSON, authenticated by the Basic credentials put in the webhook URL.

import { ProblemError } from '#lib/problem.ts'
import {
  badPayload,
  deliver,
  type InboundAccepted,
  inboundUnauthorized,
  readBody,
  sameSecret,
} from './deliver.ts'
import { type PostmarkInbound, postmarkToMime } from './postmark-mime.ts'
import type { InboundRouteContext } from './route-context.ts'

const CHALLENGE = 'Basic realm="ephemail-inbound-postmark"'

export async function receivePostmark(
  request: Request,
  context: InboundRouteContext,
): Promise<InboundAccepted> {
  const { postmark, maxBodyBytes } = context.options
  if (!postmark)
    throw new ProblemError(404, 'not-found', 'The Postmark adapter is not configured on this server')
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')
  if (!basic)
    throw inboundUnauthorized(
      'Put the Postmark credentials in the webhook URL (https://USER:PASS@host/...)',
      CHALLENGE,
    )
  let decoded = ''
  try {
    decoded = atob(basic[1] as string)
  } catch {}
  const colon = decoded.indexOf(':')
  // Both compared, always: the answer takes as long whichever half is wrong.
  const userOk = sameSecret(decoded.slice(0, Math.max(colon, 0)), postmark.user)
  const passwordOk = sameSecret(decoded.slice(colon + 1), postmark.password)
  if (colon === -1 || !userOk || !passwordOk)
    throw inboundUnauthorized('The Postmark credentials are wrong', CHALLENGE)

  const body = await readBody(request, maxBodyBytes)
  let payload: PostmarkInbound
  try {
    payload = JSON.parse(new TextDecoder().decode(body))
  } catch {
    throw badPayload('The body is not JSON (Postmark inbound webhook)')
  }
  if (!payload || typeof payload !== 'object' || (!payload.FromFull && !payload.From && !payload.RawEmail))
    throw badPayload('The JSON is not a Postmark inbound message (no From)')
  const listed = [...(payload.ToFull ?? []), ...(payload.CcFull ?? []), ...(payload.BccFull ?? [])]
  if (!listed.every((entry) => typeof entry?.Email === 'string'))
    throw badPayload('ToFull, CcFull and BccFull hold {"Email": ...} entries')
  if (
    payload.Attachments &&
    !payload.Attachments.every(
      (entry) => typeof entry?.Content === 'string' && typeof entry.Name === 'string',
    )
  )
    throw badPayload('Attachments hold {"Name", "Content" (base64), "ContentType"} entries')
  const recipients = [payload.OriginalRecipient ?? '', ...listed.map((entry) => entry.Email)]
  return deliver(
    context.funnel,
    {
      raw: postmarkToMime(payload),
      recipients,
      mailFrom: payload.FromFull?.Email ?? null,
      remoteAddress: null,
      helo: null,
      source: 'http:postmark',
      providerId: typeof payload.MessageID === 'string' && payload.MessageID ? payload.MessageID : undefined,
    },
    context.options.maxRecipients,
  )
}
