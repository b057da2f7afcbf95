// Records every response of an Ephemail app the tests see (in-process handle, fetch to its port) and checks it against the contract.

import type { CompatApi } from '#core/compat.ts'
import { routeShapes } from '#server/http/errors.ts'
import type { ResponseContract, SeenResponse } from './contract.ts'

/** A request the native document does not describe by design, and the rule that says so. */
export interface ScopeRule {
  name: string
  owns(path: string): boolean
}

/** Paths every Ephemail app serves outside the native API: the document itself, Swagger UI and the web inbox. */
export const OUT_OF_SCOPE: readonly ScopeRule[] = [
  {
    name: 'the OpenAPI document and Swagger UI (/openapi.*, /docs)',
    owns: (path) =>
      path === '/openapi.json' || path === '/openapi.yaml' || path === '/docs' || path.startsWith('/docs/'),
  },
  { name: 'the web inbox (/, /web/*)', owns: (path) => path === '/' || path.startsWith('/web/') },
]

/**
 * The paths of the compatibility layers mounted in an app, decided as app.ts's compatOwner does: under
 * the layer's prefix, or, mounted at the root, the paths of its own routes (any method).
 */
export function compatRule(apis: readonly CompatApi[]): ScopeRule {
  const owners = apis.map((api) => {
    const shapes = api.prefix === '' ? routeShapes((api.routes as { routes: RouteList }).routes) : []
    return (path: string) =>
      api.prefix === ''
        ? shapes.some((shape) => shape.pattern.test(path))
        : path === api.prefix || path.startsWith(`${api.prefix}/`)
  })
  return {
    name: `compatibility layers (${apis.map((api) => api.name).join(', ')})`,
    owns: (path) => owners.some((owns) => owns(path)),
  }
}

type RouteList = readonly { method: string; path: string }[]

/** How the responses of one server reach the tests. */
export type Channel = 'in-process' | 'http' | 'child-process'

export interface AuditedServer {
  channel: Channel
  /** Rules of this server on top of OUT_OF_SCOPE (its compatibility layers, its HTTP ingest sources). */
  rules: readonly ScopeRule[]
}

export interface Violation {
  route: string
  status: number
  channel: Channel
  problems: string[]
}

/** Responses whose body is not read for the check: a stream stays open as long as the test wants. */
const unreadable = (method: string, response: Response) =>
  method === 'HEAD' ||
  response.status === 101 ||
  response.status === 204 ||
  response.status === 304 ||
  (response.headers.get('content-type') ?? '').startsWith('text/event-stream')

export interface ResponseAudit {
  /** Checks one response of `server` (its body through a clone, so the caller's stays unread). */
  record(server: AuditedServer, method: string, url: string, response: Response): void
  /** Servers reached over TCP, by port (tests use 127.0.0.1 or localhost). */
  listen(port: number, server: AuditedServer): void
  unlisten(port: number, server: AuditedServer): void
  serverAt(url: URL): AuditedServer | null
  /** Waits for the checks still reading bodies, at most `maxMs`; what is left is reported later. */
  settle(maxMs: number): Promise<void>
  takeViolations(): Violation[]
  summary(): string
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '0.0.0.0'])

export function createResponseAudit(contract: () => Promise<ResponseContract>): ResponseAudit {
  const listening = new Map<number, AuditedServer>()
  const pending = new Set<Promise<void>>()
  const violations: Violation[] = []
  const checked: Record<Channel, number> = { 'in-process': 0, http: 0, 'child-process': 0 }
  const skipped = new Map<string, number>()

  async function check(
    server: AuditedServer,
    seen: Omit<SeenResponse, 'body'>,
    body: Promise<string | null>,
  ) {
    const verdict = (await contract()).check({ ...seen, body: await body.catch(() => null) })
    checked[server.channel]++
    if (verdict.problems.length > 0)
      violations.push({
        route: verdict.route,
        status: seen.status,
        channel: server.channel,
        problems: verdict.problems,
      })
  }

  return {
    record(server, method, url, response) {
      const path = new URL(url).pathname
      const rule = [...OUT_OF_SCOPE, ...server.rules].find((candidate) => candidate.owns(path))
      if (rule) {
        skipped.set(rule.name, (skipped.get(rule.name) ?? 0) + 1)
        return
      }
      const body = unreadable(method, response) ? Promise.resolve(null) : response.clone().text()
      const seen = { method, path, status: response.status, headers: new Headers(response.headers) }
      const done: Promise<void> = check(server, seen, body)
        .catch((error) => {
          violations.push({
            route: `${method} ${path}`,
            status: response.status,
            channel: server.channel,
            problems: [`the audit itself failed: ${(error as Error).stack ?? error}`],
          })
        })
        .finally(() => pending.delete(done))
      pending.add(done)
    },
    listen(port, server) {
      listening.set(port, server)
    },
    unlisten(port, server) {
      if (listening.get(port) === server) listening.delete(port)
    },
    serverAt(url) {
      if (url.protocol !== 'http:' || !LOCAL_HOSTS.has(url.hostname)) return null
      return listening.get(Number(url.port || 80)) ?? null
    },
    async settle(maxMs) {
      if (pending.size === 0) return
      await Promise.race([Promise.allSettled([...pending]), Bun.sleep(maxMs)])
    },
    takeViolations: () => violations.splice(0),
    summary() {
      const total = checked['in-process'] + checked.http + checked['child-process']
      const rules = [...skipped].map(([name, count]) => `${name}: ${count}`).join('; ')
      return `response audit: ${total} responses checked against openapi.yaml (in-process ${checked['in-process']}, HTTP ${checked.http}, child processes ${checked['child-process']}); out of scope by rule: ${rules || 'none'}`
    },
  }
}

/** Renders violations for a failure message: route, status, channel, each difference; repeats counted once. */
export function describeViolations(found: readonly Violation[]): string {
  const counted = new Map<string, number>()
  for (const violation of found) {
    const text = `${violation.route} → ${violation.status} (${violation.channel}):\n${violation.problems
      .map((problem) => `    - ${problem}`)
      .join('\n')}`
    counted.set(text, (counted.get(text) ?? 0) + 1)
  }
  return [...counted]
    .map(([text, count]) => (count > 1 ? `${text}\n    (seen ${count} times)` : text))
    .join('\n')
}

/**
 * Where the preload puts the one audit of a test run, so helpers that start servers the preload cannot see
 * (child processes) can register them; null when the audit is off (EPHEMAIL_AUDIT_RESPONSES=0).
 */
const AUDIT_KEY = Symbol.for('ephemail.response-audit')

export function installAudit(audit: ResponseAudit): void {
  ;(globalThis as Record<symbol, unknown>)[AUDIT_KEY] = audit
}

export function installedAudit(): ResponseAudit | null {
  return ((globalThis as Record<symbol, unknown>)[AUDIT_KEY] as ResponseAudit | undefined) ?? null
}
