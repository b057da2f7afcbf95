// Admin routes for receiving domains: register (MX-checked), list, read, re-check and delete.

import { Elysia, t } from 'elysia'
import {
  type DomainInfo,
  deleteDomain,
  getDomainInfo,
  listAllDomains,
  registerDomain,
  verifyDomain,
} from '#core/admin-domains.ts'
import type { CoreDeps } from '#core/context.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import {
  AdminDomainListSchema,
  AdminDomainSchema,
  DomainNameParams,
  jsonBodyProblems,
  problemResponse,
  RegisterDomainBody,
  unauthorizedResponse,
} from '#server/http/schemas.ts'

export interface AdminDomainRouteDeps {
  core: CoreDeps
  principal: PrincipalPlugins
}

const forbiddenResponse = problemResponse(
  'The credential is not the admin key or an API key with the admin scope',
)
const notFoundResponse = problemResponse('No such domain')

const iso = (date: Date | null) => (date === null ? null : date.toISOString())

export function adminDomainJson(domain: DomainInfo) {
  return {
    name: domain.name,
    type: domain.type,
    privateToKeys: domain.privateToKeys,
    status: domain.status,
    problems: domain.problems,
    mxHosts: domain.mxHosts,
    source: domain.source,
    createdAt: iso(domain.createdAt),
    checkedAt: iso(domain.checkedAt),
    verifiedAt: iso(domain.verifiedAt),
  }
}

export function adminDomainRoutes({ core, principal }: AdminDomainRouteDeps) {
  return new Elysia({ name: 'routes.admin.domains' })
    .use(principal.required)
    .post(
      '/v1/admin/domains',
      async ({ body, requirePrincipal, set }) => {
        const domain = await registerDomain(core, requirePrincipal(), body)
        set.status = 201
        set.headers.location = `/v1/admin/domains/${domain.name}`
        return adminDomainJson(domain)
      },
      {
        parse: 'json',
        body: RegisterDomainBody,
        response: {
          201: AdminDomainSchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          403: forbiddenResponse,
          409: problemResponse('The domain is already registered, or configured in EPHEMAIL_DOMAINS'),
          422: problemResponse('Not a domain name, or privateToKeys names an API key that does not exist'),
        },
        detail: {
          tags: ['Admin'],
          operationId: 'registerDomain',
          summary: 'Register a receiving domain',
          description:
            'Registers a domain and checks its MX records at once. It receives mail (and mailboxes can be created on it) only once `verified`: at least one MX record must point at one of EPHEMAIL_MX_HOSTS. Otherwise it is `pending`, `problems` says what is wrong, and it is re-checked every minute (verified ones every EPHEMAIL_DOMAIN_RECHECK_SECONDS). Every process starts receiving for it as soon as it is verified, without a restart.',
        },
      },
    )
    .get(
      '/v1/admin/domains',
      async ({ requirePrincipal }) => ({
        items: (await listAllDomains(core, requirePrincipal())).map(adminDomainJson),
      }),
      {
        response: { 200: AdminDomainListSchema, 401: unauthorizedResponse, 403: forbiddenResponse },
        detail: {
          tags: ['Admin'],
          operationId: 'listAdminDomains',
          summary: 'List every receiving domain',
          description:
            'Configured domains (EPHEMAIL_DOMAINS, `source: configured`, always verified) and registered ones with their last MX check.',
        },
      },
    )
    .get(
      '/v1/admin/domains/:name',
      async ({ params, requirePrincipal }) =>
        adminDomainJson(await getDomainInfo(core, requirePrincipal(), params.name)),
      {
        params: DomainNameParams,
        response: {
          200: AdminDomainSchema,
          401: unauthorizedResponse,
          403: forbiddenResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Admin'],
          operationId: 'getAdminDomain',
          summary: 'Get a receiving domain with its last MX check',
          description:
            'Configured or registered, with its status and what the last MX check found (POST …/verify checks again now).',
        },
      },
    )
    .post(
      '/v1/admin/domains/:name/verify',
      async ({ params, requirePrincipal }) =>
        adminDomainJson(await verifyDomain(core, requirePrincipal(), params.name)),
      {
        params: DomainNameParams,
        response: {
          200: AdminDomainSchema,
          401: unauthorizedResponse,
          403: forbiddenResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Admin'],
          operationId: 'verifyDomain',
          summary: 'Check a domain’s MX records now',
          description:
            'Re-checks a registered domain at once (after changing its DNS) and answers it with the result. A verified domain whose lookup gets no answer (timeout, SERVFAIL) stays verified; one whose MX no longer points here becomes pending and stops receiving. A configured domain is answered as it is.',
        },
      },
    )
    .delete(
      '/v1/admin/domains/:name',
      async ({ params, requirePrincipal, set }) => {
        await deleteDomain(core, requirePrincipal(), params.name)
        set.status = 204
      },
      {
        params: DomainNameParams,
        response: {
          204: t.Void({
            description:
              'Deleted: its mailboxes stop receiving at once; they and their mail stay until their lifetime ends',
          }),
          401: unauthorizedResponse,
          403: forbiddenResponse,
          404: notFoundResponse,
          409: problemResponse('The domain is configured in EPHEMAIL_DOMAINS, not registered'),
        },
        detail: {
          tags: ['Admin'],
          operationId: 'deleteDomain',
          summary: 'Delete a registered domain',
          description:
            'SMTP refuses its mail (550) in every process at once. Its mailboxes are not deleted: they stay readable until their lifetime ends.',
        },
      },
    )
}
