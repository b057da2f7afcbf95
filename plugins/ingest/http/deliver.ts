// What every inbound route shares: the capped body read, secret comparison, the dedupe key, and handing a message to the funnel.

import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { type IngestFunnel, MessageTooLargeError } from '#contracts/ingest.ts'
import { ProblemError } from '#lib/problem.ts'

/** The 202 body: one entry per recipient mailbox (an earlier copy when `duplicate`), and who was refused. */
export interface InboundAccepted {
  messages: { id: string; address: string; duplicate: boolean }[]
  rejected: string[]
}

/** A delivery as an adapter decoded it from its provider's request. */
export interface InboundDelivery {
  raw: Uint8Array
  recipients: string[]
  mailFrom: string | null
  remoteAddress: string | null
  helo: string | null
  source: string
  /** The provider's message id when it has one; else the Message-ID header is used. */
  providerId?: string
}

/** Header bytes scanned for Message-ID: a header section longer than this is not worth deduping by. */
const MAX_HEADER_SCAN_BYTES = 256 * 1024

/**
 * Reads the body up to `limit` bytes: the API refuses a declared length past it before any route runs,
 * but a chunked body (a Cloudflare worker's stream) declares none.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  const body = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

export const tooLarge = (limit: number) =>
  new ProblemError(413, 'payload-too-large', `The request body exceeds ${limit} bytes`)

export const badPayload = (detail: string) => new ProblemError(400, 'bad-request', detail)

export const badSignature = (detail: string) => new ProblemError(401, 'invalid-signature', detail)

/** Compares a presented secret with the configured one in constant time (both hashed to one length first). */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(presented), digest(expected))
}

/** The Bearer credential of a request, or a 401 saying what is missing. */
export function requireBearer(request: Request, secret: string): void {
  const header = request.headers.get('authorization') ?? ''
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match) throw inboundUnauthorized('Send "Authorization: Bearer <EPHEMAIL_INBOUND_SECRET>"')
  if (!sameSecret(match[1] as string, secret)) throw inboundUnauthorized('The inbound secret is wrong')
}

/** A 401 that challenges for the inbound credential, not the API's. */
export function inboundUnauthorized(detail: string, challenge = 'Bearer realm="ephemail-inbound"') {
  return new ProblemError(401, 'unauthorized', detail, { headers: { 'www-authenticate': challenge } })
}

/** An IP address given for SPF, or null; anything else is a bad request. */
export function ipOrNull(value: string | null | undefined, field: string): string | null {
  const trimmed = value?.trim()
  if (!trimmed) return null
  if (!isIP(trimmed)) throw badPayload(`${field} "${trimmed}" is not an IP address`)
  return trimmed
}

/** The Message-ID header of a raw message (unfolded, trimmed), or null. */
export function messageIdOf(raw: Uint8Array): string | null {
  const head = new TextDecoder('latin1').decode(raw.subarray(0, MAX_HEADER_SCAN_BYTES))
  const end = head.search(/\r?\n\r?\n/)
  const headers = (end === -1 ? head : head.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ')
  const match = /^message-id:[ \t]*(.+)$/im.exec(headers)
  return match?.[1]?.trim() || null
}

/**
 * What makes a retry of this delivery recognisable: the provider's id, else the Message-ID, else the
 * bytes themselves (a retry resends the same bytes). The funnel scopes it to each recipient mailbox.
 */
export function dedupeKeyOf(delivery: InboundDelivery): string {
  if (delivery.providerId) return `${delivery.source}:${delivery.providerId}`
  const messageId = messageIdOf(delivery.raw)
  if (messageId) return `message-id:${messageId}`
  return `sha256:${createHash('sha256').update(delivery.raw).digest('hex')}`
}

/**
 * Checks each recipient as SMTP does at RCPT (no mailbox, unknown domain, full), hands the message to the
 * funnel for the accepted ones and resolves once it is stored: only then may the route answer 202.
 */
export async function deliver(
  funnel: IngestFunnel,
  delivery: InboundDelivery,
  maxRecipients: number,
): Promise<InboundAccepted> {
  const recipients = [...new Set(delivery.recipients.map((recipient) => recipient.trim()).filter(Boolean))]
  if (recipients.length === 0) throw badPayload('The request names no recipient')
  if (recipients.length > maxRecipients)
    throw badPayload(`The request names ${recipients.length} recipients; at most ${maxRecipients} are taken`)
  const verdicts = await Promise.all(recipients.map((recipient) => funnel.checkRecipient(recipient)))
  const refused = recipients.flatMap((recipient, index) => {
    const verdict = verdicts[index]
    return verdict && !verdict.accepted ? [`${recipient} (${verdict.reason})`] : []
  })
  const accepted = recipients.filter((_, index) => verdicts[index]?.accepted)
  if (accepted.length === 0) throw noRecipient(refused)
  try {
    const result = await funnel.ingestMessage({
      raw: delivery.raw,
      envelope: {
        mailFrom: delivery.mailFrom,
        rcptTo: accepted,
        remoteAddress: delivery.remoteAddress,
        helo: delivery.helo,
        source: delivery.source,
      },
      source: delivery.source,
      dedupeKey: dedupeKeyOf(delivery),
    })
    // A mailbox can expire between the check and the write.
    if (result.stored.length === 0)
      throw noRecipient([...refused, ...result.rejected.map((address) => `${address} (no-such-mailbox)`)])
    return {
      messages: result.stored.map((copy) => ({
        id: copy.messageId,
        address: copy.address,
        duplicate: copy.duplicate,
      })),
      rejected: [...refused.map((entry) => entry.replace(/ \(.*\)$/, '')), ...result.rejected],
    }
  } catch (error) {
    if (error instanceof MessageTooLargeError)
      throw new ProblemError(413, 'payload-too-large', `The message is too large: ${error.message}`)
    throw error
  }
}

const noRecipient = (refused: string[]) =>
  new ProblemError(
    422,
    'unknown-recipient',
    `No recipient has a live mailbox here, so nothing was stored: ${refused.join(', ')}`,
  )
