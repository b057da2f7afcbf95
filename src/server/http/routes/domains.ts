// GET /v1/domains: the domains this server receives mail for.

import { Elysia } from 'elysia'
import type { ReceivingDomain } from '#lib/address.ts'
import { DomainListSchema } from '#server/http/schemas.ts'

export function domainRoutes(domains: readonly ReceivingDomain[]) {
  const body = { domains: domains.map((domain) => ({ name: domain.name, type: domain.type })) }
  return new Elysia({ name: 'routes.domains' }).get('/v1/domains', () => body, {
    response: { 200: DomainListSchema },
    detail: {
      tags: ['Domains'],
      operationId: 'listDomains',
      summary: 'List receiving domains',
      description: 'The domains mailboxes can be created on. No credential needed.',
      security: [],
    },
  })
}
