// Auth contract: turns a request's credentials into a principal; routes decide what that principal may do.

/** Who is calling. Later auth styles (API keys with owners and scopes) add kinds here. */
export type Principal = { kind: 'admin' } | { kind: 'mailbox'; mailboxId: string }

export interface AuthPlugin {
  readonly name: string
  /**
   * `null` means no credential was presented. A credential that was presented but is wrong
   * throws a 401 ProblemError, so a typo never silently falls back to anonymous access.
   */
  authenticate(request: Request): Promise<Principal | null>
  /**
   * The same check for a token that came another way: EventSource and WebSocket clients in a
   * browser cannot set headers, so those routes also take it as a query parameter. A wrong token throws a 401.
   */
  authenticateToken(token: string): Promise<Principal>
}
