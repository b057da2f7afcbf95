// Mailbox routes: create, read, rename or extend, delete, list and clear messages.

import { Elysia, t } from 'elysia'
import type { PubSub } from '#contracts/pubsub.ts'
import type { Storage } from '#contracts/storage.ts'
import { localPartProblem, pickRandom, type ReceivingDomain, randomLocalPart } from '#lib/address.ts'
import { randomToken, sha256Hex } from '#lib/ids.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { Config } from '#server/config.ts'
import type { Access } from '#server/http/access.ts'
import {
  AddressParams,
  CreatedMailboxSchema,
  CreateMailboxBody,
  jsonBodyProblems,
  ListMessagesQuery,
  MailboxSchema,
  MessagePageSchema,
  problemResponse,
  UpdateMailboxBody,
} from '#server/http/schemas.ts'
import { mailboxJson, messageSummaryJson } from '#server/http/serialize.ts'
import type { EventHub } from '#server/live/event-hub.ts'
import { longPoll } from '#server/live/long-poll.ts'

/** Random local parts tried before giving up; each retry adds a digit, so collisions fade fast. */
const RANDOM_LOCAL_PART_ATTEMPTS = 8

export interface MailboxRouteDeps {
  config: Pick<Config, 'domains' | 'ttl' | 'anonymous'>
  storage: Storage
  pubsub: PubSub
  hub: EventHub
  access: Access
  now: () => Date
}

const unauthorizedResponse = problemResponse('No credential, or one that is not valid')
const notFoundResponse = problemResponse('No such live mailbox visible to this credential')

