// The HTTP inbound source: POST /v1/inbound (raw RFC 5322) and provider adapters (Mailgun, SendGrid, Postmark, Cloudflare), 202 once stored.

import { Elysia } from 'elysia'
import type { IngestSource, IngestSourceFactory } from '#contracts/ingest.ts'
import type { InboundAccepted } from './deliver.ts'
import { receiveMailgun } from './mailgun.ts'
import { INBOUND_SECURITY_SCHEMES, INBOUND_TAG, operation } from './openapi.ts'
import { receivePostmark } from './postmark.ts'
import { receiveRaw } from './raw.ts'
import type { HttpIngestOptions, InboundRouteContext } from './route-context.ts'
import { receiveSendgrid } from './sendgrid.ts'

export type { HttpIngestOptions } from './route-context.ts'

export const name = 'http'

export const PATH_PREFIX = '/v1/inbound'

export const create: IngestSourceFactory<HttpIngestOptions> = (options, { funnel }) => {
  const context: InboundRouteContext = { funnel, options }
  const accepted = (set: { status?: number | string }, result: InboundAccepted) => {
    set.status = 202
    return result
  }
  const routes = new Elysia({ name: 'ingest.http' })
    .post(
      PATH_PREFIX,
      async ({ request, set }) => accepted(set, await receiveRaw(request, context, 'http:raw')),
      {
        parse: 'none',
        detail: operation('receiveInbound'),
      },
    )
    .post(
      `${PATH_PREFIX}/cloudflare`,
      async ({ request, set }) => accepted(set, await receiveRaw(request, context, 'http:cloudflare')),
      { parse: 'none', detail: operation('receiveCloudflare') },
    )
    .post(
      `${PATH_PREFIX}/mailgun`,
      async ({ request, set }) => accepted(set, await receiveMailgun(request, context)),
      {
        parse: 'none',
        detail: operation('receiveMailgun'),
      },
    )
    .post(
      `${PATH_PREFIX}/sendgrid`,
      async ({ request, set }) => accepted(set, await receiveSendgrid(request, context)),
      { parse: 'none', detail: operation('receiveSendgrid') },
    )
    .post(
      `${PATH_PREFIX}/postmark`,
      async ({ request, set }) => accepted(set, await receivePostmark(request, context)),
      { parse: 'none', detail: operation('receivePostmark') },
    )
  return {
    name,
    http: {
      routes,
      pathPrefix: PATH_PREFIX,
      maxBodyBytes: options.maxBodyBytes,
      openapi: { tag: INBOUND_TAG, securitySchemes: INBOUND_SECURITY_SCHEMES },
    },
    // The routes are served by the API role's listener: nothing of its own to start or stop.
    start: async () => {},
    stop: async () => {},
  } satisfies IngestSource
}
