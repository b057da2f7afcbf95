// The client's public data types, each read from the generated schema so they follow openapi.yaml.

import type { components, operations } from './schema.d.ts'

type JsonOf<Operation, Status extends number> = Operation extends {
  responses: { [S in Status]: { content: { 'application/json': infer Body } } }
}
  ? Body
  : never

/** RFC 9457 problem details: every error the API answers with (the spec's `Problem` component). */
export type Problem = components['schemas']['Problem']
export type Mailbox = JsonOf<operations['getMailbox'], 200>
/** A new mailbox with its bearer `token` (the only time the token is shown). */
export type CreatedMailbox = JsonOf<operations['createMailbox'], 201>
export type CreateMailboxBody = NonNullable<
  operations['createMailbox']['requestBody']
>['content']['application/json']
export type UpdateMailboxBody = NonNullable<
  operations['updateMailbox']['requestBody']
>['content']['application/json']
export type MessagePage = JsonOf<operations['listMessages'], 200>
export type MessageSummary = MessagePage['items'][number]
/** A message in full: headers, bodies, attachments, envelope, authentication, code and link candidates. */
export type Message = JsonOf<operations['getMessage'], 200>
export type Domain = JsonOf<operations['listDomains'], 200>['domains'][number]
export type ListMessagesQuery = NonNullable<operations['listMessages']['parameters']['query']>

/** What every call may take: a mailbox token for this call only, and a signal to cancel it. */
export interface CallOptions {
  /** A mailbox token (or key) for this call, instead of the client's own credential. */
  token?: string
  signal?: AbortSignal
}

/** Which message a wait accepts; every given condition must hold. */
export interface MessageFilter {
  /** A string the subject contains (exact case), or a pattern it matches. */
  subject?: string | RegExp
  /** The From address (any case), or a domain (`acme.example` or `@acme.example`) it is at. */
  from?: string
  /** A last word on the message in full (fetched only for messages that pass the other conditions). */
  match?: (message: Message) => boolean
}

export interface WaitOptions extends CallOptions {
  /** Milliseconds to wait in all (default 30 000); split into as many server waits as it takes. */
  timeout?: number
  /** Resolve with null when the time runs out, instead of rejecting with EphemailTimeout. */
  nullOnTimeout?: boolean
  /** Ignore messages received at or before this time (e.g. when the test step started). */
  since?: Date | string
  /** Ignore this message and every older one (a message id, e.g. the newest one already handled). */
  after?: string
}

/** The options of waitForOtp and waitForLink: a wait, narrowed to the messages a filter accepts. */
export type WaitForValueOptions = WaitOptions & MessageFilter
