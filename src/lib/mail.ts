// Mail parsing: turns raw RFC 5322 bytes into the parsed message the API serves, via postal-mime.

import PostalMime, { type Address, type Email } from 'postal-mime'

/**
 * A MIME tree deeper than this is a parser bomb, not mail: real messages nest a handful
 * of levels (mixed > alternative > related). postal-mime rejects the parse past it.
 */
export const MAX_MIME_NESTING_DEPTH = 32
/** Header bytes across all parts; stops a message of endless headers from eating memory. */
export const MAX_HEADER_BYTES = 1024 * 1024

export interface MailAddress {
  name: string
  address: string
}

export interface MailHeader {
  name: string
  value: string
}

export interface AttachmentInfo {
  /** Position-based id, stable for a given raw message: "1", "2", ... */
  id: string
  filename: string | null
  contentType: string
  size: number
  disposition: string | null
  contentId: string | null
}

export interface ParsedMail {
  headers: MailHeader[]
  from: MailAddress | null
  to: MailAddress[]
  cc: MailAddress[]
  replyTo: MailAddress[]
  subject: string | null
  date: string | null
  messageId: string | null
  text: string | null
  html: string | null
  attachments: AttachmentInfo[]
}

const PARSE_OPTIONS = {
  maxNestingDepth: MAX_MIME_NESTING_DEPTH,
  maxHeadersSize: MAX_HEADER_BYTES,
  attachmentEncoding: 'arraybuffer',
} as const

function flattenAddresses(addresses: Address[] | Address | undefined): MailAddress[] {
  if (!addresses) return []
  const list = Array.isArray(addresses) ? addresses : [addresses]
  const out: MailAddress[] = []
  for (const entry of list) {
    if (entry.group)
      for (const member of entry.group) out.push({ name: member.name, address: member.address })
    else if (entry.address !== undefined) out.push({ name: entry.name, address: entry.address })
  }
  return out
}

function byteLength(content: ArrayBuffer | Uint8Array | string): number {
  return typeof content === 'string' ? new TextEncoder().encode(content).byteLength : content.byteLength
}

function toParsedMail(email: Email): ParsedMail {
  return {
    headers: email.headers.map((header) => ({ name: header.originalKey, value: header.value })),
    from: flattenAddresses(email.from)[0] ?? null,
    to: flattenAddresses(email.to),
    cc: flattenAddresses(email.cc),
    replyTo: flattenAddresses(email.replyTo),
    subject: email.subject ?? null,
    date: email.date ?? null,
    messageId: email.messageId ?? null,
    text: email.text ?? null,
    html: email.html ?? null,
    attachments: email.attachments.map((attachment, index) => ({
      id: String(index + 1),
      filename: attachment.filename,
      contentType: attachment.mimeType,
      size: byteLength(attachment.content),
      disposition: attachment.disposition,
      contentId: attachment.contentId ?? null,
    })),
  }
}

/** Parses a raw message. Rejects only for inputs past the limits above. */
export async function parseMail(raw: Uint8Array): Promise<ParsedMail> {
  return toParsedMail(await PostalMime.parse(raw, PARSE_OPTIONS))
}

/** Re-parses the raw message to hand out one attachment's bytes (they are not stored twice). */
export async function readAttachment(
  raw: Uint8Array,
  attachmentId: string,
): Promise<{ info: AttachmentInfo; content: Uint8Array<ArrayBuffer> } | null> {
  const email = await PostalMime.parse(raw, PARSE_OPTIONS)
  const index = Number(attachmentId) - 1
  const attachment = Number.isInteger(index) ? email.attachments[index] : undefined
  if (!attachment) return null
  const info = toParsedMail({ ...email, attachments: [attachment] }).attachments[0] as AttachmentInfo
  const content =
    typeof attachment.content === 'string'
      ? new TextEncoder().encode(attachment.content)
      : new Uint8Array(attachment.content)
  return { info: { ...info, id: attachmentId }, content }
}
