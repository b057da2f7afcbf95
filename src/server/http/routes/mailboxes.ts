// Mailbox routes: create, read, rename or extend, delete, list and clear messages (validate → core → serialize).

import { Elysia, t } from 'elysia'
import type { CoreDeps } from '#core/context.ts'
import {
  clearMailbox,
  createMailbox,
  deleteMailbox,
  findMailbox,
  listMailboxes,
  listMessages,
  updateMailbox,
} from '#core/mailboxes.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import type { MailboxSlot } from '#server/http/rate-limit.ts'
import {
  AddressParams,
  CreatedMailboxSchema,
  CreateMailboxBody,
  Integer,
  insufficientScopeResponse,
  jsonBodyProblems,
  ListMessagesQuery,
  MailboxSchema,
  MessagePageSchema,
  problemResponse,
  QueryInteger,
  UpdateMailboxBody,
  unauthorizedResponse,
} from '#server/http/schemas.ts'
import { mailboxJson, messageSummaryJson } from '#server/http/serialize.ts'
import type { EventHub } from '#server/live/event-hub.ts'
import { longPoll } from '#server/live/long-poll.ts'

export interface MailboxRouteDeps {
  core: CoreDeps
  principal: PrincipalPlugins
  hub: EventHub
  /** Counts a creation without an API key against its address's hourly allowance (429 past it); none: unmetered. */
  mailboxSlot?: ((request: Request) => Promise<MailboxSlot | null>) | undefined
}

const notFoundResponse = problemResponse('No such live mailbox visible to this credential')

