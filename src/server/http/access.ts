// Access rules: who may see which mailbox and message. Anything not visible is a 404, so addresses cannot be probed.

import type { AuthPlugin, Principal } from '#contracts/auth.ts'
import { isUuid } from '#lib/ids.ts'
import { ProblemError, unauthorized } from '#lib/problem.ts'
import type { Mailbox } from '#lib/types.ts'
import type { LiveMailboxes } from '#server/pipeline/live-mailboxes.ts'

export interface Access {
  /** The caller, or a 401 when no credential came with the request. */
  requirePrincipal(request: Request): Promise<Principal>
  /** The caller, or null when no credential came; a wrong credential is still a 401. */
  optionalPrincipal(request: Request): Promise<Principal | null>
  /**
   * A live mailbox the caller may use, or a 404. `queryToken` is the `access_token` query parameter,
   * accepted only by the routes browsers open without headers (event stream, WebSocket).
   */
  mailbox(request: Request, address: string, queryToken?: string): Promise<Mailbox>
  /** The caller by header, else by `access_token` query parameter; 401 when neither came. */
  principalOf(request: Request, queryToken?: string): Promise<Principal>
  /** The principal a token stands for; a wrong token is a 401. */
  principalOfToken(token: string): Promise<Principal>
  /** A live mailbox this principal may use, or a 404. */
  mailboxFor(principal: Principal, address: string): Promise<Mailbox>
  /** Call after renaming, extending or deleting a mailbox: the next lookup asks storage. */
  forgetMailbox(mailboxId: string): void
  /** Loads a message with `load` and returns it if the caller may see it, else a 404. */
  message<T extends { mailboxId: string }>(
    request: Request,
    id: string,
    load: (id: string) => Promise<T | null>,
  ): Promise<T>
}

export function createAccess({
  auth,
  mailboxes,
  now,
}: {
  auth: AuthPlugin
  /** Mailbox lookups by address, remembered briefly: a client polling its inbox costs one query, not two. */
  mailboxes: LiveMailboxes
  now: () => Date
}): Access {
  async function requirePrincipal(request: Request): Promise<Principal> {
    const principal = await auth.authenticate(request)
    if (principal) return principal
    throw unauthorized('Send "Authorization: Bearer <token>" with the admin key or the mailbox token')
  }

  const mayUse = (principal: Principal, mailboxId: string) =>
    principal.kind === 'admin' || principal.mailboxId === mailboxId

  async function principalOf(request: Request, queryToken?: string): Promise<Principal> {
    // A header wins, so a stray query parameter cannot change who a header-carrying client is.
    if (queryToken === undefined || request.headers.has('authorization')) return requirePrincipal(request)
    return auth.authenticateToken(queryToken)
  }

  async function mailboxFor(principal: Principal, address: string): Promise<Mailbox> {
    const normalized = address.trim().toLowerCase()
    const mailbox = await mailboxes.findOne(normalized, now())
    if (!mailbox || !mayUse(principal, mailbox.id))
      throw new ProblemError(404, 'not-found', `No mailbox ${normalized} (it may have expired)`)
    return mailbox
  }

  return {
    requirePrincipal,
    optionalPrincipal: (request) => auth.authenticate(request),

    async mailbox(request, address, queryToken) {
      return mailboxFor(await principalOf(request, queryToken), address)
    },
    principalOf,
    principalOfToken: (token) => auth.authenticateToken(token),
    mailboxFor,
    forgetMailbox: (mailboxId) => mailboxes.forget(mailboxId),

    async message(request, id, load) {
      const principal = await requirePrincipal(request)
      const found = isUuid(id) ? await load(id) : null
      if (!found || !mayUse(principal, found.mailboxId))
        throw new ProblemError(404, 'not-found', `No message ${id}`)
      return found
    },
  }
}
