// Swagger UI in a real browser (Debian's Chromium, driven by playwright-core): Authorize works with each credential style, and a whole session (create, then read) runs under the page's CSP with no console error and nothing loaded from another origin.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { type Browser, chromium, type Page } from 'playwright-core'
import { ADMIN_KEY, createApiHarness } from './support/api-harness.ts'

/** Chromium from PATH, or null (saying so) when absent; CI sets EPHEMAIL_REQUIRE_SERVICES=1 so absence fails. */
function chromiumAvailable(): string | null {
  const found = Bun.which('chromium')
  if (found) return found
  if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
    throw new Error('chromium is required but not on PATH (apt-get install chromium)')
  console.warn('chromium is not on PATH: the Swagger UI browser tests are skipped')
  return null
}

const executablePath = chromiumAvailable()

/** A request the browser made to the API (/v1/…), as the server received it. */
interface Seen {
  method: string
  url: URL
  headers: Headers
}

describe.skipIf(executablePath === null)('Swagger UI at /docs with EPHEMAIL_AUTH=bearer,header,query', () => {
  let h: Awaited<ReturnType<typeof createApiHarness>>
  let server: Server<undefined>
  let browser: Browser
  let page: Page
  const seen: Seen[] = []
  /** Every request the server answered, browser's own ones (the favicon) included, as "METHOD /path status". */
  const served: string[] = []
  const cspViolations: string[] = []

  beforeAll(async () => {
    h = await createApiHarness({ EPHEMAIL_AUTH: 'bearer,header,query' })
    // A real listener in front of the app, recording what reached it so the test checks the wire, not the UI.
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(request) {
        const url = new URL(request.url)
        if (url.pathname.startsWith('/v1/'))
          seen.push({ method: request.method, url, headers: new Headers(request.headers) })
        const response = await h.app.handle(request)
        served.push(`${request.method} ${url.pathname} ${response.status}`)
        return response
      },
    })
    browser = await chromium.launch({ executablePath: executablePath as string })
    page = await browser.newPage()
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
    })
    await page.goto(`http://127.0.0.1:${server.port}/docs`)
    await page.locator('#operations-Mailboxes-getMailbox').waitFor()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop(true)
    await h?.close()
  })

  /** A fresh mailbox and its token, created the way a client would (anonymously, over HTTP). */
  async function createMailbox(localPart: string) {
    const response = await fetch(`http://127.0.0.1:${server.port}/v1/mailboxes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ localPart }),
    })
    expect(response.status).toBe(201)
    return (await response.json()) as { address: string; token: string }
  }

  /** In the open Authorize dialog, removes every credential Swagger UI holds. */
  async function logOutEverywhere() {
    const logouts = page.locator('.modal-ux button', { hasText: 'Logout' })
    while ((await logouts.count()) > 0) await logouts.first().click()
  }

  /** Opens Authorize, logs every scheme out, enters `token` for `scheme` only, and closes the dialog. */
  async function authorize(scheme: string, token: string) {
    await page.locator('.auth-wrapper > button.btn.authorize').click()
    const dialog = page.locator('.modal-ux')
    await dialog.waitFor()
    await logOutEverywhere()
    const section = dialog
      .locator('.auth-container')
      .filter({ has: page.locator(`h4 code:text-is("${scheme}")`) })
    await section.locator('input').fill(token)
    await section.getByRole('button', { name: 'Apply credentials' }).click()
    // Applied: Swagger UI swaps the input for the value's mask and a Logout button.
    await section.locator('button', { hasText: 'Logout' }).waitFor()
    await dialog.locator('.close-modal').click()
    await dialog.waitFor({ state: 'detached' })
  }

  /** Try it out → Execute on GET /v1/mailboxes/{address}: the status Swagger UI shows and what the server got. */
  async function execute(address: string) {
    const operation = page.locator('#operations-Mailboxes-getMailbox')
    if (!(await operation.locator('.try-out__btn').count()))
      await operation.locator('.opblock-summary').click()
    const tryOut = operation.locator('.try-out__btn')
    if ((await tryOut.textContent())?.trim() === 'Try it out') await tryOut.click()
    const clear = operation.locator('.btn-clear')
    if (await clear.count()) await clear.click()
    await operation.locator('input[placeholder="address"]').fill(address)
    const before = seen.length
    await operation.locator('.execute').click()
    const status = operation.locator('.live-responses-table .response .response-col_status')
    await status.waitFor()
    expect(seen.length).toBe(before + 1)
    const shownBody = await operation
      .locator('.live-responses-table .response-col_description pre')
      .first()
      .textContent()
    return { status: (await status.textContent())?.trim(), shownBody, request: seen[seen.length - 1] as Seen }
  }

  test('the dialog offers the three schemes, each with its carrier', async () => {
    await page.locator('.auth-wrapper > button.btn.authorize').click()
    const dialog = page.locator('.modal-ux')
    const titles = await dialog.locator('.auth-container h4').allTextContents()
    expect(titles.map((title) => title.replace(/\s+/g, ' ').trim())).toEqual([
      'bearer (http, Bearer)',
      'apiKeyHeader (apiKey)',
      'apiKeyQuery (apiKey)',
    ])
    const carriers = await dialog.locator('.auth-container .wrapper > p > code').allTextContents()
    expect(carriers).toEqual(['x-api-key', 'header', 'key', 'query'])
    await dialog.locator('.close-modal').click()
    await dialog.waitFor({ state: 'detached' })
  })

  for (const [scheme, carried] of [
    ['bearer', (request: Seen) => request.headers.get('authorization')?.replace(/^Bearer /, '')],
    ['apiKeyHeader', (request: Seen) => request.headers.get('x-api-key')],
    ['apiKeyQuery', (request: Seen) => request.url.searchParams.get('key')],
  ] as const) {
    test(`Authorize with ${scheme}, then Execute: 200, and the request carried the token that way only`, async () => {
      const { address, token } = await createMailbox(`swagger-${scheme.toLowerCase()}`)
      await authorize(scheme, token)
      const result = await execute(address)
      expect(result.status).toBe('200')
      expect(result.shownBody).toContain(address)
      expect(carried(result.request)).toBe(token)
      const carriers = [
        result.request.headers.has('authorization'),
        result.request.headers.has('x-api-key'),
        result.request.url.searchParams.has('key'),
      ]
      expect(carriers.filter(Boolean)).toHaveLength(1)
    }, 60_000)
  }

  test('without a credential Swagger UI shows the 401 naming every style; no CSP violation on the way', async () => {
    await page.locator('.auth-wrapper > button.btn.authorize').click()
    const dialog = page.locator('.modal-ux')
    await logOutEverywhere()
    await dialog.locator('.close-modal').click()
    const { address } = await createMailbox('swagger-none')
    const result = await execute(address)
    expect(result.status).toBe('401')
    expect(result.shownBody).toContain('x-api-key: <token>')
    expect(cspViolations).toEqual([])
  }, 60_000)

  test('a session in a fresh browser: Authorize with an API key, Try it out on create and then read of that mailbox; no console error, nothing from another origin', async () => {
    const origin = `http://127.0.0.1:${server.port}`
    const issued = await fetch(`${origin}/v1/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'swagger session', scopes: ['read', 'write'] }),
    })
    expect(issued.status).toBe(201)
    const { key } = (await issued.json()) as { key: string }

    // A browser of its own (the favicon is asked for once per browser, so the shared one would hide it),
    // with everything the tab does recorded from before its first request.
    const ownBrowser = await chromium.launch({ executablePath: executablePath as string })
    const context = await ownBrowser.newContext()
    const requested: string[] = []
    const failed: string[] = []
    const consoleErrors: string[] = []
    const pageErrors: string[] = []
    context.on('request', (request) => requested.push(`${request.method()} ${request.url()}`))
    context.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`))
    const tab = await context.newPage()
    tab.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        consoleErrors.push(`${message.type()}: ${message.text()} (${message.location().url})`)
    })
    tab.on('pageerror', (error) => pageErrors.push(error.message))
    const localPart = `swagger-session-${crypto.randomUUID().slice(0, 8)}`
    const before = seen.length
    const servedBefore = served.length
    try {
      await tab.goto(`${origin}/docs`)
      await tab.locator('#operations-Mailboxes-createMailbox').waitFor()

      await tab.locator('.auth-wrapper > button.btn.authorize').click()
      const dialog = tab.locator('.modal-ux')
      const bearer = dialog
        .locator('.auth-container')
        .filter({ has: tab.locator('h4 code:text-is("bearer")') })
      await bearer.locator('input').fill(key)
      await bearer.getByRole('button', { name: 'Apply credentials' }).click()
      await bearer.locator('button', { hasText: 'Logout' }).waitFor()
      await dialog.locator('.close-modal').click()
      await dialog.waitFor({ state: 'detached' })

      /** Opens an operation, turns on Try it out, lets `fill` enter its inputs, executes it; what the UI shows. */
      async function tryItOut(id: string, fill: (operation: ReturnType<Page['locator']>) => Promise<void>) {
        const operation = tab.locator(`#${id}`)
        await operation.locator('.opblock-summary').click()
        await operation.locator('.try-out__btn', { hasText: 'Try it out' }).click()
        await fill(operation)
        await operation.locator('.execute').click()
        const status = operation.locator('.live-responses-table .response .response-col_status')
        await status.waitFor()
        const body = await operation
          .locator('.live-responses-table .response-col_description pre')
          .first()
          .textContent()
        return { status: (await status.textContent())?.trim(), body: JSON.parse(body ?? 'null') }
      }

      const created = await tryItOut('operations-Mailboxes-createMailbox', async (operation) => {
        await operation
          .locator('textarea.body-param__text')
          .fill(JSON.stringify({ localPart, domain: 'ephemail.test', ttlSeconds: 600 }))
      })
      expect(created.status).toBe('201')
      expect(created.body).toMatchObject({
        address: `${localPart}@ephemail.test`,
        localPart,
        domain: 'ephemail.test',
      })
      expect(created.body.token).toStartWith('mbt_')

      // The address comes from the response the UI shows, typed into the read operation's path parameter.
      const read = await tryItOut('operations-Mailboxes-getMailbox', async (operation) => {
        await operation.locator('input[placeholder="address"]').fill(created.body.address)
      })
      expect(read.status).toBe('200')
      expect(read.body).toMatchObject({ id: created.body.id, address: created.body.address })
      expect(read.body.token).toBeUndefined()
    } finally {
      await ownBrowser.close()
    }

    // On the wire: both calls carried the API key, so the key owns the mailbox it then read.
    const calls = seen.slice(before)
    expect(calls.map((call) => `${call.method} ${decodeURIComponent(call.url.pathname)}`)).toEqual([
      'POST /v1/mailboxes',
      `GET /v1/mailboxes/${localPart}@ephemail.test`,
    ])
    for (const call of calls) expect(call.headers.get('authorization')).toBe(`Bearer ${key}`)

    expect(requested.length).toBeGreaterThanOrEqual(7)
    expect(requested.filter((request) => new URL(request.split(' ')[1] as string).origin !== origin)).toEqual(
      [],
    )
    expect(requested).toContain(`GET ${origin}/openapi.json`)
    expect(requested).toContain(`POST ${origin}/v1/mailboxes`)
    expect(failed).toEqual([])
    // The server's side of the same session: every answer a success, the icon the page names included.
    expect(served.slice(servedBefore).filter((line) => !/ [23]\d\d$/.test(line))).toEqual([])
    expect(consoleErrors).toEqual([])
    expect(pageErrors).toEqual([])
  }, 60_000)
})