export function mailboxRoutes({ config, storage, pubsub, hub, access, now }: MailboxRouteDeps) {
  const domainNames = new Set(config.domains.map((domain) => domain.name))
  const publicDomains = config.domains.filter((domain) => domain.type === 'public')
  const randomDomainPool: readonly ReceivingDomain[] =
    publicDomains.length > 0 ? publicDomains : config.domains

  function checkDomain(domain: string): string {
    const name = domain.trim().toLowerCase()
    if (!domainNames.has(name))
      throw new ProblemError(
        422,
        'unknown-domain',
        `Domain "${name}" is not served here; see GET /v1/domains`,
      )
    return name
  }

  function checkLocalPart(localPart: string): string {
    const normalized = localPart.trim().toLowerCase()
    const reason = localPartProblem(normalized)
    if (reason) throw new ProblemError(422, 'invalid-local-part', `Local part "${normalized}" ${reason}`)
    return normalized
  }

  function expiryFrom(ttlSeconds: number | undefined, start: Date): Date {
    const seconds = ttlSeconds ?? config.ttl.defaultSeconds
    const { minSeconds, maxSeconds } = config.ttl
    if (seconds < minSeconds || seconds > maxSeconds)
      throw new ProblemError(
        422,
        'ttl-out-of-range',
        `ttlSeconds must be between ${minSeconds} and ${maxSeconds}; got ${seconds}`,
      )
    return new Date(start.getTime() + seconds * 1000)
  }

  function addressTaken(address: string): ProblemError {
    return new ProblemError(409, 'address-taken', `The address ${address} is already in use`)
  }

  async function createMailbox(body: { localPart?: string; domain?: string; ttlSeconds?: number }) {
    const domain = body.domain === undefined ? pickRandom(randomDomainPool).name : checkDomain(body.domain)
    const chosenLocalPart = body.localPart === undefined ? null : checkLocalPart(body.localPart)
    const createdAt = now()
    const expiresAt = expiryFrom(body.ttlSeconds, createdAt)
    const token = randomToken('mbt_')
    const tokenHash = await sha256Hex(token)
    const attempts = chosenLocalPart === null ? RANDOM_LOCAL_PART_ATTEMPTS : 1
    for (let attempt = 0; attempt < attempts; attempt++) {
      const localPart = chosenLocalPart ?? randomLocalPart(attempt)
      const mailbox: Mailbox = {
        id: crypto.randomUUID(),
        localPart,
        domain,
        address: `${localPart}@${domain}`,
        createdAt,
        expiresAt,
      }
      if ((await storage.insertMailbox({ ...mailbox, tokenHash })) === 'created')
        return { ...mailboxJson(mailbox), token }
      if (chosenLocalPart !== null) throw addressTaken(mailbox.address)
    }
    throw new ProblemError(
      503,
      'service-unavailable',
      'Could not find a free random address; try again or pick a local part',
    )
  }

  return new Elysia({ name: 'routes.mailboxes' })
    .post(
      '/v1/mailboxes',
      async ({ body, request, set }) => {
        const principal = await access.optionalPrincipal(request)
        if (!config.anonymous && principal?.kind !== 'admin') {
          if (principal === null) await access.requirePrincipal(request) // throws the 401
          throw new ProblemError(403, 'forbidden', 'Creating mailboxes needs the admin key on this server')
        }
        const created = await createMailbox(body)
        set.status = 201
        return created
      },
      {
        parse: 'json',
        body: CreateMailboxBody,
        response: {
          201: CreatedMailboxSchema,
          ...jsonBodyProblems,
          401: problemResponse('Anonymous creation is off and no credential (or a wrong one) was sent'),
          403: problemResponse('Anonymous creation is off and the credential is not the admin key'),
          409: problemResponse('The requested address is taken'),
          422: problemResponse(
            'Unknown domain, invalid local part, or ttlSeconds outside the configured bounds',
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
    .get(
      '/v1/mailboxes/:address',
      async ({ params, request }) => mailboxJson(await access.mailbox(request, params.address)),
      {
        params: AddressParams,
        response: { 200: MailboxSchema, 401: unauthorizedResponse, 404: notFoundResponse },
        detail: { tags: ['Mailboxes'], operationId: 'getMailbox', summary: 'Get a mailbox' },
      },
    )
    .patch(
      '/v1/mailboxes/:address',
      async ({ params, body, request }) => {
        const mailbox = await access.mailbox(request, params.address)
        const localPart = body.localPart === undefined ? mailbox.localPart : checkLocalPart(body.localPart)
        const domain = body.domain === undefined ? mailbox.domain : checkDomain(body.domain)
        const expiresAt =
          body.ttlSeconds === undefined ? mailbox.expiresAt : expiryFrom(body.ttlSeconds, now())
        const address = `${localPart}@${domain}`
        const updated = await storage.updateMailbox(mailbox.id, { localPart, domain, address, expiresAt })
        if (updated === 'address-taken') throw addressTaken(address)
        if (updated === null)
          throw new ProblemError(404, 'not-found', `No mailbox ${mailbox.address} (it may have expired)`)
        access.forgetMailbox(mailbox.id)
        await pubsub.publish({ type: 'mailbox.changed', mailboxId: mailbox.id })
        return mailboxJson(updated)
      },
      {
        parse: 'json',
        params: AddressParams,
        body: UpdateMailboxBody,
        response: {
          200: MailboxSchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
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
      async ({ params, request, set }) => {
        const mailbox = await access.mailbox(request, params.address)
        if (await storage.deleteMailbox(mailbox.id)) {
          access.forgetMailbox(mailbox.id)
          void pubsub.publish({ type: 'mailbox.expired', mailboxId: mailbox.id, reason: 'deleted' })
        }
        set.status = 204
      },
      {
        params: AddressParams,
        response: {
          204: t.Void({ description: 'Deleted with all its messages' }),
          401: unauthorizedResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Mailboxes'],
          operationId: 'deleteMailbox',
          summary: 'Delete a mailbox and all its messages',
        },
      },
    )
    .get(
      '/v1/mailboxes/:address/messages',
      async ({ params, query, request, server }) => {
        const mailbox = await access.mailbox(request, params.address)
        const page = await longPoll({
          hub,
          mailboxId: mailbox.id,
          waitSeconds: query.wait ?? 0,
          request,
          server,
          look: () =>
            storage.listMessages(mailbox.id, {
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
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'listMessages',
          summary: 'List messages, newest first (long-poll with ?wait=)',
        },
      },
    )
    .delete(
      '/v1/mailboxes/:address/messages',
      async ({ params, request }) => {
        const mailbox = await access.mailbox(request, params.address)
        return { deleted: await storage.deleteMessagesOfMailbox(mailbox.id) }
      },
      {
        params: AddressParams,
        response: {
          200: t.Object(
            { deleted: t.Integer({ description: 'How many messages were deleted' }) },
            { description: 'Mailbox emptied' },
          ),
          401: unauthorizedResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'clearMailbox',
          summary: 'Delete every message of a mailbox',
        },
      },
    )
}
