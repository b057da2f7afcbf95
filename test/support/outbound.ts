// Test helper for outbound POSTs: a recording HTTP receiver on a chosen loopback address, a table-driven
// lookup that counts its calls, and the default and loopback-allowing policies.

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LookupFn } from '#server/webhooks/address-policy.ts'
import { postOutbound } from '#server/webhooks/pinned-post.ts'

export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Receiver {
  port: number
  /** Base URL with the address the server listens on, e.g. http://127.0.0.2:40123 */
  url: string
  received: Received[]
  /** TCP connections accepted, whether or not a request came on them. */
  connections(): number
  close(): Promise<void>
}

export type Respond = (request: Received, response: ServerResponse) => void

const answerOk: Respond = (_request, response) => response.end('ok')

/** A node:http server on `host` that records every request, then lets `respond` answer it. */
export async function receiver(host: string, respond: Respond = answerOk): Promise<Receiver> {
  const received: Received[] = []
  let connections = 0
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      }
      received.push(entry)
      respond(entry, response)
    })
  })
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://${host}:${port}`,
    received,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const DEFAULT_POLICY = { allowedCidrs: [] }
export const LOOPBACK_ALLOWED = { allowedCidrs: ['127.0.0.0/8'] }

export function post(
  url: string,
  policy: { allowedCidrs: readonly string[] },
  extra: { lookup?: LookupFn } = {},
) {
  return postOutbound(url, { body: '{"n":1}', headers: {}, timeoutMs: 2000, policy, ...extra })
}

/** A LookupFn that answers from a table and counts its calls. */
export function fakeDns(answers: Record<string, string[]>): LookupFn & { calls: string[] } {
  const calls: string[] = []
  const lookup = async (hostname: string) => {
    calls.push(hostname)
    const addresses = answers[hostname]
    if (addresses === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(lookup, { calls })
}
