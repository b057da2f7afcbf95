// ephemail/client: a typed client of the Ephemail API on openapi-fetch, with waits for codes, links and mail.

import createFetchClient, { type Client } from 'openapi-fetch'
import { problemOf } from './errors.ts'
import type { paths } from './schema.d.ts'
import type {
  CallOptions,
  CreatedMailbox,
  CreateMailboxBody,
  Domain,
  ListMessagesQuery,
  Mailbox,
  Message,
  MessageFilter,
  MessagePage,
  MessageSummary,
  UpdateMailboxBody,
  WaitForValueOptions,
  WaitOptions,
} from './types.ts'
import { type Candidate, DEFAULT_WAIT_MS, describeWait, type WaitDeps, waitFor } from './wait.ts'

export { EphemailProblem, EphemailTimeout } from './errors.ts'
export type { components, operations, paths } from './schema.d.ts'
export type * from './types.ts'
export { DEFAULT_WAIT_MS, describeWait }

export interface ClientOptions {
  /** Where the API is, e.g. `https://mail.example.com` (paths start with /v1). */
  baseUrl: string
  /** The admin key or an API key (`eph_…`): sent when no mailbox token applies. */
  key?: string
  /** A mailbox token (`mbt_…`), used for every call unless one is given per call. */
  token?: string
  /** A fetch of your own (a test double, a proxy agent), called with a Request; the global one otherwise. */
  fetch?: (request: Request) => Promise<Response>
  /** Headers sent with every request. */
  headers?: Record<string, string>
}

/** A raw typed client of every operation in openapi.yaml (openapi-fetch). */
export type ApiClient = Client<paths>

export interface EphemailClient {
  /** The raw typed openapi-fetch client: every operation, with this client's base URL and headers. */
  readonly api: ApiClient
  /** Creates a mailbox; its token is remembered, so later calls for its address use it unasked. */
  createMailbox(body?: CreateMailboxBody, options?: CallOptions): Promise<CreatedMailbox>
  getMailbox(address: string, options?: CallOptions): Promise<Mailbox>
  updateMailbox(address: string, body: UpdateMailboxBody, options?: CallOptions): Promise<Mailbox>
  deleteMailbox(address: string, options?: CallOptions): Promise<void>
  listMailboxes(options?: CallOptions & { limit?: number }): Promise<Mailbox[]>
  listDomains(options?: CallOptions & { type?: Domain['type'] }): Promise<Domain[]>
  /** One page of summaries, newest first (`wait` holds an empty page open on the server, in seconds). */
  listMessages(address: string, options?: CallOptions & ListMessagesQuery): Promise<MessagePage>
  /** Deletes every message of the mailbox; resolves with how many went. */
  clearMailbox(address: string, options?: CallOptions): Promise<number>
  getMessage(id: string, options?: CallOptions): Promise<Message>
  /** Exactly the bytes received over SMTP (message/rfc822). */
  getRaw(id: string, options?: CallOptions): Promise<Uint8Array>
  /** Marks a message seen (or unseen with `seen: false`). */
  markSeen(id: string, options?: CallOptions & { seen?: boolean }): Promise<MessageSummary>
  deleteMessage(id: string, options?: CallOptions): Promise<void>
  /** The newest message passing `filter` (already there, or the next to arrive), in full, once processed. */
  waitForMessage(
    address: string,
    filter: MessageFilter | undefined,
    options: WaitOptions & { nullOnTimeout: true },
  ): Promise<Message | null>
  waitForMessage(address: string, filter?: MessageFilter, options?: WaitOptions): Promise<Message>
  /** The one-time code of the newest message that has one (and passes the filter's conditions). */
  waitForOtp(address: string, options: WaitForValueOptions & { nullOnTimeout: true }): Promise<string | null>
  waitForOtp(address: string, options?: WaitForValueOptions): Promise<string>
  /** The verification, sign-in or reset link of the newest message that has one. */
  waitForLink(address: string, options: WaitForValueOptions & { nullOnTimeout: true }): Promise<string | null>
  waitForLink(address: string, options?: WaitForValueOptions): Promise<string>
}

/** Message ids remembered with their mailbox's address (to pick its token); the oldest are forgotten past this. */
const MAX_REMEMBERED_MESSAGES = 10_000

interface ApiResult {
  error?: unknown
  response: Response
}

/** The data of a success; every other answer becomes an EphemailProblem with the server's problem+json. */
async function succeed<R extends ApiResult>(
  pending: Promise<R>,
): Promise<NonNullable<R extends { data?: infer D } ? D : never>> {
  const result = await pending
  if (!result.response.ok) throw problemOf(result.response, result.error)
  return (result as unknown as { data: NonNullable<R extends { data?: infer D } ? D : never> }).data
}

const splitFilter = ({ subject, from, match }: MessageFilter): MessageFilter => ({
  ...(subject !== undefined ? { subject } : {}),
  ...(from !== undefined ? { from } : {}),
  ...(match ? { match } : {}),
})

