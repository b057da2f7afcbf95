// Hostile input that once stopped the service: folded-header floods, NUL bytes in bodies, subjects and paths.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseMail } from '#lib/mail.ts'
import {
  createMailOffload,
  hasManyParts,
  OFFLOAD_MIN_BYTES,
  OFFLOAD_MIN_PARTS,
  OffloadTimeoutError,
} from '#server/pipeline/mail-offload.ts'
import {
  MAX_AUTH_FROM_HEADER_BYTES,
  MAX_AUTH_HEADER_LINES,
  MAX_AUTH_SIGNATURES,
} from '#server/pipeline/sender-auth.ts'
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
    expect(message.processingNotes).toEqual([
      `sender authentication skipped: the header section has more than ${MAX_AUTH_HEADER_LINES} lines`,
    ])
    expect(message.authentication).toMatchObject({
      spf: 'skipped',
      dkim: 'skipped',
      dmarc: 'skipped',
      arc: 'skipped',
      skipped: `the header section has more than ${MAX_AUTH_HEADER_LINES} lines`,
    })
  })

  test('a From header of 16,000 addresses (quadratic in mailauth) is skipped with the reason, not parsed', async () => {
    // 400 folded lines of 40 addresses each: every line within SMTP's 998 octets, the stall 4.1 s before.
    const addresses = Array.from({ length: 400 }, (_, line) =>
      Array.from({ length: 40 }, (_, i) => `u${line}x${i}@s.example`).join(', '),
    ).join(',\r\n ')
    const raw = crlf([`From: ${addresses}`, 'Subject: many senders', '', 'Your code is 620584', ''])
    const started = performance.now()
    const { stored } = await h.deliver(raw, [box.address])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.processing.state).toBe('processed')
    expect(message.authentication.spf).toBe('skipped')
    expect(message.authentication.skipped).toMatch(
      new RegExp(`^the From header has \\d+ bytes \\(more than ${MAX_AUTH_FROM_HEADER_BYTES}\\)$`),
    )
    // Not a timing assertion: printed so a regression shows in the log.
    console.log(`From with 16,000 addresses processed in ${Math.round(performance.now() - started)} ms`)
  })

  test('a From header folded with LF CR (read by mailauth as line breaks) is measured whole', async () => {
    // 1,600 lines of 4 addresses, each fold written `,\n\r `: 60 ms in mailauth when it was let through.
    const addresses = Array.from({ length: 1_600 }, (_, line) =>
      Array.from({ length: 4 }, (_, i) => `u${line}x${i}@s.example`).join(', '),
    ).join(',\n\r ')
    const raw = crlf([`From: ${addresses}`, 'Subject: odd folds', '', 'Your code is 318406', ''])
    const { stored } = await h.deliver(raw, [box.address])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.otp).toBe('318406')
    expect(message.authentication.skipped).toMatch(
      new RegExp(`^the From header has \\d+ bytes \\(more than ${MAX_AUTH_FROM_HEADER_BYTES}\\)$`),
    )
  })

  test('a From header just under its limit is still authenticated', async () => {
    const from = `From: "${'n'.repeat(MAX_AUTH_FROM_HEADER_BYTES - 40)}" <a@sender.example>`
    expect(from.length).toBeLessThanOrEqual(MAX_AUTH_FROM_HEADER_BYTES)
    const { stored } = await h.deliver(crlf([from, 'Subject: long name', '', 'Code: 551177', '']), [
      box.address,
    ])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.authentication.skipped).toBeUndefined()
    expect(message.authentication.spf).not.toBe('skipped')
  })

  test('1,000 DKIM signatures (each one verified by mailauth) are skipped with the reason', async () => {
    // A signature per line, as a forwarder chain never would: 60-90 ms of the event loop before.
    const signature = (i: number) =>
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=s${i}.example; s=k; h=from:subject; bh=${btoa(`b${i}`)}; b=${btoa(`s${i}`)}`
    const raw = crlf([
      ...Array.from({ length: 1_000 }, (_, i) => signature(i)),
      'From: a@sender.example',
      'Subject: signed many times',
      '',
      'Your code is 440917',
      '',
    ])
    const { stored } = await h.deliver(raw, [box.address])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.processing.state).toBe('processed')
    expect(message.otp).toBe('440917')
    expect(message.authentication.dkim).toBe('skipped')
    expect(message.authentication.skipped).toBe(
      `the header section has more than ${MAX_AUTH_SIGNATURES} DKIM or ARC signatures`,
    )
  })

  test(`${MAX_AUTH_SIGNATURES} signatures are still verified`, async () => {
    const raw = crlf([
      ...Array.from(
        { length: MAX_AUTH_SIGNATURES },
        (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; d=s${i}.example; s=k; h=from; bh=YQ==; b=YQ==`,
      ),
      'From: a@sender.example',
      'Subject: signed',
      '',
      'Code: 662810',
      '',
    ])
    const { stored } = await h.deliver(raw, [box.address])
    await h.processed()
    const message = await read(stored[0]?.messageId)
    expect(message.authentication.skipped).toBeUndefined()
    expect(message.authentication.dkim).not.toBe('skipped')
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

