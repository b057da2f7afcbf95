// ephemail/client in a browser: headless Chromium imports the committed build (dist/client/index.js)
// from a page on another origin, creates a mailbox over CORS and waits on the event stream for a code.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomInt } from 'node:crypto'
import { join } from 'node:path'
import type { Server } from 'bun'
import nodemailer from 'nodemailer'
import { type Browser, chromium } from 'playwright-core'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'

const CHROMIUM = Bun.which('chromium')
if (!CHROMIUM) {
  if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
    throw new Error('chromium is required (EPHEMAIL_REQUIRE_SERVICES=1)')
  console.warn('chromium is not on PATH: the client-in-a-browser test is skipped')
}
const BUILD = join(import.meta.dir, '..', 'dist', 'client', 'index.js')

describe.skipIf(!CHROMIUM)('ephemail/client in Chromium', () => {
  let eph: TestEphemail
  let site: Server<undefined>
  let browser: Browser

  beforeAll(async () => {
    // The page's own origin (a test site) differs from the API's: the client works across origins when
    // the operator allows it with EPHEMAIL_CORS_ORIGINS.
    site = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) =>
        new URL(request.url).pathname === '/client.js'
          ? new Response(Bun.file(BUILD), { headers: { 'content-type': 'text/javascript' } })
          : new Response('<!doctype html><title>sign-up test</title>', {
              headers: { 'content-type': 'text/html' },
            }),
    })
    eph = await startTestEphemail({ EPHEMAIL_CORS_ORIGINS: `http://127.0.0.1:${site.port}` })
    browser = await chromium.launch({ executablePath: CHROMIUM as string })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    site?.stop(true)
    await eph?.stop()
  })

  test('creates a mailbox, waits for the code on the event stream, and names the mailbox on a timeout', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`http://127.0.0.1:${site.port}/`)
    const baseUrl = `http://127.0.0.1:${eph.httpPort}`

    const address = await page.evaluate(
      async ({ api, build }) => {
        const { createClient } = await import(build)
        const client = createClient({ baseUrl: api })
        ;(globalThis as Record<string, unknown>).ephemail = client
        const created = await client.createMailbox({ ttlSeconds: 600 })
        return created.address as string
      },
      { api: baseUrl, build: '/client.js' },
    )
    expect(address).toMatch(/^[^@\s]+@[^@\s]+\.test$/)

    // The wait starts in the page before the mail exists; the mail is sent from here over SMTP.
    const code = String(randomInt(100_000, 1_000_000))
    const waited = page.evaluate(
      (to) =>
        (
          (globalThis as Record<string, unknown>).ephemail as {
            waitForOtp(a: string, o: object): Promise<string>
          }
        ).waitForOtp(to, { timeout: 20_000 }),
      address,
    )
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: eph.smtpPort, ignoreTLS: true })
    try {
      await transport.sendMail({
        from: 'Acme <no-reply@acme.example>',
        to: address,
        subject: 'Your Acme verification code',
        text: `Your verification code is ${code}. It expires in 10 minutes.`,
      })
    } finally {
      transport.close()
    }
    expect(await waited).toBe(code)

    const timeout = await page.evaluate(async (to) => {
      const client = (globalThis as Record<string, unknown>).ephemail as {
        waitForLink(a: string, o: object): Promise<string>
      }
      try {
        await client.waitForLink(to, { timeout: 800, since: new Date() })
        return null
      } catch (error) {
        return { name: (error as Error).name, message: (error as Error).message }
      }
    }, address)
    expect(timeout?.name).toBe('EphemailTimeout')
    expect(timeout?.message).toContain(address)
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)
})
