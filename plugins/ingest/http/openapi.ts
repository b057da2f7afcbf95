// How the inbound routes appear in the OpenAPI document: the Inbound tag, their security schemes, every status they answer.

export const INBOUND_TAG = {
  name: 'Inbound',
  description:
    'Mail delivered over HTTP (EPHEMAIL_INGEST=smtp,http): a raw message, or a provider webhook. 202 only once stored; a retry of the same message is stored once and answered 202 with the same id',
}

export const INBOUND_SECURITY_SCHEMES = {
  inboundSecret: {
    type: 'http',
    scheme: 'bearer',
    description: 'EPHEMAIL_INBOUND_SECRET (compared in constant time); not an API key',
  },
  postmarkBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'EPHEMAIL_INBOUND_POSTMARK_USER and _PASSWORD, put in the webhook URL',
  },
  sendgridSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Twilio-Email-Event-Webhook-Signature',
    description:
      'ECDSA P-256 signature of X-Twilio-Email-Event-Webhook-Timestamp + body, verified with EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY',
  },
  mailgunSignature: {
    type: 'apiKey',
    in: 'query',
    name: 'signature',
    description:
      'Mailgun signs in the form fields (timestamp, token, signature: HMAC-SHA256 under EPHEMAIL_INBOUND_MAILGUN_SIGNING_KEY), not in the query; OpenAPI has no scheme for body fields',
  },
} as const

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
})

const ACCEPTED = {
  description: 'Stored (or stored earlier: `duplicate`), durably, before this answer',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['messages', 'rejected'],
        additionalProperties: false,
        properties: {
          messages: {
            type: 'array',
            description: 'One per recipient mailbox',
            items: {
              type: 'object',
              required: ['id', 'address', 'duplicate'],
              additionalProperties: false,
              properties: {
                id: {
                  type: 'string',
                  format: 'uuid',
                  description: 'The message id (the earlier one when duplicate)',
                },
                address: { type: 'string', examples: ['james47@ephemail.test'] },
                duplicate: {
                  type: 'boolean',
                  description: 'True: this message was already stored; nothing new was',
                },
              },
            },
          },
          rejected: {
            type: 'array',
            items: { type: 'string' },
            description: 'Recipients with no live mailbox (or a full one); the others were stored',
          },
        },
      },
    },
  },
}

const COMMON = {
  202: ACCEPTED,
  400: problem('Bad payload: no recipient, too many recipients, a malformed form or JSON, a bad ip'),
  401: problem(
    'Missing or wrong secret or credentials (unauthorized), or a bad signature (invalid-signature)',
  ),
  413: problem('The body, or the message in it, is past the size limit'),
  422: problem('No recipient has a live mailbox (unknown-recipient); the detail names each with its reason'),
}

const RAW_BODY = {
  required: true,
  content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } },
}

const ENVELOPE_QUERY = [
  {
    name: 'to',
    in: 'query',
    required: true,
    description: 'Envelope recipient (repeatable)',
    schema: { type: 'array', items: { type: 'string' } },
    style: 'form',
    explode: true,
  },
  {
    name: 'from',
    in: 'query',
    required: false,
    description: 'Envelope sender, for SPF',
    schema: { type: 'string' },
  },
  {
    name: 'ip',
    in: 'query',
    required: false,
    description: 'IP address of the client that delivered it, for SPF',
    schema: { type: 'string' },
  },
  {
    name: 'helo',
    in: 'query',
    required: false,
    description: 'Its HELO name, for SPF',
    schema: { type: 'string' },
  },
]

const FORM_BODY = (fields: Record<string, unknown>, required: string[]) => ({
  required: true,
  content: { 'multipart/form-data': { schema: { type: 'object', required, properties: fields } } },
})

const OPERATIONS = {
  receiveInbound: {
    summary: 'Receive a raw message',
    description: 'The envelope is in the query; the body is the message as received (RFC 5322).',
    security: [{ inboundSecret: [] }],
    parameters: ENVELOPE_QUERY,
    requestBody: RAW_BODY,
    responses: { ...COMMON, 415: problem('The body is not message/rfc822') },
  },
  receiveCloudflare: {
    summary: 'Receive a message from a Cloudflare Email Worker',
    description:
      'What docs/cloudflare-email-worker.js sends: the raw message, message.to and message.from in the query.',
    security: [{ inboundSecret: [] }],
    parameters: ENVELOPE_QUERY,
    requestBody: RAW_BODY,
    responses: { ...COMMON, 415: problem('The body is not message/rfc822') },
  },
  receiveMailgun: {
    summary: 'Receive a Mailgun route forward (body-mime)',
    description: 'A route whose forward() URL ends in "mime"; verified with the webhook signing key.',
    security: [{ mailgunSignature: [] }],
    requestBody: FORM_BODY(
      {
        'body-mime': { type: 'string' },
        recipient: { type: 'string' },
        sender: { type: 'string' },
        timestamp: { type: 'string' },
        token: { type: 'string' },
        signature: { type: 'string' },
      },
      ['body-mime', 'recipient', 'timestamp', 'token', 'signature'],
    ),
    responses: { ...COMMON, 404: problem('The Mailgun adapter is not configured') },
  },
  receiveSendgrid: {
    summary: 'Receive a SendGrid Inbound Parse post (raw mode)',
    description:
      'Signed (X-Twilio-Email-Event-Webhook-Signature/-Timestamp) when a public key is configured; else the inbound secret as Basic password or Bearer.',
    security: [{ sendgridSignature: [] }, { inboundSecret: [] }],
    requestBody: FORM_BODY(
      { email: { type: 'string' }, envelope: { type: 'string' }, sender_ip: { type: 'string' } },
      ['email', 'envelope'],
    ),
    responses: COMMON,
  },
  receivePostmark: {
    summary: 'Receive a Postmark inbound webhook',
    description:
      'Postmark inbound JSON, rebuilt to a message with its headers, text, HTML and attachments (RawEmail when included).',
    security: [{ postmarkBasic: [] }],
    requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
    responses: { ...COMMON, 404: problem('The Postmark adapter is not configured') },
  },
}

/**
 * An operation's `detail`. Typed as its id and tags only: the rest is plain OpenAPI (the framework's
 * own types are narrower), and test/openapi.test.ts validates the generated document.
 */
export function operation(operationId: keyof typeof OPERATIONS): { operationId: string; tags: string[] } {
  return { operationId, tags: [INBOUND_TAG.name], ...OPERATIONS[operationId] }
}