export function createClient(options: ClientOptions): EphemailClient {
  const api = createFetchClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  })
  // Mailbox tokens this client was given by createMailbox, by address (addresses are case-folded).
  const mailboxTokens = new Map<string, string>()
  const messageAddresses = new Map<string, string>()

  const rememberMessages = (address: string, ids: string[]) => {
    for (const id of ids) {
      messageAddresses.delete(id)
      messageAddresses.set(id, address.toLowerCase())
    }
    for (const oldest of messageAddresses.keys()) {
      if (messageAddresses.size <= MAX_REMEMBERED_MESSAGES) break
      messageAddresses.delete(oldest)
    }
  }

  /** The call's token, else the mailbox's remembered one, else the client's token, else its key. */
  const auth = (call: CallOptions | undefined, address?: string) => {
    const credential =
      call?.token ??
      (address === undefined ? undefined : mailboxTokens.get(address.toLowerCase())) ??
      options.token ??
      options.key
    return {
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      ...(call?.signal ? { signal: call.signal } : {}),
    }
  }
  const authForMessage = (call: CallOptions | undefined, id: string) => auth(call, messageAddresses.get(id))
  const address = (value: string) => ({ params: { path: { address: value } } })
  const message = (id: string) => ({ params: { path: { id } } })

  const listMessages = async (mailbox: string, query: CallOptions & ListMessagesQuery = {}) => {
    const { token, signal, ...params } = query
    const page = await succeed(
      api.GET('/v1/mailboxes/{address}/messages', {
        params: { path: { address: mailbox }, query: params },
        ...auth({ ...(token ? { token } : {}), ...(signal ? { signal } : {}) }, mailbox),
      }),
    )
    rememberMessages(
      mailbox,
      page.items.map((item) => item.id),
    )
    return page
  }
  const getMessage = async (id: string, call?: CallOptions) =>
    succeed(api.GET('/v1/messages/{id}', { ...message(id), ...authForMessage(call, id) }))
  const getMailbox = (mailbox: string, call?: CallOptions) =>
    succeed(api.GET('/v1/mailboxes/{address}', { ...address(mailbox), ...auth(call, mailbox) }))

  const waitDeps: WaitDeps = {
    async openEvents(mailbox, lastEventId, call) {
      const base = auth(call, mailbox)
      return succeed(
        api.GET('/v1/mailboxes/{address}/events', {
          ...address(mailbox),
          ...base,
          headers: {
            ...base.headers,
            accept: 'text/event-stream',
            ...(lastEventId !== null ? { 'last-event-id': lastEventId } : {}),
          },
          parseAs: 'stream',
        }),
      ) as Promise<ReadableStream<Uint8Array>>
    },
    listMessages: (mailbox, query, call) => listMessages(mailbox, { ...query, ...call }),
    getMessage,
    getMailbox,
  }

  /** A wait for a value of the newest processed message that has one. */
  const waitForValue = (
    mailbox: string,
    what: string,
    field: 'otp' | 'link',
    waitOptions: WaitForValueOptions,
  ) =>
    waitFor(
      waitDeps,
      mailbox,
      { what, take: async (candidate: Candidate) => candidate[field] },
      splitFilter(waitOptions),
      waitOptions,
    )

  const client = {
    api,
    async createMailbox(body: CreateMailboxBody = {}, call?: CallOptions) {
      const created = await succeed(api.POST('/v1/mailboxes', { body, ...auth(call) }))
      mailboxTokens.set(created.address.toLowerCase(), created.token)
      return created
    },
    getMailbox,
    updateMailbox: (mailbox: string, body: UpdateMailboxBody, call?: CallOptions) =>
      succeed(api.PATCH('/v1/mailboxes/{address}', { ...address(mailbox), body, ...auth(call, mailbox) })),
    async deleteMailbox(mailbox: string, call?: CallOptions) {
      const { response, error } = await api.DELETE('/v1/mailboxes/{address}', {
        ...address(mailbox),
        ...auth(call, mailbox),
      })
      if (!response.ok) throw problemOf(response, error)
      mailboxTokens.delete(mailbox.toLowerCase())
    },
    async listMailboxes(call: CallOptions & { limit?: number } = {}) {
      const { limit, ...rest } = call
      const page = await succeed(
        api.GET('/v1/mailboxes', { params: { query: limit ? { limit } : {} }, ...auth(rest) }),
      )
      return page.items
    },
    async listDomains(call: CallOptions & { type?: Domain['type'] } = {}) {
      const { type, ...rest } = call
      const list = await succeed(
        api.GET('/v1/domains', { params: { query: type ? { type } : {} }, ...auth(rest) }),
      )
      return list.domains
    },
    listMessages,
    async clearMailbox(mailbox: string, call?: CallOptions) {
      const cleared = await succeed(
        api.DELETE('/v1/mailboxes/{address}/messages', { ...address(mailbox), ...auth(call, mailbox) }),
      )
      return cleared.deleted
    },
    getMessage,
    async getRaw(id: string, call?: CallOptions) {
      const raw = await succeed(
        api.GET('/v1/messages/{id}/raw', {
          ...message(id),
          ...authForMessage(call, id),
          parseAs: 'arrayBuffer',
        }),
      )
      return new Uint8Array(raw)
    },
    markSeen(id: string, { seen = true, ...call }: CallOptions & { seen?: boolean } = {}) {
      return succeed(
        api.PATCH('/v1/messages/{id}', { ...message(id), body: { seen }, ...authForMessage(call, id) }),
      )
    },
    async deleteMessage(id: string, call?: CallOptions) {
      const { response, error } = await api.DELETE('/v1/messages/{id}', {
        ...message(id),
        ...authForMessage(call, id),
      })
      // The id stays remembered: asking for it again should be the API's 404, not a 401 for want of a token.
      if (!response.ok) throw problemOf(response, error)
    },
    async waitForMessage(mailbox: string, filter: MessageFilter = {}, waitOptions: WaitOptions = {}) {
      const found = await waitFor(
        waitDeps,
        mailbox,
        { what: 'message', take: (_candidate, full) => full() },
        filter,
        waitOptions,
      )
      if (found) rememberMessages(mailbox, [found.id])
      return found
    },
    waitForOtp: (mailbox: string, waitOptions: WaitForValueOptions = {}) =>
      waitForValue(mailbox, 'one-time code', 'otp', waitOptions),
    waitForLink: (mailbox: string, waitOptions: WaitForValueOptions = {}) =>
      waitForValue(mailbox, 'link', 'link', waitOptions),
  }
  return client as EphemailClient
}
