// Swagger UI in a real browser (Debian's Chromium, driven by playwright-core): Authorize works with each credential style, under the page's CSP.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { type Browser, chromium, type Page } from 'playwright-core'
import { createApiHarness } from './support/api-harness.ts'

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

/** A request the browser made to the mailbox route, as the server received it. */
interface Seen {
  url: URL
  headers: Headers
}

describe.skipIf(executablePath === null)('Swagger UI at /docs with EPHEMAIL_AUTH=bearer,header,query', () => {
  let h: Awaited<ReturnType<typeof createApiHarness>>
  let server: Server<undefined>
  let browser: Browser
  let page: Page
  const seen: Seen[] = []
  const cspViolations: string[] = []

  beforeAll(async () => {
    h = await createApiHarness({ EPHEMAIL_AUTH: 'bearer,header,query' })
    // A real listener in front of the app, recording what reached it so the test checks the wire, not the UI.
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(request) {
        const url = new URL(request.url)
        if (url.pathname.startsWith('/v1/mailboxes/'))
          seen.push({ url, headers: new Headers(request.headers) })
        return h.app.handle(request)
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
})
