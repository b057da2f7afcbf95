// One authenticator over the configured credential styles and principal resolvers: request → principal.

import { createHash } from 'node:crypto'
import type { CredentialStyle, Principal, PrincipalResolver } from '#contracts/auth.ts'
import { unauthorized } from '#lib/problem.ts'

export interface Authenticator {
  /**
   * The caller, or null when the request carries no credential in any style honoured for `scope`.
   * A credential that resolves to nobody is a 401.
   */
  authenticate(request: Request, scope?: 'request' | 'stream'): Promise<Principal | null>
  /** The caller, or a 401 saying how to send a credential. */
  requirePrincipal(request: Request, scope?: 'request' | 'stream'): Promise<Principal>
  /** What a credential that came another way stands for (a WebSocket subscribe's token); 401 if nothing. */
  principalOf(credential: string): Promise<Principal>
  /**
   * The 401 for a request with no credential. Given the request, it says when a credential came in a
   * style this route does not honour (an `access_token` outside the event routes).
   */
  credentialRequired(request?: Request): Error
  /** The challenges a 401 carries (one per style that has one), for WWW-Authenticate. */
  readonly challenges: readonly string[]
  readonly styles: readonly CredentialStyle[]
}

export function createAuthenticator({
  styles,
  resolvers,
}: {
  /** In order of precedence: the first style that finds a credential decides. */
  styles: readonly CredentialStyle[]
  resolvers: readonly PrincipalResolver[]
}): Authenticator {
  if (!styles.some((style) => style.scope === 'request'))
    throw new Error('At least one credential style must be honoured on every route')
  // Request-wide styles first, so a stray query parameter never changes who a header-carrying client is.
  const ordered = [...styles].sort((a, b) => (a.scope === b.scope ? 0 : a.scope === 'request' ? -1 : 1))
  const hints = styles.filter((style) => style.scope === 'request').map((style) => style.hint)
  const requiredDetail = `Send ${hints.join(' or ')} with the admin key or the mailbox token`

  async function principalOf(credential: string): Promise<Principal> {
    // The SHA-256 hex on this thread: crypto.subtle's digest hops through a thread pool and back, and with
    // every request doing one, that hop showed up as latency tails of hundreds of milliseconds under load.
    const digest = createHash('sha256').update(credential).digest('hex')
    for (const resolver of resolvers) {
      if (resolver.prefix !== undefined && !credential.startsWith(resolver.prefix)) continue
      const principal = await resolver.resolve(digest)
      if (principal) return principal
    }
    throw unauthorized('The credential is not the admin key, a live API key, or the token of a live mailbox')
  }

  async function resolve(request: Request, scope: 'request' | 'stream'): Promise<Principal | null> {
    for (const style of ordered) {
      if (style.scope === 'stream' && scope !== 'stream') continue
      const credential = style.read(request)
      if (credential !== null) return principalOf(credential)
    }
    return null
  }

  // Per request and scope, the first answer is kept: rate limiting asks before the route does, and a
  // key's lookup (and its last-used touch) should happen once. Weak, so requests take it with them.
  const memo = new WeakMap<
    Request,
    { request?: Promise<Principal | null>; stream?: Promise<Principal | null> }
  >()
  function authenticate(request: Request, scope: 'request' | 'stream' = 'request') {
    let answers = memo.get(request)
    if (answers === undefined) {
      answers = {}
      memo.set(request, answers)
    }
    const known = answers[scope]
    if (known !== undefined) return known
    const answer = resolve(request, scope)
    answers[scope] = answer
    return answer
  }

  return {
    authenticate,
    async requirePrincipal(request, scope) {
      const principal = await authenticate(request, scope)
      if (principal) return principal
      throw unauthorized(requiredDetail)
    },
    principalOf,
    credentialRequired(request) {
      const misplaced = request
        ? styles.find((style) => style.scope === 'stream' && style.read(request) !== null)
        : undefined
      if (misplaced)
        return unauthorized(
          `${misplaced.hint} is accepted only on the event stream and the WebSocket; here ${requiredDetail.charAt(0).toLowerCase()}${requiredDetail.slice(1)}`,
        )
      return unauthorized(requiredDetail)
    },
    challenges: styles.flatMap((style) => (style.challenge ? [style.challenge] : [])),
    styles,
  }
}
