// The web inbox at / in a real browser (Debian's Chromium, driven by playwright-core) against a real
// Ephemail with SMTP: mail arrives live, codes copy, hostile HTML stays inert, tabs share one stream.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readFileSync } from 'node:fs'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Server } from 'bun'
import nodemailer from 'nodemailer'
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'

/** Chromium from PATH, or null (saying so) when absent; CI sets EPHEMAIL_REQUIRE_SERVICES=1 so absence fails. */
function chromiumAvailable(): string | null {
  const found = Bun.which('chromium')
  if (found) return found
  if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
    throw new Error('chromium is required but not on PATH (apt-get install chromium)')
  console.warn('chromium is not on PATH: the web inbox browser tests are skipped')
  return null
}

const executablePath = chromiumAvailable()
/**
 * The committed screenshots (docs/screenshots) are refreshed with EPHEMAIL_UPDATE_SCREENSHOTS=1; otherwise
 * they are still taken (each state is rendered), into a scratch folder, so a test run leaves the tree clean.
 */
const SCREENSHOTS =
  process.env.EPHEMAIL_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dir, '..', 'docs', 'screenshots')
    : join(tmpdir(), 'ephemail-screenshots')
const AXE = join(import.meta.dir, '..', 'node_modules', 'axe-core', 'axe.min.js')
const TIMEOUT = 30_000

