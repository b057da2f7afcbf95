// Hostile input that once stopped the service: folded-header floods, NUL bytes in bodies, subjects and paths.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { MAX_AUTH_HEADER_LINES } from '../src/server/sender-auth.ts'
import { createApiHarness } from './support/api-harness.ts'

const encoder = new TextEncoder()
const crlf = (lines: string[]) => encoder.encode(lines.join('\r\n'))

describe('hostile input is processed, never left pending', () => {
  let h: Awaited<ReturnType<typeof createApiHarness>>
  let box: { address: string; token: string }
  beforeAll(async () => {
    h = await createApiHarness()
    box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
  })
  afterAll(() => h.close())

  const read = async (id: string | undefined) =>
    (await h.call('GET', `/v1/messages/${id}`, { token: box.token })).json

  test('100,000 folded header lines: sender authentication is skipped with the reason, the code still found', async () => {
    // The reproduction from the report: 400 KB that held every role of the process for about 30 s.
    const raw = crlf([
      'From: a@sender.example',
      'Subject: Your code',
      `X-Fold: x${'\r\n a'.repeat(100_000)}`,
      '',
      'Your verification code is 482913',
      '',
    ])
    const { stored } = await h.deliver(raw, [box.address])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.processing.state).toBe('processed')
    expect(message.otp).toBe('482913')
    expect(message.authentication).toMatchObject({
      spf: 'skipped',
      dkim: 'skipped',
      dmarc: 'skipped',
      arc: 'skipped',
      skipped: `the header section has more than ${MAX_AUTH_HEADER_LINES} lines`,
    })
  })

  test('a header section just under the limit is still authenticated', async () => {
    const folds = MAX_AUTH_HEADER_LINES - 10
    const raw = crlf(['From: a@sender.example', `X-Fold: x${'\r\n a'.repeat(folds)}`, '', 'Code: 771204', ''])
    const { stored } = await h.deliver(raw, [box.address])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.authentication.skipped).toBeUndefined()
    expect(message.authentication.spf).not.toBe('skipped')
  })

  test('a NUL in an HTML body: that message and the one sharing its job are both processed', async () => {
    const withNul = crlf(['Subject: n', 'Content-Type: text/html', '', '<p>a\0b</p>', ''])
    const neighbour = crlf(['Subject: neighbour', '', 'Your code is 615243', ''])
    // Delivered together: the group commit stores them in one batch, so they share one job.
    const [nul, other] = await Promise.all([
      h.deliver(withNul, [box.address]),
      h.deliver(neighbour, [box.address]),
    ])
    await h.processed()
    const nulMessage = await read(nul.stored[0]?.messageId)
    expect(nulMessage.processing.state).toBe('processed')
    expect(nulMessage.safeHtml).toContain('a\uFFFDb')
    expect(nulMessage.safeHtml).not.toContain('\0')
    expect((await read(other.stored[0]?.messageId)).otp).toBe('615243')
    expect(await h.storage.findUnprocessed(new Date(Date.now() + 3_600_000), 10)).toEqual([])
  })

  test('a NUL in an RFC 2047 subject and in the sender name is stored (a 250, not a 451 forever)', async () => {
    const raw = crlf([
      'From: =?utf-8?B?TWEAbA==?= <m@sender.example>',
      'Subject: =?utf-8?B?YQBi?=',
      '',
      'body',
      '',
    ])
    const { stored } = await h.deliver(raw, [box.address])
    expect(stored).toHaveLength(1)
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.subject).toBe('a\uFFFDb')
    expect(message.from.name).toBe('Ma\uFFFDl')
    const list = (await h.call('GET', `/v1/mailboxes/${box.address}/messages`, { token: box.token })).json
    expect(list.items.some((item: { subject: string }) => item.subject === 'a\uFFFDb')).toBe(true)
  })

  test('a NUL in an address path parameter is a 404 problem, not a 500', async () => {
    for (const path of ['/v1/mailboxes/a%00b@ephemail.test', '/v1/mailboxes/a%00b@ephemail.test/messages']) {
      const response = await h.call('GET', path)
      expect(response.status).toBe(404)
      expect(response.headers.get('content-type')).toStartWith('application/problem+json')
    }
  })
})
