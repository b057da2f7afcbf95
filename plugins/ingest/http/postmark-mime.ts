// Postmark's inbound JSON rebuilt into an RFC 5322 message: its headers, text, HTML and attachments, as they were sent.

/** The fields of Postmark's inbound webhook this rebuild reads (https://postmarkapp.com/developer/webhooks/inbound-webhook). */
export interface PostmarkInbound {
  MessageID?: string
  From?: string
  FromFull?: PostmarkAddress
  To?: string
  ToFull?: PostmarkAddress[]
  Cc?: string
  CcFull?: PostmarkAddress[]
  BccFull?: PostmarkAddress[]
  OriginalRecipient?: string
  ReplyTo?: string
  Subject?: string
  Date?: string
  TextBody?: string
  HtmlBody?: string
  Headers?: { Name: string; Value: string }[]
  Attachments?: {
    Name: string
    Content: string
    ContentType: string
    ContentLength?: number
    ContentID?: string
  }[]
  /** Present when the server's "Include raw email content in JSON payload" is on: used as is. */
  RawEmail?: string
}

export interface PostmarkAddress {
  Email: string
  Name?: string
  MailboxHash?: string
}

/** Headers written from Postmark's own fields (or by the MIME structure); the same names in `Headers` are skipped. */
const REBUILT = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
])

/** Non-ASCII or control characters in a header value become an RFC 2047 encoded word. */
function headerText(value: string): string {
  const flat = value.replace(/\r?\n/g, ' ')
  if (/^[\x20-\x7e]*$/.test(flat)) return flat
  return `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`
}

function addressList(list: PostmarkAddress[] | undefined, fallback: string | undefined): string | null {
  if (list && list.length > 0)
    return list
      .map((entry) =>
        entry.Name ? `${headerText(`"${entry.Name.replace(/"/g, "'")}"`)} <${entry.Email}>` : entry.Email,
      )
      .join(', ')
  return fallback?.trim() ? headerText(fallback) : null
}

function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
}

function part(contentType: string, body: Buffer, extra: string[] = []): string {
  return [
    `Content-Type: ${contentType}`,
    'Content-Transfer-Encoding: base64',
    ...extra,
    '',
    base64Lines(body),
  ].join('\r\n')
}

function multipart(subtype: string, parts: string[]): { type: string; body: string } {
  const boundary = `=_ephemail_${crypto.randomUUID()}`
  const body = `${parts.map((inner) => `--${boundary}\r\n${inner}`).join('\r\n')}\r\n--${boundary}--`
  return { type: `multipart/${subtype}; boundary="${boundary}"`, body }
}

/** The raw message of a Postmark inbound payload: its RawEmail when sent, else one rebuilt from the fields. */
export function postmarkToMime(payload: PostmarkInbound): Uint8Array {
  if (payload.RawEmail) return new TextEncoder().encode(payload.RawEmail)
  const headers: string[] = []
  const add = (name: string, value: string | null | undefined) => {
    if (value) headers.push(`${name}: ${value}`)
  }
  const given = payload.Headers ?? []
  const givenValue = (name: string) => given.find((header) => header.Name.toLowerCase() === name)?.Value
  add('From', addressList(payload.FromFull ? [payload.FromFull] : undefined, payload.From))
  add('To', addressList(payload.ToFull, payload.To))
  add('Cc', addressList(payload.CcFull, payload.Cc))
  add('Reply-To', payload.ReplyTo ? headerText(payload.ReplyTo) : null)
  add('Subject', payload.Subject !== undefined ? headerText(payload.Subject) : null)
  add('Date', payload.Date ? headerText(payload.Date) : null)
  add(
    'Message-ID',
    givenValue('message-id') ?? (payload.MessageID ? `<${payload.MessageID}@inbound.postmarkapp.com>` : null),
  )
  for (const header of given)
    if (!REBUILT.has(header.Name.toLowerCase()) && /^[!-9;-~]+$/.test(header.Name))
      headers.push(`${header.Name}: ${headerText(header.Value)}`)
  headers.push('MIME-Version: 1.0')

  const bodies: string[] = []
  if (payload.TextBody) bodies.push(part('text/plain; charset=utf-8', Buffer.from(payload.TextBody, 'utf8')))
  if (payload.HtmlBody) bodies.push(part('text/html; charset=utf-8', Buffer.from(payload.HtmlBody, 'utf8')))
  const text = bodies.length > 1 ? multipart('alternative', bodies) : null
  const attachments = (payload.Attachments ?? []).map((attachment) => {
    const name = headerText(attachment.Name.replace(/"/g, "'"))
    const inline = attachment.ContentID ? [`Content-ID: <${attachment.ContentID.replace(/^<|>$/g, '')}>`] : []
    return part(
      `${attachment.ContentType || 'application/octet-stream'}; name="${name}"`,
      Buffer.from(attachment.Content, 'base64'),
      [
        `Content-Disposition: ${attachment.ContentID ? 'inline' : 'attachment'}; filename="${name}"`,
        ...inline,
      ],
    )
  })
  const firstBody = text
    ? `Content-Type: ${text.type}\r\n\r\n${text.body}`
    : (bodies[0] ?? part('text/plain; charset=utf-8', Buffer.alloc(0)))
  let message: string
  if (attachments.length > 0) {
    const mixed = multipart('mixed', [firstBody, ...attachments])
    message = `${headers.join('\r\n')}\r\nContent-Type: ${mixed.type}\r\n\r\n${mixed.body}\r\n`
  } else {
    message = `${headers.join('\r\n')}\r\n${firstBody}\r\n`
  }
  return new TextEncoder().encode(message)
}
