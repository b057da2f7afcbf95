// The response audit (test/preload/response-audit.ts): what the contract reports, and that a difference fails a real run.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { createApiHarness } from './support/api-harness.ts'
import {
  loadResponseContract,
  type ResponseContract,
  type SeenResponse,
} from './support/response-audit/contract.ts'

const ROOT = join(import.meta.dir, '..')
const committedYaml = readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')

describe('the response contract of openapi.yaml', () => {
  let contract: ResponseContract
  let h: Awaited<ReturnType<typeof createApiHarness>>
  /** A real answer of the app, as the audit sees it, to be changed one way at a time. */
  let created: SeenResponse
  let notFound: SeenResponse
  beforeAll(async () => {
    contract = await loadResponseContract(committedYaml)
    h = await createApiHarness()
    const asSeen = async (method: string, path: string, body?: unknown): Promise<SeenResponse> => {
      const response = await h.call(method, path, body === undefined ? {} : { body })
      return { method, path, status: response.status, headers: response.headers, body: response.text }
    }
    created = await asSeen('POST', '/v1/mailboxes', { localPart: 'audited' })
    notFound = await asSeen('GET', '/v1/mailboxes/nobody%40ephemail.test')
  })
  afterAll(() => h.close())

  test('real answers pass, matched to their path templates', () => {
    expect(contract.check(created)).toEqual({ route: 'POST /v1/mailboxes', problems: [] })
    expect(contract.check(notFound)).toEqual({ route: 'GET /v1/mailboxes/{address}', problems: [] })
  })

  test('an undocumented field, status, content type or header is named', () => {
    const body = JSON.stringify({ ...JSON.parse(created.body as string), secretSauce: 1 })
    expect(contract.check({ ...created, body }).problems).toEqual([
      'body as a whole must NOT have additional properties (secretSauce)',
    ])
    expect(contract.check({ ...created, status: 202 }).problems[0]).toStartWith('undocumented status')
    const asText = new Headers(created.headers)
    asText.set('content-type', 'text/plain')
    expect(contract.check({ ...created, headers: asText }).problems[0]).toStartWith(
      'undocumented content type "text/plain"',
    )
    const extraHeader = new Headers(notFound.headers)
    extraHeader.set('x-powered-by', 'Elysia')
    expect(contract.check({ ...notFound, headers: extraHeader }).problems).toEqual([
      'undocumented header x-powered-by: "Elysia"',
    ])
    const badRetry = new Headers(notFound.headers)
    badRetry.set('x-ratelimit-remaining', 'lots')
    expect(contract.check({ ...notFound, headers: badRetry }).problems).toEqual([
      'header X-RateLimit-Remaining is not an integer: "lots"',
    ])
  })

  test('a request no operation describes must get a Problem with a router status', () => {
    const unrouted = { ...notFound, path: '/v1/nothing-here' }
    expect(contract.check(unrouted)).toEqual({ route: 'GET /v1/nothing-here (no operation)', problems: [] })
    expect(contract.check({ ...unrouted, status: 200 }).problems[0]).toStartWith('status 200')
    const html = new Headers(notFound.headers)
    html.set('content-type', 'text/html')
    expect(contract.check({ ...unrouted, headers: html }).problems).toEqual([
      'content type "text/html", not application/problem+json',
    ])
  })
})

describe('a planted difference fails the run', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ephemail-audit-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('in-process and over HTTP, each named by route, status and difference', async () => {
    // The document, not the server, is changed: the server's real answers then differ from it.
    const document = parse(committedYaml)
    const createdSchema =
      document.paths['/v1/mailboxes'].post.responses['201'].content['application/json'].schema
    delete createdSchema.properties.localPart
    createdSchema.required = createdSchema.required.filter((name: string) => name !== 'localPart')
    delete document.paths['/v1/mailboxes/{address}'].get.responses['404']
    const tampered = join(dir, 'openapi.yaml')
    writeFileSync(tampered, stringify(document))
    const run = Bun.spawn(
      ['bun', 'test', '--timeout', '30000', './test/fixtures/response-audit/planted.ts'],
      {
        cwd: ROOT,
        env: { ...process.env, EPHEMAIL_AUDIT_DOCUMENT: tampered },
        stdout: 'pipe',
        stderr: 'pipe',
      },
    )
    const [out, err, code] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
      run.exited,
    ])
    const output = out + err
    expect(code, output).not.toBe(0)
    expect(output).toContain('POST /v1/mailboxes → 201 (in-process):')
    expect(output).toContain('body as a whole must NOT have additional properties (localPart)')
    expect(output).toContain('GET /v1/mailboxes/{address} → 404 (http):')
    expect(output).toContain('undocumented status (documented: 200, 401, 403, 429, 500)')
    expect(output).toContain('2 fail')
  })
})
