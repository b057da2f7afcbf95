// Request and response schemas (TypeBox via Elysia's `t`): validation at the edge and the source of openapi.yaml.

import { type IntegerOptions, Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { MAX_LOCAL_PART_LENGTH } from '#lib/address.ts'
import { MAX_WAIT_SECONDS } from '#server/live/long-poll.ts'

const EXAMPLE_MAILBOX_ID = '0193a1f2-7c3e-7d21-9b4a-5e6f7a8b9c0d'
const EXAMPLE_MESSAGE_ID = '0193a1f3-0a1b-7c2d-8e3f-405162738495'

/**
 * A JSON integer (bodies and responses): TypeBox's own. Elysia's `t.Integer` also accepts a numeric string
 * (it is meant for query strings) and so is documented as `anyOf: [string, integer]`, which generated
 * clients type as `string | number`.
 */
export const Integer = (options?: IntegerOptions) => Type.Integer(options)

/**
 * An integer query parameter: query values are strings, so this one is Elysia's coercing `t.Integer`
 * (a numeric string, turned into a number). The document still says `type: integer` (docs.ts drops
 * the string branch), as a query string is text by nature; `error` is the message a bad value gets.
 */
export const QueryInteger = (options: IntegerOptions & { error?: string }) => t.Integer(options)

/**
 * One of a few strings, with its description: the generator turns a union of literals into an enum and
 * drops the description, while Elysia's UnionEnum keeps it. `default` is unset, as UnionEnum's own
 * (the first value) would fill in an absent optional field.
 */
export const OneOf = <const T extends readonly [string, ...string[]]>(values: T, description: string) =>
  t.UnionEnum(values, { description, default: undefined })

const Timestamp = (description: string) => t.String({ format: 'date-time', description })

export const ProblemSchema = t.Object(
  {
    type: t.String({
      description: 'Stable URI naming the kind of problem',
      examples: ['https://ephemail.dev/problems/not-found'],
    }),
    title: t.String({ description: 'Short summary of the kind of problem', examples: ['Not found'] }),
    status: Integer({ description: 'HTTP status code', examples: [404] }),
    detail: t.String({
      description: 'What went wrong with this request',
      examples: ['No mailbox james47@ephemail.test'],
    }),
    instance: t.Optional(t.String({ description: 'The request path' })),
    errors: t.Optional(
      t.Array(t.Object({ path: t.String(), message: t.String() }), {
        description: 'Per-field validation errors',
      }),
    ),
  },
  { description: 'RFC 9457 problem details' },
)

const DomainTypeSchema = (description: string) => OneOf(['public', 'custom', 'premium'], description)

export const DomainSchema = t.Object({
  name: t.String({ description: 'Domain that receives mail', examples: ['ephemail.test'] }),
  type: DomainTypeSchema('Who may use the domain'),
})

export const DomainsQuery = t.Object({
  type: t.Optional(DomainTypeSchema('Only domains of this type')),
})

export const DomainListSchema = t.Object(
  { domains: t.Array(DomainSchema) },
  {
    description: 'The receiving domains',
    examples: [{ domains: [{ name: 'ephemail.test', type: 'public' }] }],
  },
)

export const MailboxSchema = t.Object(
  {
    id: t.String({ format: 'uuid', examples: [EXAMPLE_MAILBOX_ID] }),
    address: t.String({ description: 'Full address', examples: ['james47@ephemail.test'] }),
    localPart: t.String({ examples: ['james47'] }),
    domain: t.String({ examples: ['ephemail.test'] }),
    createdAt: Timestamp('When the mailbox was created'),
    expiresAt: Timestamp('When the mailbox and all its mail are deleted'),
  },
  { description: 'A mailbox' },
)

export const CreatedMailboxSchema = t.Object(
  {
    ...MailboxSchema.properties,
    token: t.String({
      description: 'Bearer token that reads and manages this mailbox only. Shown once; keep it.',
      examples: ['mbt_3q2-7wQ8v1Jk2m9XnP0aLr5sT6uV7wX8yZ9aB0cD1eF'],
    }),
  },
  { description: 'The new mailbox with its token' },
)

const LocalPart = t.String({
  minLength: 1,
  maxLength: MAX_LOCAL_PART_LENGTH,
  description: 'a-z, 0-9, ".", "_", "-"; starts and ends with a letter or digit. Case is folded.',
  examples: ['signup-test'],
})
const DomainName = t.String({
  minLength: 1,
  maxLength: 253,
  description: 'One of GET /v1/domains',
  examples: ['ephemail.test'],
})
const TtlSeconds = Integer({
  minimum: 1,
  description:
    'Lifetime from now, in seconds, within the configured bounds (EPHEMAIL_TTL_MIN_SECONDS..EPHEMAIL_TTL_MAX_SECONDS)',
  examples: [600],
})

export const CreateMailboxBody = t.Object(
  {
    localPart: t.Optional(LocalPart),
    domain: t.Optional(DomainName),
    domainType: t.Optional(
      DomainTypeSchema(
        'Without `domain`: a random domain of this type the caller may use. With it: the domain must be of this type',
      ),
    ),
    ttlSeconds: t.Optional(TtlSeconds),
  },
  {
    additionalProperties: false,
    description:
      'All fields optional: a random readable local part and a random domain are chosen when absent',
    examples: [{}, { localPart: 'signup-test', domain: 'ephemail.test', ttlSeconds: 3600 }],
  },
)

const Nullable = (description: string) =>
  t.Union([t.String({ format: 'date-time' }), t.Null()], { description })

export const AdminDomainSchema = t.Object(
  {
    name: t.String({ examples: ['mail.example.com'] }),
    type: DomainTypeSchema('Which plans may use it'),
    privateToKeys: t.Union([t.Array(t.String()), t.Null()], {
      description: 'API key ids that alone may use it; null: every caller its type is open to',
    }),
    status: OneOf(
      ['pending', 'verified'],
      'verified: an MX record points at one of EPHEMAIL_MX_HOSTS and the domain receives mail. pending: it does not (yet) and receives nothing',
    ),
    problems: t.Array(t.String(), {
      description: 'What the last check found wrong; empty when verified',
      examples: [['MX points at mx.other.example, expected one of mx.ephemail.example']],
    }),
    mxHosts: t.Array(t.String(), {
      description: 'The MX hosts the last check saw, by preference',
      examples: [['mx.ephemail.example']],
    }),
    source: OneOf(
      ['configured', 'registered'],
      'configured: from EPHEMAIL_DOMAINS (always served, never checked); registered: through this API',
    ),
    createdAt: Nullable('When it was registered; null for a configured domain'),
    checkedAt: Nullable('When its MX records were last checked; null for a configured domain'),
    verifiedAt: Nullable('When a check first passed'),
  },
  { description: 'A receiving domain as the admin sees it' },
)

export const AdminDomainListSchema = t.Object(
  {
    items: t.Array(AdminDomainSchema, {
      description: 'Configured domains first, then registered ones by name',
    }),
  },
  { description: 'Every receiving domain, served or pending' },
)

export const RegisterDomainBody = t.Object(
  {
    name: t.String({
      minLength: 1,
      maxLength: 253,
      description: 'The domain; its MX record must point at one of EPHEMAIL_MX_HOSTS',
      examples: ['mail.example.com'],
    }),
    type: DomainTypeSchema('Which plans may use it (each plan lists the domain types it may use)'),
    privateToKeys: t.Optional(
      t.Array(t.String({ format: 'uuid' }), {
        minItems: 1,
        maxItems: 1000,
        description: 'API key ids that alone may use it; omit for every caller its type is open to',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ name: 'mail.example.com', type: 'custom' }],
  },
)

export const DomainNameParams = t.Object({
  name: t.String({ description: 'The domain name', examples: ['mail.example.com'] }),
})

export const UpdateMailboxBody = t.Object(
  { localPart: t.Optional(LocalPart), domain: t.Optional(DomainName), ttlSeconds: t.Optional(TtlSeconds) },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Rename the mailbox, move it to another domain, or give it a new lifetime counted from now',
    examples: [{ localPart: 'renamed', domain: 'ephemail.test' }],
  },
)

const MailAddressSchema = t.Object({
  address: t.String({ examples: ['no-reply@example.com'] }),
  name: t.String({ description: 'Display name, empty when none', examples: ['Example'] }),
})

const messageSummaryProperties = {
  id: t.String({ format: 'uuid', examples: [EXAMPLE_MESSAGE_ID] }),
  mailboxId: t.String({ format: 'uuid', examples: [EXAMPLE_MAILBOX_ID] }),
  from: t.Union([MailAddressSchema, t.Null()], {
    description: 'The From header, null when absent or unparseable',
  }),
  subject: t.Union([t.String(), t.Null()], { examples: ['Your verification code'] }),
  receivedAt: Timestamp('When the message was stored'),
  seen: t.Boolean({ description: 'Set with PATCH /v1/messages/{id}' }),
  size: Integer({ description: 'Size of the raw message in bytes', examples: [4211] }),
  hasAttachments: t.Boolean(),
  otp: t.Union([t.String(), t.Null()], {
    description: 'The one-time code found in the message; null when none (or not processed yet)',
    examples: ['482913'],
  }),
  link: t.Union([t.String(), t.Null()], {
    description: 'The verification, sign-in or password-reset link found in the message',
    examples: ['https://accounts.example.com/verify?token=9f8e7d6c5b4a'],
  }),
  processing: t.Union(
    [
      t.Object({ state: t.Literal('pending') }),
      t.Object({ state: t.Literal('processed'), at: Timestamp('When processing finished') }),
      t.Object({ state: t.Literal('failed'), error: t.String({ description: 'Why the job gave up' }) }),
    ],
    { description: 'Whether the background job (parse, authenticate, extract) has run' },
  ),
  source: t.String({
    description:
      'Which ingest source delivered it: `smtp`, `http:raw`, `http:mailgun`, `http:sendgrid`, `http:postmark`, `http:cloudflare` or `imap:NAME`',
    examples: ['smtp'],
  }),
}

const CandidateSchema = t.Object({
  value: t.String(),
  confidence: t.Number({ minimum: 0, maximum: 1 }),
  reasons: t.Array(t.String(), { description: 'Why the candidate scored as it did' }),
})

export const MessageSummarySchema = t.Object(messageSummaryProperties, { description: 'A message in a list' })

export const MessagePageSchema = t.Object(
  {
    items: t.Array(MessageSummarySchema, { description: 'Newest first' }),
    nextCursor: t.Union([t.String(), t.Null()], {
      description: 'Pass as `cursor` for the next (older) page; null on the last page',
    }),
  },
  { description: 'One page of messages, newest first' },
)

export const MessageSchema = t.Object(
  {
    ...messageSummaryProperties,
    to: t.Array(MailAddressSchema),
    cc: t.Array(MailAddressSchema),
    replyTo: t.Array(MailAddressSchema),
    date: t.Union([t.String(), t.Null()], { description: 'The Date header (ISO 8601 when it parses)' }),
    messageId: t.Union([t.String(), t.Null()], { description: 'The Message-ID header' }),
    headers: t.Array(t.Object({ name: t.String(), value: t.String() }), {
      description: 'All headers in order',
    }),
    text: t.Union([t.String(), t.Null()], { description: 'Plain-text body' }),
    html: t.Union([t.String(), t.Null()], { description: 'HTML body as received (not sanitised)' }),
    attachments: t.Array(
      t.Object({
        id: t.String({
          description: 'Use with GET /v1/messages/{id}/attachments/{attachmentId}',
          examples: ['1'],
        }),
        filename: t.Union([t.String(), t.Null()], { examples: ['invoice.pdf'] }),
        contentType: t.String({ examples: ['application/pdf'] }),
        size: Integer({ description: 'Decoded size in bytes' }),
        disposition: t.Union([t.String(), t.Null()], { examples: ['attachment'] }),
        contentId: t.Union([t.String(), t.Null()]),
      }),
    ),
    envelope: t.Object(
      {
        mailFrom: t.Union([t.String(), t.Null()], { description: 'SMTP MAIL FROM' }),
        rcptTo: t.Array(t.String(), { description: 'SMTP RCPT TO, as given' }),
        remoteAddress: t.Union([t.String(), t.Null()], {
          description: 'IP address of the delivering client',
        }),
        helo: t.Union([t.String(), t.Null()], { description: 'HELO/EHLO name the client gave' }),
        source: t.String({ description: 'Ingest source', examples: ['smtp'] }),
      },
      { description: 'What the delivering session said' },
    ),
    parseError: t.Union([t.String(), t.Null()], {
      description: 'Why the message could not be parsed (the raw source is still available); null normally',
    }),
    safeHtml: t.Union([t.String(), t.Null()], {
      description:
        'The HTML body sanitised for display: no scripts, event handlers, forms, frames or javascript: URLs; remote images carry data-remote-image',
    }),
    processingNotes: t.Array(t.String(), {
      description:
        'What processing skipped or gave up on, each with the documented limit that stopped it (a header section too long for sender authentication, HTML that took too long to sanitise); empty normally',
      examples: [['sender authentication skipped: the header section has more than 2000 lines']],
    }),
    authentication: t.Union(
      [
        t.Object({
          spf: t.String({ examples: ['pass'] }),
          dkim: t.String({ examples: ['pass'] }),
          dmarc: t.String({ examples: ['pass'] }),
          arc: t.String({ examples: ['none'] }),
          header: t.Union([t.String(), t.Null()], { description: 'The Authentication-Results header' }),
          skipped: t.Optional(
            t.String({
              description:
                'Why the checks were not run (the message is past a documented limit); the verdicts then say skipped',
              examples: ['the header section has more than 2000 lines'],
            }),
          ),
        }),
        t.Null(),
      ],
      { description: 'SPF, DKIM, DMARC and ARC verdicts; null until processed' },
    ),
    candidates: t.Object(
      { otpCandidates: t.Array(CandidateSchema), linkCandidates: t.Array(CandidateSchema) },
      { description: 'The ranked candidates behind otp and link, best first' },
    ),
  },
  { description: 'A message in full' },
)

export const UpdateMessageBody = t.Object(
  { seen: t.Boolean({ description: 'Mark as seen or unseen' }) },
  { additionalProperties: false, examples: [{ seen: true }] },
)

export const AddressParams = t.Object({
  address: t.String({
    description: 'The mailbox address, e.g. james47@ephemail.test',
    examples: ['james47@ephemail.test'],
  }),
})
export const MessageParams = t.Object({
  id: t.String({ description: 'Message id', examples: [EXAMPLE_MESSAGE_ID] }),
})
export const AttachmentParams = t.Object({
  id: t.String({ description: 'Message id', examples: [EXAMPLE_MESSAGE_ID] }),
  attachmentId: t.String({ description: 'Attachment id from the message', examples: ['1'] }),
})

export const ListMessagesQuery = t.Object({
  limit: t.Optional(
    QueryInteger({
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'Page size (1..100)',
      // Elysia checks coerced query numbers on their own, without the field name: say it here.
      error: 'query.limit: must be a whole number from 1 to 100',
    }),
  ),
  cursor: t.Optional(t.String({ format: 'uuid', description: 'nextCursor of the previous page' })),
  after: t.Optional(
    t.String({
      format: 'uuid',
      description: 'Only messages newer than this message id (the newest one you have seen)',
    }),
  ),
  wait: t.Optional(
    QueryInteger({
      minimum: 0,
      maximum: MAX_WAIT_SECONDS,
      description: `Seconds to hold the request while the page is empty, until a message arrives (0..${MAX_WAIT_SECONDS}); woken by the message.received event. On time-out the page is empty, not an error`,
      error: `query.wait: must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`,
    }),
  ),
})

export const HealthSchema = t.Object({ status: t.Literal('ok') }, { description: 'The process is up' })
export const ReadySchema = t.Object(
  { status: t.Literal('ready'), storage: t.String({ examples: ['pglite'] }) },
  { description: 'Storage answers' },
)

/** A problem+json response for one status, described for that status (the spec shows each). */
export const problemResponse = (description: string) => t.Object(ProblemSchema.properties, { description })

/** What a 401 means on every route: said once, so the document and the routes cannot drift apart. */
export const UNAUTHORIZED_DESCRIPTION = 'No credential, or one that is not valid'
export const unauthorizedResponse = problemResponse(UNAUTHORIZED_DESCRIPTION)

/** What a 403 means on every route an API key's scopes govern (src/core/policy.ts requireScope). */
export const INSUFFICIENT_SCOPE_DESCRIPTION = 'An API key without the scope this needs (`read` or `write`)'
export const insufficientScopeResponse = problemResponse(INSUFFICIENT_SCOPE_DESCRIPTION)

/** The problems any route with a JSON body can answer, from the one body parser in app.ts. */
export const jsonBodyProblems = {
  400: problemResponse('The body is not valid JSON or does not match the schema (see `errors`)'),
  413: problemResponse('The body is larger than EPHEMAIL_HTTP_MAX_BODY_BYTES'),
  415: problemResponse('The body is not application/json'),
}
