// What each inbound adapter is handed: the funnel and the plugin's options.

import type { IngestFunnel } from '#contracts/ingest.ts'

export interface HttpIngestOptions {
  /** Shared secret of /v1/inbound and /v1/inbound/cloudflare (Authorization: Bearer). */
  secret: string
  /** Mailgun's webhook signing key; null: /v1/inbound/mailgun answers 404. */
  mailgunSigningKey: string | null
  /** SendGrid's signed-webhook public key (base64 DER); null: /v1/inbound/sendgrid takes the shared secret. */
  sendgridPublicKey: string | null
  /** Postmark's Basic credentials; null: /v1/inbound/postmark answers 404. */
  postmark: { user: string; password: string } | null
  /** Largest request body (a message at the size limit, base64 inside a form or JSON). */
  maxBodyBytes: number
  /** Recipients one request may name: caps fan-out of one message into many stored copies. */
  maxRecipients: number
  /** How far a signed request's timestamp may be from now (replays of an old capture are refused). */
  signatureToleranceSeconds?: number
  now?: () => Date
}

export interface InboundRouteContext {
  funnel: IngestFunnel
  options: HttpIngestOptions
}

/** Form fields of a multipart or urlencoded body already read (and size-capped). */
export async function formOf(body: Uint8Array, contentType: string): Promise<FormData> {
  try {
    return await new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': contentType },
    }).formData()
  } catch {
    return Promise.reject(new FormError())
  }
}

export class FormError extends Error {
  override name = 'FormError'
  constructor() {
    super('The body is not multipart/form-data or a urlencoded form')
  }
}