export function mailboxRoutes({ core, principal, hub, mailboxSlot }: MailboxRouteDeps) {
  // Creating is open to anonymous callers (unless EPHEMAIL_ANONYMOUS is off): the optional principal.
  const create = new Elysia({ name: 'routes.mailboxes.create' }).use(principal.optional).post(
    '/v1/mailboxes',
    async ({ body, principal, set, request }) => {
      // API keys' allowance is counted by the core from what they own; anonymous callers own nothing.
      const slot =
        mailboxSlot && (principal === null || principal.kind === 'mailbox')
          ? await mailboxSlot(request)
          : null
      try {
        const { mailbox, token } = await createMailbox(core, principal, body)
        set.status = 201
        return { ...mailboxJson(mailbox), token }
      } catch (error) {
        slot?.giveBack()
        throw error
      }
    },
    {
      parse: 'json',
      body: CreateMailboxBody,
      response: {
        201: CreatedMailboxSchema,
        ...jsonBodyProblems,
        401: problemResponse('Anonymous creation is off and no credential (or a wrong one) was sent'),
        403: problemResponse(
          'Anonymous creation is off and the credential is not the admin key, or an API key without the `write` scope',
        ),
        409: problemResponse('The requested address is taken'),
        422: problemResponse(
          'Unknown domain, invalid local part, or ttlSeconds outside the configured bounds',
        ),
        503: problemResponse('No free random address was found (try again, or pick a local part)'),
        429: problemResponse(
          'Too many requests for the plan, or (`mailbox-quota-exceeded`) too many mailboxes created this hour',
        ),
      },
      detail: {
        tags: ['Mailboxes'],
        operationId: 'createMailbox',
        summary: 'Create a mailbox',
        description:
          'Creates a mailbox and returns it with its bearer `token`. Without a body, a readable random address on a public domain is chosen. Allowed without a credential unless EPHEMAIL_ANONYMOUS is off.',
      },
    },
  )

  return new Elysia({ name: 'routes.mailboxes' })
    .use(create)
    .use(principal.required)
    .get(
      '/v1/mailboxes',
      async ({ query, requirePrincipal }) => ({
        items: (await listMailboxes(core, requirePrincipal(), query.limit ?? 100)).map(mailboxJson),
      }),
      {
        query: t.Object({
          limit: t.Optional(
            QueryInteger({
              minimum: 1,
              maximum: 1000,
              default: 100,
              description: 'How many to list (1..1000)',
              error: 'query.limit: must be a whole number from 1 to 1000',
            }),
          ),
        }),
        response: {
          200: t.Object({ items: t.Array(MailboxSchema) }, { description: 'Live mailboxes, newest first' }),
          400: problemResponse('limit is invalid'),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
        },
        detail: {
          tags: ['Mailboxes'],
          operationId: 'listMailboxes',
          summary: 'List live mailboxes',
          description:
            'An API key lists the mailboxes it created; the admin key every one; a mailbox token only its own.',
        },
      },
    )
    .get(
      '/v1/mailboxes/:address',
      async ({ params, requirePrincipal }) =>
        mailboxJson(await findMailbox(core, requirePrincipal(), params.address)),
      {
        params: AddressParams,
        response: {
          200: MailboxSchema,
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Mailboxes'],
          operationId: 'getMailbox',
          summary: 'Get a mailbox',
          description:
            'The mailbox with its lifetime. Visible to its own token, to the API key that created it and to the admin; to anyone else it does not exist (404).',
        },
      },
    )
    .patch(
      '/v1/mailboxes/:address',
      async ({ params, body, requirePrincipal }) =>
        mailboxJson(await updateMailbox(core, requirePrincipal(), params.address, body)),
      {
        parse: 'json',
        params: AddressParams,
        body: UpdateMailboxBody,
        response: {
          200: MailboxSchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
          409: problemResponse('The new address is taken'),
          422: problemResponse(
            'Unknown domain, invalid local part, or ttlSeconds outside the configured bounds',
          ),
        },
        detail: {
          tags: ['Mailboxes'],
          operationId: 'updateMailbox',
          summary: 'Rename, switch domain or extend a mailbox',
          description:
            'Changes the local part and/or domain (messages and token stay with the mailbox; the old address stops receiving at once), and/or sets a new lifetime counted from now.',
        },
      },
    )
    .delete(
      '/v1/mailboxes/:address',
      async ({ params, requirePrincipal, set }) => {
        await deleteMailbox(core, requirePrincipal(), params.address)
        set.status = 204
      },
      {
        params: AddressParams,
        response: {
          204: t.Void({ description: 'Deleted with all its messages' }),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Mailboxes'],
          operationId: 'deleteMailbox',
          summary: 'Delete a mailbox and all its messages',
          description:
            'Deletes the mailbox at once with its messages, attachments and webhooks; its address stops receiving and its token stops working.',
        },
      },
    )
    .get(
      '/v1/mailboxes/:address/messages',
      async ({ params, query, request, server, requirePrincipal }) => {
        const mailbox = await findMailbox(core, requirePrincipal(), params.address)
        const page = await longPoll({
          hub,
          mailboxId: mailbox.id,
          waitSeconds: query.wait ?? 0,
          request,
          server,
          look: () =>
            listMessages(core, mailbox, {
              limit: query.limit ?? 20,
              before: query.cursor,
              after: query.after,
            }),
          found: (result) => result.items.length > 0,
          wakesOn: (event) => event.type === 'message.received',
        })
        return { items: page.items.map(messageSummaryJson), nextCursor: page.nextCursor }
      },
      {
        params: AddressParams,
        query: ListMessagesQuery,
        response: {
          200: MessagePageSchema,
          400: problemResponse('limit or cursor is invalid'),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'listMessages',
          summary: 'List messages, newest first (long-poll with ?wait=)',
          description:
            'Message summaries (with the extracted `otp` and `link`), newest first. `cursor` pages back to older messages; `after` keeps only messages newer than one already seen. With `wait`, an empty page is held until mail arrives, so a client can wait for a message without an event stream.',
        },
      },
    )
    .delete(
      '/v1/mailboxes/:address/messages',
      async ({ params, requirePrincipal }) => ({
        deleted: await clearMailbox(core, requirePrincipal(), params.address),
      }),
      {
        params: AddressParams,
        response: {
          200: t.Object(
            { deleted: Integer({ description: 'How many messages were deleted' }) },
            { description: 'Mailbox emptied' },
          ),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'clearMailbox',
          summary: 'Delete every message of a mailbox',
          description: 'Empties the mailbox and says how many messages went; the mailbox itself stays.',
        },
      },
    )
}