describe.skipIf(executablePath === null)('web inbox at /', () => {
  let ephemail: TestEphemail
  let base: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  /** Console errors and every URL the browser asked for, from the first visit on. */
  const consoleErrors: string[] = []
  const requested: string[] = []
  /** A local listener standing in for a remote site: a hostile mail's images, scripts and beacons. */
  let listener: Server<undefined>
  const listenerHits: string[] = []
  /** Event-stream requests the browser made, with whether each is still open. */
  const streams = new Map<Request, { url: string; open: boolean; page: Page | null }>()
  const openStreams = () => [...streams.values()].filter((stream) => stream.open).length
  const navigations: string[] = []

  async function sendMail(message: Parameters<ReturnType<typeof nodemailer.createTransport>['sendMail']>[0]) {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ephemail.smtpPort,
      secure: false,
      ignoreTLS: true,
    })
    try {
      await transport.sendMail({ from: 'Acme Accounts <no-reply@acme.example>', ...message })
    } finally {
      transport.close()
    }
  }

  // The page shows its address once the mailbox is created: read it then, not the empty field before it.
  async function address(on: Page = page): Promise<string | null> {
    const field = on.getByTestId('address').filter({ hasText: '@' })
    await field.waitFor({ timeout: 10_000 })
    return field.textContent()
  }

  async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await Bun.sleep(50)
    }
  }

  /** axe-core in the page (evaluated over the DevTools protocol, so the page's CSP needs no exception). */
  async function seriousViolations(on: Page) {
    if (!(await on.evaluate(() => 'axe' in window))) await on.evaluate(readFileSync(AXE, 'utf8'))
    const violations = await on.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe
      return (await axe.run()).violations as { id: string; impact: string; nodes: { target: unknown }[] }[]
    })
    return violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({ id: violation.id, targets: violation.nodes.map((node) => node.target) }))
  }

  const shoot = (on: Page, name: string) => on.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true })
    ephemail = await startTestEphemail({ EPHEMAIL_MAX_MESSAGE_BYTES: '200000' })
    base = `http://127.0.0.1:${ephemail.httpPort}`
    listener = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(request) {
        listenerHits.push(new URL(request.url).pathname)
        return new Response(
          Uint8Array.from(atob('R0lGODlhAQABAAAAACw='), (c) => c.charCodeAt(0)),
          { headers: { 'content-type': 'image/gif' } },
        )
      },
    })
    browser = await chromium.launch({ executablePath: executablePath as string })
    context = await browser.newContext({ viewport: { width: 1100, height: 760 }, colorScheme: 'light' })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
    context.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    context.on('request', (request) => {
      requested.push(request.url())
      if (/\/v1\/mailboxes\/[^/]+\/events\?/.test(request.url()))
        streams.set(request, { url: request.url(), open: true, page: request.frame().page() })
    })
    const ended = (request: Request) => {
      const stream = streams.get(request)
      if (stream) stream.open = false
    }
    context.on('requestfinished', ended)
    // A closed tab's stream ends with it (Chromium reports no failure for requests of a closed page).
    context.on('page', (opened) =>
      opened.on('close', () => {
        for (const stream of streams.values()) if (stream.page === opened) stream.open = false
      }),
    )
    context.on('requestfailed', ended)
    page = await context.newPage()
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url())
    })
    await page.goto(base)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await listener?.stop(true)
    await ephemail?.stop()
  })

  test('the first visit logs no console error and asks nothing of another origin (no /favicon.ico either)', async () => {
    await page.waitForLoadState('networkidle')
    expect(consoleErrors).toEqual([])
    expect(requested.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:'))).toEqual([])
    expect(requested.filter((url) => url.endsWith('/favicon.ico'))).toEqual([])
  })

  test('serves the page with a strict CSP and no cookies, and one script under 60 KB gzipped', async () => {
    const response = await fetch(`${base}/`)
    expect(response.status).toBe(200)
    const csp = response.headers.get('content-security-policy') as string
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(response.headers.get('set-cookie')).toBeNull()
    const html = await response.text()
    expect(html).not.toMatch(/<script>|<style|style=/)
    const scripts = [...html.matchAll(/src="(\/web\/[^"]+\.js)"/g)].map((match) => match[1])
    expect(scripts.length).toBe(1)
    const script = await (await fetch(`${base}${scripts[0]}`)).arrayBuffer()
    const gzipped = Bun.gzipSync(new Uint8Array(script)).length
    console.log(`web inbox script: ${script.byteLength} bytes, ${gzipped} gzipped`)
    expect(gzipped).toBeLessThan(60 * 1024)
    expect(await context.cookies()).toEqual([])
  })

  test(
    'opens with a working address at once and an empty inbox',
    async () => {
      await page.getByText('Waiting for mail').waitFor()
      await waitFor(
        async () => /^[a-z0-9._-]+@(?:ephemail|other)\.test$/.test((await address()) ?? ''),
        'an address',
      )
      await page.getByText('live', { exact: true }).waitFor()
      expect(await page.getByTestId('message').count()).toBe(0)
      expect(await page.locator('#countdown').textContent()).toMatch(/^Expires in \d+:\d\d$/)
      expect(await page.locator('#domain option').allTextContents()).toEqual(['ephemail.test', 'other.test'])
      await shoot(page, 'empty-inbox')
      expect(await seriousViolations(page)).toEqual([])
    },
    TIMEOUT,
  )

  test(
    'a mail sent over SMTP appears without a reload, with its code as a chip that copies it',
    async () => {
      const to = (await address()) as string
      const before = navigations.length
      await sendMail({
        to,
        subject: 'Your Acme verification code',
        text: 'Your verification code is 482913.\n\nOr confirm here: https://acme.example/verify?token=tok-7f3a\n',
        html: '<div style="font-size:18px;color:#0a7">Your verification code is <b>482913</b>.</div><p><a href="https://acme.example/verify?token=tok-7f3a">Verify your email</a></p>',
        attachments: [{ filename: 'receipt.txt', content: 'attachment bytes 42\n' }],
      })
      const chip = page.getByTestId('message').first().getByTestId('otp')
      await chip.waitFor({ timeout: 10_000 })
      expect(await chip.getAttribute('data-value')).toBe('482913')
      expect(await page.getByTestId('message').first().textContent()).toContain('Your Acme verification code')
      expect(navigations.length).toBe(before)
      await chip.click()
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('482913')
      await page.getByRole('status').getByText('Code 482913 copied').waitFor()
      await shoot(page, 'message-with-code')
    },
    TIMEOUT,
  )

  test(
    'opening it shows the HTML in a sandboxed frame, the link as a button and the attachment as a download',
    async () => {
      await page.getByTestId('message').first().locator('.open').click()
      const frameElement = page.locator('#reader-frame')
      await frameElement.waitFor()
      expect((await frameElement.getAttribute('sandbox'))?.split(' ').sort()).toEqual([
        'allow-popups',
        'allow-popups-to-escape-sandbox',
      ])
      const frame = page.frameLocator('#reader-frame')
      await frame.getByText('Verify your email').waitFor()
      // The message's inline style survives as the frame's data: style sheet.
      expect(
        await frame
          .locator('div')
          .first()
          .evaluate((div) => getComputedStyle(div).fontSize),
      ).toBe('18px')
      const verify = page.getByRole('link', { name: 'Open verification link' })
      expect(await verify.getAttribute('href')).toBe('https://acme.example/verify?token=tok-7f3a')
      expect(await verify.getAttribute('rel')).toBe('noopener noreferrer')
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: /Download receipt\.txt/ }).click(),
      ])
      expect(download.suggestedFilename()).toBe('receipt.txt')
      expect(readFileSync(await download.path(), 'utf8')).toBe('attachment bytes 42\n')
      await shoot(page, 'message-open')
      expect(await seriousViolations(page)).toEqual([])
    },
    TIMEOUT,
  )

  test(
    'a hostile HTML mail runs no script and loads no remote image until the user allows images',
    async () => {
      const remote = `http://127.0.0.1:${listener.port}`
      await sendMail({
        to: (await address()) as string,
        subject: 'Hostile',
        html: [
          `<style>body{background:url(${remote}/style-background.gif)}</style>`,
          `<p>Look at this</p><img src="${remote}/pixel.gif" alt="pixel">`,
          `<img src="x" onerror="window.parent.pwned=1;fetch('${remote}/onerror')">`,
          `<script>window.parent.pwned=2;fetch('${remote}/script')</script>`,
          `<svg onload="fetch('${remote}/svg')"></svg>`,
          `<a href="javascript:fetch('${remote}/js-link')">click</a>`,
          `<iframe src="${remote}/iframe"></iframe><form action="${remote}/form"><button>go</button></form>`,
        ].join('\n'),
      })
      const row = page.getByTestId('message').filter({ hasText: 'Hostile' })
      await row.waitFor({ timeout: 10_000 })
      await row.locator('.open').click()
      await page.frameLocator('#reader-frame').getByText('Look at this').waitFor()
      await Bun.sleep(1500)
      expect(listenerHits).toEqual([])
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined()
      await page.getByRole('button', { name: 'Show remote images' }).click()
      await waitFor(() => listenerHits.includes('/pixel.gif'), 'the allowed image to load')
      await Bun.sleep(500)
      // Images only: still no script, handler, frame or form reached the listener.
      expect(listenerHits.filter((hit) => !/\.gif$/.test(hit))).toEqual([])
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined()
    },
    TIMEOUT,
  )

  test(
    'a reload keeps the inbox and its mail',
    async () => {
      const before = await address()
      await page.reload()
      await page.getByTestId('message').first().waitFor()
      expect(await address()).toBe(before)
      expect(await page.getByTestId('message').count()).toBe(2)
      expect(await page.getByTestId('otp').first().getAttribute('data-value')).toBe('482913')
    },
    TIMEOUT,
  )

  test(
    'dark mode and a phone-width screen',
    async () => {
      await page.emulateMedia({ colorScheme: 'dark' })
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
        'rgb(17, 19, 24)',
      )
      await shoot(page, 'dark-mode')
      expect(await seriousViolations(page)).toEqual([])
      await page.emulateMedia({ colorScheme: 'light' })
      const phone = await context.newPage()
      await phone.setViewportSize({ width: 390, height: 760 })
      await phone.goto(base)
      await phone.getByTestId('otp').first().waitFor()
      expect(await address(phone)).toBe(await address())
      // Nothing wider than the screen.
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await shoot(phone, 'phone')
      expect(await seriousViolations(phone)).toEqual([])
      await phone.close()
    },
    TIMEOUT,
  )

  test(
    'keyboard: Tab reaches the code chip and Enter copies it',
    async () => {
      await page.locator('#refresh').focus()
      await page.evaluate(() => navigator.clipboard.writeText(''))
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab')
        if (await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'otp')) break
      }
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('otp')
      await page.keyboard.press('Enter')
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('482913')
    },
    TIMEOUT,
  )

  /**
   * A TCP relay in front of the server that can cut every connection and refuse new ones for a while: a
   * network drop as the browser sees it (Chromium's offline emulation leaves open streams alone).
   */
  async function startDroppableRelay(upstreamPort: number) {
    const sockets = new Set<Socket>()
    let refusing = false
    const relay = createServer((client) => {
      if (refusing) return void client.destroy()
      const upstream = connect(upstreamPort, '127.0.0.1')
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).on('close', () => client.destroy())
      upstream.pipe(client).on('close', () => upstream.destroy())
    })
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
    return {
      port: (relay.address() as AddressInfo).port,
      drop() {
        refusing = true
        for (const socket of sockets) socket.destroy()
      },
      restore() {
        refusing = false
      },
      close: () => new Promise<void>((resolve) => relay.close(() => resolve())),
    }
  }

  test(
    'a network drop: the stream reconnects with Last-Event-ID and mail sent meanwhile appears without a reload',
    async () => {
      const relay = await startDroppableRelay(ephemail.httpPort)
      const dropContext = await browser.newContext()
      try {
        const tab = await dropContext.newPage()
        const streamRequests: Request[] = []
        tab.on('request', (request) => {
          if (/\/events\?/.test(request.url())) streamRequests.push(request)
        })
        const navigated: string[] = []
        tab.on('framenavigated', (frame) => navigated.push(frame.url()))
        await tab.goto(`http://127.0.0.1:${relay.port}/`)
        const to = (await address(tab)) as string
        await tab.getByText('live', { exact: true }).waitFor({ timeout: 10_000 })
        await sendMail({ to, subject: 'Before the drop', text: 'Code 121212' })
        await tab.getByTestId('message').filter({ hasText: 'Before the drop' }).waitFor({ timeout: 10_000 })
        const streamsBefore = streamRequests.length
        const pagesBefore = navigated.length

        relay.drop()
        await sendMail({ to, subject: 'While offline', text: 'Code 556677' })
        await Bun.sleep(500)
        relay.restore()

        await tab.getByTestId('message').filter({ hasText: 'While offline' }).waitFor({ timeout: 20_000 })
        expect(await tab.getByTestId('message').count()).toBe(2)
        expect(navigated.length).toBe(pagesBefore)
        // The reconnect resumed after the last event seen (EventSource's own Last-Event-ID header).
        const reconnects = streamRequests.slice(streamsBefore)
        expect(reconnects.length).toBeGreaterThan(0)
        const resumedFrom = await Promise.all(
          reconnects.map(async (request) => Number((await request.allHeaders())['last-event-id'] ?? 0)),
        )
        expect(Math.max(...resumedFrom)).toBeGreaterThan(0)
      } finally {
        await dropContext.close()
        await relay.close()
      }
    },
    TIMEOUT,
  )

  test(
    'two tabs share one event stream; when the leader closes the other takes over and misses nothing',
    async () => {
      await waitFor(() => openStreams() === 1, 'one open stream')
      const second = await context.newPage()
      await second.goto(base)
      expect(await address(second)).toBe(await address())
      await second.getByText('live (another tab)').waitFor()
      await second.getByTestId('message').nth(1).waitFor()
      expect(openStreams()).toBe(1)

      // Relayed: a mail shows in both tabs over the one stream.
      await sendMail({ to: (await address()) as string, subject: 'Relayed', text: 'Code 111222' })
      await second.getByTestId('message').filter({ hasText: 'Relayed' }).waitFor({ timeout: 10_000 })
      await page.getByTestId('message').filter({ hasText: 'Relayed' }).waitFor()
      expect(openStreams()).toBe(1)

      // The leader goes; a mail sent at once is not lost: the new leader resumes after the last event it saw.
      const requestsBefore = streams.size
      await page.close()
      await sendMail({
        to: (await address(second)) as string,
        subject: 'During takeover',
        text: 'Code 333444',
      })
      await second.getByText('live', { exact: true }).waitFor({ timeout: 10_000 })
      await second.getByTestId('message').filter({ hasText: 'During takeover' }).waitFor({ timeout: 10_000 })
      await waitFor(() => openStreams() === 1, 'one open stream after the takeover')
      const resumed = [...streams.values()].slice(requestsBefore).find((stream) => stream.open)
      expect(resumed?.url).toMatch(/[?&]lastEventId=\d+/)
      expect(await second.getByTestId('message').count()).toBe(4)
      const chip = second.getByTestId('message').filter({ hasText: 'During takeover' }).getByTestId('otp')
      await chip.waitFor({ timeout: 10_000 })
      expect(await chip.getAttribute('data-value')).toBe('333444')
    },
    TIMEOUT,
  )
})
