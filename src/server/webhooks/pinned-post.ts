// A webhook POST that connects only to the addresses vetted (pinned DNS), vets each redirect, keeps one deadline.

import type { LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { beforeTimeout } from '#lib/deadline.ts'
import {
  bareHost,
  type LookupFn,
  type OutboundPolicy,
  parseAddress,
  parseTarget,
  resolveVetted,
  systemLookup,
} from './address-policy.ts'

export interface PostResult {
  status: number
  latencyMs: number
  finalUrl: string
}

/** The most of a receiver's answer we read; the rest goes with the socket. */
const MAX_RESPONSE_BYTES = 64 * 1024

/** 307 and 308 keep the method and body; 301/302/303 would turn the POST into a GET, so are not followed. */
const FOLLOWED_REDIRECTS = new Set([307, 308])

function timeoutError(timeoutMs: number): Error {
  const error = new Error(`timed out after ${timeoutMs} ms`)
  error.name = 'TimeoutError'
  return error
}

function untilDeadline(deadline: number): number {
  return Math.max(0, deadline - performance.now())
}

/**
 * The connect-time lookup of node:http(s): it answers with the vetted addresses and never asks DNS, so the
 * connection goes where the check said (no DNS rebinding between check and connect). Bun's node:http calls it
 * with `all: true` and tries the addresses in turn; Node calls it either way.
 */
function pinnedLookup(first: LookupAddress, rest: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [first, ...rest])
    else callback(null, first.address, first.family)
  }
}

interface Hop {
  target: URL
  addresses: readonly LookupAddress[]
  body: string
  headers: Record<string, string>
  deadline: number
  timeoutMs: number
}

interface Answer {
  status: number
  location: string | undefined
  headersAt: number
}

/** Headers we set ourselves win over the caller's, whatever their case. */
const OWN_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding'])

function requestOptions(hop: Hop): RequestOptions {
  const { target, addresses, body, headers } = hop
  const [first, ...rest] = addresses
  if (first === undefined) throw new Error(`no vetted address for ${target.href}`)
  const host = bareHost(target)
  const callerHeaders = Object.entries(headers).filter(([name]) => !OWN_HEADERS.has(name.toLowerCase()))
  return {
    method: 'POST',
    hostname: host,
    port: target.port === '' ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    headers: {
      ...Object.fromEntries(callerHeaders),
      host: target.host,
      'content-length': String(Buffer.byteLength(body)),
      // One connection per request: nothing pooled can outlive the check that allowed it.
      connection: 'close',
    },
    agent: false,
    lookup: pinnedLookup(first, rest),
    // SNI and certificate verification use the name, while the socket goes to the pinned address.
    ...(parseAddress(host) === null ? { servername: host } : {}),
  }
}

/**
 * One POST. Resolves with the status once the headers are in and the body is drained (to its end, to
 * MAX_RESPONSE_BYTES or to the deadline), then destroys the socket. The deadline before headers is an error.
 */
function exchange(hop: Hop): Promise<Answer> {
  const options = requestOptions(hop)
  return new Promise((resolve, reject) => {
    let answer: Answer | null = null
    let settled = false
    const request = (hop.target.protocol === 'https:' ? httpsRequest : httpRequest)(options, (response) => {
      answer = {
        status: response.statusCode ?? 0,
        location: response.headers.location,
        headersAt: performance.now(),
      }
      drain(response, () => settle(answer))
    })
    // The timer settles the promise itself, whatever a runtime's client reports when destroyed.
    const timer = setTimeout(() => settle(answer ?? timeoutError(hop.timeoutMs)), untilDeadline(hop.deadline))
    function settle(outcome: Answer | Error | null): void {
      if (settled || outcome === null) return
      settled = true
      clearTimeout(timer)
      request.destroy()
      if (outcome instanceof Error) reject(outcome)
      else resolve(outcome)
    }
    // Once the status is known, a broken body does not change the outcome.
    request.on('error', (error) => settle(answer ?? error))
    request.end(hop.body)
  })
}

/** Reads until the body ends, fails or passes MAX_RESPONSE_BYTES: no receiver makes us buffer without end. */
function drain(response: IncomingMessage, done: () => void): void {
  let read = 0
  response.on('data', (chunk: Buffer) => {
    read += chunk.length
    if (read >= MAX_RESPONSE_BYTES) done()
  })
  response.on('end', done)
  response.on('error', done)
  response.on('close', done)
}

/**
 * POSTs `body` to `url`. Every hop is vetted as in checkOutboundUrl and connects to the addresses vetted
 * (pinned lookup). Only 307/308 are followed, up to `maxRedirects` (default 3); any other status, 301/302/303
 * included, is the result. `timeoutMs` bounds lookups, connects and waits for headers over all hops;
 * `latencyMs` runs from the call to the final hop's headers. Throws OutboundBlockedError, TypeError
 * (malformed URL), a TimeoutError ('timed out after N ms'), Error('too many redirects ...') or the
 * network error.
 */
export async function postOutbound(
  url: string,
  options: {
    body: string
    headers: Record<string, string>
    timeoutMs: number
    policy: OutboundPolicy
    maxRedirects?: number
    lookup?: LookupFn
  },
): Promise<PostResult> {
  const { body, headers, timeoutMs, policy, maxRedirects = 3, lookup = systemLookup } = options
  const started = performance.now()
  const deadline = started + timeoutMs
  let target = parseTarget(url)
  let label = target.href
  for (let redirects = 0; ; redirects++) {
    // The lookup itself cannot be cancelled: past the deadline its answer is ignored.
    const addresses = await beforeTimeout(
      resolveVetted(target, label, policy, lookup),
      untilDeadline(deadline),
      () => timeoutError(timeoutMs),
    )
    const answer = await exchange({ target, addresses, body, headers, deadline, timeoutMs })
    if (!FOLLOWED_REDIRECTS.has(answer.status) || answer.location === undefined)
      return {
        status: answer.status,
        latencyMs: Math.round(answer.headersAt - started),
        finalUrl: target.href,
      }
    if (redirects >= maxRedirects)
      throw new Error(`too many redirects: ${url} redirected more than ${maxRedirects} times`)
    const next = parseTarget(answer.location, target)
    label = `${next.href} (redirected from ${target.href})`
    target = next
  }
}