/** An HTML message of about `kilobytes` KB with a script to remove and a code to find. */
function bigHtmlMessage(kilobytes: number): Uint8Array {
  const filler = '<tr><td style="padding:4px">Quarterly figures, row after row of them.</td></tr>'
  const rows = filler.repeat(Math.ceil((kilobytes * 1024) / filler.length))
  return crlf([
    'From: reports@sender.example',
    'Subject: Your sign-in code',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Your sign-in code is <b>730561</b></p><script>alert(1)</script><table>${rows}</table>`,
    '',
  ])
}

/** A small message of `parts` tiny text parts: costly to parse for its size. */
function manyPartsMessage(parts: number): Uint8Array {
  const lines = [
    'From: a@sender.example',
    'Subject: parts',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
  ]
  for (let part = 0; part < parts; part++) lines.push('--b', 'Content-Type: text/plain', '', `part ${part}`)
  lines.push('--b--', '')
  return crlf(lines)
}

describe('large messages are parsed and sanitised off the event loop', () => {
  test('a small message of many parts is parsed on the thread too; an ordinary one stays here', async () => {
    const many = manyPartsMessage(OFFLOAD_MIN_PARTS + 1)
    const few = manyPartsMessage(3)
    expect(many.byteLength).toBeLessThan(OFFLOAD_MIN_BYTES)
    expect(hasManyParts(many)).toBe(true)
    expect(hasManyParts(manyPartsMessage(OFFLOAD_MIN_PARTS - 2))).toBe(false)
    // A 1 ms deadline only a trip to the thread can miss: the many-part message meets it, the ordinary one never goes.
    const offload = createMailOffload({ timeoutMs: 1 })
    try {
      expect(await offload.parse(many).catch((error: unknown) => error)).toBeInstanceOf(OffloadTimeoutError)
      expect((await offload.parse(few)).subject).toBe('parts')
    } finally {
      await offload.close()
    }
  })

  test('a message past the offload size goes through the worker thread and comes back whole', async () => {
    const h = await createApiHarness()
    try {
      const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
      const raw = bigHtmlMessage(200)
      expect(raw.byteLength).toBeGreaterThan(OFFLOAD_MIN_BYTES)
      const { stored } = await h.deliver(raw, [box.address])
      await h.processed()
      const message = (await h.call('GET', `/v1/messages/${stored[0]?.messageId}`, { token: box.token })).json
      expect(message.subject).toBe('Your sign-in code')
      expect(message.otp).toBe('730561')
      expect(message.safeHtml).toContain('<b>730561</b>')
      expect(message.safeHtml).not.toContain('<script')
      expect(message.processingNotes).toEqual([])
    } finally {
      await h.close()
    }
  }, 60_000)

  test('sanitising that passes the deadline is given up: safeHtml null, a note, the code still found', async () => {
    const offload = createMailOffload({ timeoutMs: 1 })
    // Parsing on this thread, so only the sanitising stage meets the 1 ms deadline.
    const h = await createApiHarness({}, { mail: { ...offload, parse: parseMail } })
    try {
      const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
      // Any message past the offload size will do: starting the thread alone takes longer than 1 ms.
      const { stored } = await h.deliver(bigHtmlMessage(100), [box.address])
      await h.processed()
      const message = (await h.call('GET', `/v1/messages/${stored[0]?.messageId}`, { token: box.token })).json
      expect(message.processing.state).toBe('processed')
      expect(message.safeHtml).toBeNull()
      expect(message.processingNotes).toEqual(['HTML not sanitised (safeHtml is null): gave up after 1 ms'])
      expect(message.otp).toBe('730561')
    } finally {
      await h.close()
    }
  }, 60_000)

  test('a thread ended at its deadline is replaced: tasks queued behind it still succeed', async () => {
    const offload = createMailOffload({ minBytes: 0, timeoutMs: 1 })
    const small = crlf(['Subject: queued', '', 'hello', ''])
    // The first task starts the thread and loads the parser: far past 1 ms, so it is given up.
    const first = offload.parse(bigHtmlMessage(100))
    const patient = createMailOffload({ minBytes: 0, timeoutMs: 10_000 })
    try {
      await expect(first).rejects.toBeInstanceOf(OffloadTimeoutError)
      const [a, b] = await Promise.all([patient.parse(small), patient.sanitize('<p onclick="x()">ok</p>')])
      expect(a.subject).toBe('queued')
      expect(b).toBe('<p>ok</p>')
      // The ended thread's offload keeps working on a fresh thread once tasks fit the deadline again.
      const relaxed = createMailOffload({ minBytes: 0, timeoutMs: 10_000 })
      expect((await relaxed.parse(small)).subject).toBe('queued')
      await relaxed.close()
    } finally {
      await offload.close()
      await patient.close()
    }
  })
})
