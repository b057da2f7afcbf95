// Shared contract suite for credential styles (plugins/auth/*): each style's runner says how a client carries a credential.

import { describe, expect } from 'bun:test'
import type { CredentialStyle } from '#contracts/auth.ts'
import { createAuthenticator } from '#core/authenticate.ts'
import { adminKeyResolver } from '#core/principals.ts'
import { sha256Hex } from '#lib/ids.ts'
import { ProblemError } from '#lib/problem.ts'
import { type ContractOptions, contractTest } from './known-gaps.ts'

export interface CredentialStyleFixture {
  style: CredentialStyle
  /** A request to `url` carrying `credential` the way this style's clients send it. */
  carry(url: string, credential: string): Request
  /** A request whose carrier is present but malformed, or null when the style cannot be malformed. */
  malformed(url: string): Request | null
}

const URL_BASE = 'http://ephemail.test/v1/mailboxes/probe@ephemail.test'
const CREDENTIALS = ['eak_simple', 'mbt_AbC-_0123456789xyz', 'a/b+c=d%20e']

export function runCredentialStyleContract(
  name: string,
  fixture: CredentialStyleFixture,
  options: ContractOptions = {},
) {
  const { test: it, checkSkips } = contractTest(`credential style contract: ${name}`, options)
  const { style } = fixture

  describe(`credential style contract: ${name}`, () => {
    it('declares a name, a scope, a client hint, and a challenge or scheme that fit its carrier', () => {
      expect(style.name).toBe(name)
      expect(['request', 'stream']).toContain(style.scope)
      expect(style.hint).toMatch(/<[^>]+>/)
      // RFC 9110 challenge: a scheme, the realm, then any further auth-params (an API-key style names its carrier).
      if (style.challenge !== null)
        expect(style.challenge).toMatch(/^[A-Za-z][\w-]* realm="[^"]+"(, [A-Za-z][\w-]*="[^"]*")*$/)
      if (style.securityScheme) {
        expect(style.securityScheme.schemeName).toMatch(/^[A-Za-z][\w-]*$/)
        expect(['http', 'apiKey']).toContain(style.securityScheme.scheme.type)
      }
    })

    it('reads nothing from a request that carries no credential', () => {
      expect(style.read(new Request(URL_BASE))).toBeNull()
      expect(
        style.read(new Request(`${URL_BASE}?limit=5`, { headers: { accept: 'application/json' } })),
      ).toBeNull()
    })

    it('reads back exactly the credential a client carries, special characters included', () => {
      for (const credential of CREDENTIALS)
        expect(style.read(fixture.carry(URL_BASE, credential))).toBe(credential)
    })

    it('refuses a malformed carrier with a 401 problem rather than reading it as anonymous', () => {
      const request = fixture.malformed(URL_BASE)
      if (request === null) {
        // Nothing to get wrong: an absent carrier still reads as no credential.
        expect(style.read(new Request(URL_BASE))).toBeNull()
        return
      }
      let thrown: unknown = null
      try {
        style.read(request)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ProblemError)
      expect((thrown as ProblemError).status).toBe(401)
    })

    it('behind the authenticator, the admin key resolves and a wrong key is a 401 (the scope is honoured)', async () => {
      const adminKey = 'contract-admin-key-0123456789'
      const others: CredentialStyle[] =
        style.scope === 'request'
          ? []
          : [{ ...style, name: 'placeholder', scope: 'request', read: () => null }]
      const auth = createAuthenticator({
        styles: [style, ...others],
        resolvers: [adminKeyResolver(await sha256Hex(adminKey))],
      })
      const scope = style.scope
      expect(await auth.authenticate(fixture.carry(URL_BASE, adminKey), scope)).toEqual({ kind: 'admin' })
      await expect(auth.authenticate(fixture.carry(URL_BASE, 'not-the-key'), scope)).rejects.toMatchObject({
        status: 401,
      })
      if (scope === 'stream')
        expect(await auth.authenticate(fixture.carry(URL_BASE, adminKey), 'request')).toBeNull()
    })
    checkSkips()
  })
}
