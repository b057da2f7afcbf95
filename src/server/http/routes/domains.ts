// GET /v1/domains: the domains this caller may create mailboxes on.

import { Elysia } from 'elysia'
import type { CoreDeps } from '#core/context.ts'
import { usableDomains } from '#core/domains.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import {
  DomainListSchema,
  DomainsQuery,
  problemResponse,
  unauthorizedResponse,
} from '#server/http/schemas.ts'

export function domainRoutes({ core, principal }: { core: CoreDeps; principal: PrincipalPlugins }) {
  return new Elysia({ name: 'routes.domains' }).use(principal.optional).get(
    '/v1/domains',
    async ({ principal, query }) => ({
      domains: (await usableDomains(core, principal, query.type)).map((domain) => ({
        name: domain.name,
        type: domain.type,
      })),
    }),
    {
      query: DomainsQuery,
      response: {
        200: DomainListSchema,
        400: problemResponse('An unknown query parameter, or `type` is not a domain type'),
        401: unauthorizedResponse,
      },
      detail: {
        tags: ['Domains'],
        operationId: 'listDomains',
        summary: 'List the receiving domains this caller may use',
        description:
          "The domains mailboxes can be created on by this caller: those its plan's domain types allow (anonymous callers: public and custom), less private domains of other API keys, and only those its key allows. A credential is optional; without one the anonymous plan applies. Registered domains appear once their MX check passed.",
      },
    },
  )
}
