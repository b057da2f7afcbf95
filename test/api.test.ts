// The REST API through app.handle: mailboxes, messages, access rules and problem+json errors, on in-memory PGlite.

import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import { createApiHarness, fixture } from './support/api-harness.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>

function expectProblem(
  response: Awaited<ReturnType<Harness['call']>>,
  status: number,
  slug: string,
  detailPart?: string,
) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  expect(response.json.type).toBe(`https://ephemail.dev/problems/${slug}`)
  expect(response.json.status).toBe(status)
  expect(typeof response.json.title).toBe('string')
  if (detailPart) expect(response.json.detail).toContain(detailPart)
  expect(response.text).not.toContain('    at ') // never a stack trace
}

describe('REST API', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness()
  })
  afterAll(() => h.close())

  test('GET /v1/domains lists the configured domains with their types, without a credential', async () => {
    const response = await h.call('GET', '/v1/domains', { token: null })
    expect(response.status).toBe(200)
    expect(response.json).toEqual({
      domains: [
        { name: 'ephemail.test', type: 'public' },
        { name: 'vip.test', type: 'premium' },
      ],
    })
  })

  describe('creating mailboxes', () => {
    test('anonymous, no body: a readable random address on a public domain, 10 minute default TTL', async () => {
      const response = await h.call('POST', '/v1/mailboxes', { token: null })
      expect(response.status).toBe(201)
      const mailbox = response.json
      expect(mailbox.localPart).toMatch(/^[a-z]+\d{2}$/)
      expect(mailbox.domain).toBe('ephemail.test') // the premium domain is never picked at random
      expect(mailbox.address).toBe(`${mailbox.localPart}@ephemail.test`)
      expect(mailbox.token).toMatch(/^mbt_[A-Za-z0-9_-]{43}$/)
      const ttl = Date.parse(mailbox.expiresAt) - Date.parse(mailbox.createdAt)
      expect(ttl).toBe(600_000)
    })

    test('chosen local part, domain and TTL; case is folded', async () => {
      const response = await h.call('POST', '/v1/mailboxes', {
        body: { localPart: 'Sign.Up-Test', domain: 'VIP.test', ttlSeconds: 3600 },
      })
      expect(response.status).toBe(201)
      expect(response.json.address).toBe('sign.up-test@vip.test')
      expect(Date.parse(response.json.expiresAt) - Date.parse(response.json.createdAt)).toBe(3_600_000)
    })

    test('a taken address is a 409 naming it', async () => {
      await h.call('POST', '/v1/mailboxes', { body: { localPart: 'taken' } })
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { localPart: 'taken', domain: 'ephemail.test' } }),
        409,
        'address-taken',
        'taken@ephemail.test',
      )
    })

    test('invalid local parts, unknown domains and TTLs out of bounds each say exactly what is wrong', async () => {
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { localPart: 'no spaces' } }),
        422,
        'invalid-local-part',
        'may contain only',
      )
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { localPart: 'a..b' } }),
        422,
        'invalid-local-part',
        'two dots',
      )
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { localPart: 'postmaster' } }),
        422,
        'invalid-local-part',
        'reserved',
      )
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { domain: 'gmail.com' } }),
        422,
        'unknown-domain',
        '"gmail.com"',
      )
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { ttlSeconds: 5 } }),
        422,
        'ttl-out-of-range',
        'between 60 and 604800; got 5',
      )
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { ttlSeconds: 10_000_000 } }),
        422,
        'ttl-out-of-range',
      )
    })

    test('schema errors name the field; unknown fields are rejected, not ignored', async () => {
      const wrongType = await h.call('POST', '/v1/mailboxes', { body: { ttlSeconds: 'soon' } })
      expectProblem(wrongType, 400, 'validation-failed', 'body.ttlSeconds')
      expect(wrongType.json.errors[0]).toEqual({ path: 'body.ttlSeconds', message: 'Expected integer' })
      expectProblem(await h.call('POST', '/v1/mailboxes', { body: { ttl: 60 } }), 400, 'validation-failed')
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { localPart: 7 } }),
        400,
        'validation-failed',
        'body.localPart',
      )
    })

    test('malformed JSON is a 400, a non-JSON body a 415, an oversized body a 413', async () => {
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: '{"localPart":' }),
        400,
        'malformed-json',
        'not valid JSON',
      )
      expectProblem(
        await h.call('POST', '/v1/mailboxes', {
          body: 'localPart=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'unsupported-media-type',
        'application/json',
      )
      const huge = JSON.stringify({ localPart: 'x'.repeat(70_000) })
      expectProblem(
        await h.call('POST', '/v1/mailboxes', {
          body: huge,
          headers: { 'content-length': String(huge.length) },
        }),
        413,
        'payload-too-large',
        '65536',
      )
    })

    test('with EPHEMAIL_ANONYMOUS off, creating needs the admin key', async () => {
      const closed = await createApiHarness({ EPHEMAIL_ANONYMOUS: 'false' })
      try {
        expectProblem(await closed.call('POST', '/v1/mailboxes', { token: null }), 401, 'unauthorized')
        const mailbox = (await closed.call('POST', '/v1/mailboxes')).json
        expect(mailbox.token).toBeString()
        expectProblem(
          await closed.call('POST', '/v1/mailboxes', { token: mailbox.token }),
          403,
          'forbidden',
          'admin key',
        )
      } finally {
        await closed.close()
      }
    })
  })

  describe('reading mail', () => {
    let mailbox: { address: string; token: string; id: string }
    let messageIds: string[]
    beforeAll(async () => {
      mailbox = (await h.call('POST', '/v1/mailboxes', { body: { localPart: 'reader' } })).json
      messageIds = []
      for (const name of ['confirm-de-qp.eml', 'invoice-attachments.eml', 'login-ja-base64.eml']) {
        const result = await h.deliver(fixture(name), [mailbox.address])
        messageIds.push(result.stored[0]?.messageId as string)
      }
    })

    test('the list is newest first with summaries, and pages with a cursor', async () => {
      const first = await h.call('GET', `/v1/mailboxes/${mailbox.address}/messages?limit=2`, {
        token: mailbox.token,
      })
      expect(first.status).toBe(200)
      expect(first.json.items.map((m: { id: string }) => m.id)).toEqual([messageIds[2], messageIds[1]])
      expect(first.json.items[0]).toMatchObject({
        subject: 'ログイン確認コード',
        seen: false,
        hasAttachments: false,
      })
      expect(first.json.items[1]).toMatchObject({
        from: { address: 'billing@acme-invoices.example', name: 'Acme Billing' },
        hasAttachments: true,
        size: fixture('invoice-attachments.eml').byteLength,
      })
      const second = await h.call(
        'GET',
        `/v1/mailboxes/${mailbox.address}/messages?limit=2&cursor=${first.json.nextCursor}`,
        {
          token: mailbox.token,
        },
      )
      expect(second.json.items.map((m: { id: string }) => m.id)).toEqual([messageIds[0]])
      expect(second.json.nextCursor).toBeNull()
    })

    test('list parameters are validated', async () => {
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${mailbox.address}/messages?limit=0`),
        400,
        'validation-failed',
        'query.limit',
      )
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${mailbox.address}/messages?limit=101`),
        400,
        'validation-failed',
      )
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${mailbox.address}/messages?cursor=nope`),
        400,
        'validation-failed',
        'query.cursor',
      )
    })

    test('a full message decodes quoted-printable, RFC 2047 headers and charsets', async () => {
      const response = await h.call('GET', `/v1/messages/${messageIds[0]}`, { token: mailbox.token })
      expect(response.status).toBe(200)
      const message = response.json
      expect(message.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse')
      expect(message.from).toEqual({
        address: 'noreply@accounts.example-shop.de',
        name: 'Beispiel Shop Kundenservice',
      })
      expect(message.to).toEqual([{ address: 'lena.schmidt@ephemail.test', name: 'Lena Schmidt' }])
      expect(message.text).toContain(
        'bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie auf den folgenden Link klicken',
      )
      expect(message.text).toContain('Viele Grüße')
      expect(message.html).toContain(
        'href="https://accounts.example-shop.de/confirm?token=9f8e7d6c5b4a&amp;lang=de"',
      )
      expect(message.messageId).toBe('<20261124091402.4F2A1B@accounts.example-shop.de>')
      expect(message.date).toBe('2026-11-24T08:14:02.000Z')
      expect(
        message.headers.find((header: { name: string }) => header.name === 'DKIM-Signature'),
      ).toBeDefined()
      expect(message.envelope).toEqual({
        mailFrom: 'sender@example.org',
        rcptTo: [mailbox.address],
        remoteAddress: '192.0.2.10',
        helo: 'mail.example.org',
        source: 'smtp',
      })
      expect(message.parseError).toBeNull()

      const latin1 = (await h.call('GET', `/v1/messages/${messageIds[1]}`, { token: mailbox.token })).json
      expect(latin1.text).toContain('£ 1,250.00 (naïve café services)')
      const japanese = (await h.call('GET', `/v1/messages/${messageIds[2]}`, { token: mailbox.token })).json
      expect(japanese.text).toContain('ログイン確認コードは 482913 です。')
    })

    test('attachments are listed and downloadable with their real bytes and names', async () => {
      const message = (await h.call('GET', `/v1/messages/${messageIds[1]}`, { token: mailbox.token })).json
      expect(message.attachments).toEqual([
        {
          id: '1',
          filename: 'invoice-0147.csv',
          contentType: 'text/csv',
          size: 53,
          disposition: 'attachment',
          contentId: null,
        },
        {
          id: '2',
          filename: 'Rechnung-äöü.pdf',
          contentType: 'application/pdf',
          size: 77,
          disposition: 'attachment',
          contentId: null,
        },
      ])
      const csv = await h.call('GET', `/v1/messages/${messageIds[1]}/attachments/1`, { token: mailbox.token })
      expect(csv.status).toBe(200)
      expect(csv.headers.get('content-type')).toStartWith('text/csv')
      expect(csv.text).toBe('item,qty,price\nConsulting,10,100.00\nSupport,1,250.00\n')
      const pdf = await h.call('GET', `/v1/messages/${messageIds[1]}/attachments/2`, { token: mailbox.token })
      expect(pdf.headers.get('content-disposition')).toBe(
        `attachment; filename="Rechnung-___.pdf"; filename*=UTF-8''Rechnung-%C3%A4%C3%B6%C3%BC.pdf`,
      )
      expect(pdf.text).toStartWith('%PDF-1.4')
      expectProblem(
        await h.call('GET', `/v1/messages/${messageIds[1]}/attachments/3`, { token: mailbox.token }),
        404,
        'not-found',
        'no attachment 3',
      )
    })

    test('the raw source comes back byte for byte as message/rfc822', async () => {
      const response = await h.app.handle(
        new Request(`http://localhost/v1/messages/${messageIds[1]}/raw`, {
          headers: { authorization: `Bearer ${mailbox.token}` },
        }),
      )
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('message/rfc822')
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(fixture('invoice-attachments.eml'))
    })

    test('seen can be set and cleared', async () => {
      const marked = await h.call('PATCH', `/v1/messages/${messageIds[0]}`, {
        token: mailbox.token,
        body: { seen: true },
      })
      expect(marked.status).toBe(200)
      expect(marked.json.seen).toBe(true)
      expect((await h.call('GET', `/v1/messages/${messageIds[0]}`, { token: mailbox.token })).json.seen).toBe(
        true,
      )
      expectProblem(
        await h.call('PATCH', `/v1/messages/${messageIds[0]}`, {
          token: mailbox.token,
          body: { seen: 'yes' },
        }),
        400,
        'validation-failed',
        'body.seen',
      )
      expectProblem(
        await h.call('PATCH', `/v1/messages/${messageIds[0]}`, { token: mailbox.token, body: {} }),
        400,
        'validation-failed',
      )
    })
  })

  describe('access', () => {
    test('a mailbox token sees its own mailbox only; everything else is a 404, never a 403', async () => {
      const mine = (await h.call('POST', '/v1/mailboxes', { token: null })).json
      const theirs = (await h.call('POST', '/v1/mailboxes', { token: null })).json
      const delivered = await h.deliver(fixture('login-ja-base64.eml'), [theirs.address])
      const theirMessage = delivered.stored[0]?.messageId as string

      expect((await h.call('GET', `/v1/mailboxes/${mine.address}`, { token: mine.token })).status).toBe(200)
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${theirs.address}`, { token: mine.token }),
        404,
        'not-found',
      )
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${theirs.address}/messages`, { token: mine.token }),
        404,
        'not-found',
      )
      expectProblem(
        await h.call('GET', `/v1/messages/${theirMessage}`, { token: mine.token }),
        404,
        'not-found',
      )
      expectProblem(
        await h.call('GET', `/v1/messages/${theirMessage}/raw`, { token: mine.token }),
        404,
        'not-found',
      )
      expectProblem(
        await h.call('PATCH', `/v1/messages/${theirMessage}`, { token: mine.token, body: { seen: true } }),
        404,
        'not-found',
      )
      expectProblem(
        await h.call('DELETE', `/v1/messages/${theirMessage}`, { token: mine.token }),
        404,
        'not-found',
      )
      expectProblem(
        await h.call('DELETE', `/v1/mailboxes/${theirs.address}`, { token: mine.token }),
        404,
        'not-found',
      )
      // A missing mailbox and someone else's look exactly alike.
      const missing = await h.call('GET', '/v1/mailboxes/nobody99@ephemail.test', { token: mine.token })
      expect(missing.json.title).toBe('Not found')
      // Nothing was changed by the refused calls.
      const still = await h.call('GET', `/v1/messages/${theirMessage}`, { token: theirs.token })
      expect(still.status).toBe(200)
      expect(still.json.seen).toBe(false)
      // The admin key sees everything.
      expect((await h.call('GET', `/v1/messages/${theirMessage}`)).status).toBe(200)
    })

    test('no credential is a 401 with a Bearer challenge; a wrong one too', async () => {
      const open = (await h.call('POST', '/v1/mailboxes', { token: null })).json
      const none = await h.call('GET', `/v1/mailboxes/${open.address}/messages`, { token: null })
      expectProblem(none, 401, 'unauthorized', 'Authorization: Bearer')
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="ephemail"')
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${open.address}`, { token: 'mbt_wrong' }),
        401,
        'unauthorized',
        'neither',
      )
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${open.address}`, {
          token: null,
          headers: { authorization: 'Basic dXNlcjpwYXNz' },
        }),
        401,
        'unauthorized',
        'must be "Bearer',
      )
    })
  })

  describe('changing and deleting', () => {
    test('rename and switch domain keep the messages and the token; the old address stops existing', async () => {
      const box = (await h.call('POST', '/v1/mailboxes', { body: { localPart: 'oldname' } })).json
      await h.deliver(fixture('confirm-de-qp.eml'), [box.address])
      const renamed = await h.call('PATCH', `/v1/mailboxes/${box.address}`, {
        token: box.token,
        body: { localPart: 'newname', domain: 'vip.test' },
      })
      expect(renamed.status).toBe(200)
      expect(renamed.json).toMatchObject({
        id: box.id,
        address: 'newname@vip.test',
        expiresAt: box.expiresAt,
      })
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${box.address}`, { token: box.token }),
        404,
        'not-found',
      )
      const list = await h.call('GET', '/v1/mailboxes/newname@vip.test/messages', { token: box.token })
      expect(list.json.items).toHaveLength(1)
      const refused = await h.deliver(fixture('confirm-de-qp.eml'), [box.address])
      expect(refused.stored).toHaveLength(0)
      expect(refused.rejected).toEqual([box.address])
    })

    test('PATCH with ttlSeconds extends the lifetime from now; a taken new address is a 409', async () => {
      const box = (
        await h.call('POST', '/v1/mailboxes', { body: { localPart: 'extend-me', ttlSeconds: 120 } })
      ).json
      await h.call('POST', '/v1/mailboxes', { body: { localPart: 'occupied' } })
      const before = Date.now()
      const extended = await h.call('PATCH', `/v1/mailboxes/${box.address}`, {
        token: box.token,
        body: { ttlSeconds: 7200 },
      })
      expect(Date.parse(extended.json.expiresAt)).toBeGreaterThanOrEqual(before + 7_200_000)
      expectProblem(
        await h.call('PATCH', `/v1/mailboxes/${box.address}`, {
          token: box.token,
          body: { localPart: 'occupied' },
        }),
        409,
        'address-taken',
      )
      expectProblem(
        await h.call('PATCH', `/v1/mailboxes/${box.address}`, {
          token: box.token,
          body: { domain: 'nope.test' },
        }),
        422,
        'unknown-domain',
      )
    })

    test('delete one message, clear all, delete the mailbox', async () => {
      const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
      const ids: string[] = []
      for (let i = 0; i < 3; i++)
        ids.push(
          (await h.deliver(fixture('login-ja-base64.eml'), [box.address])).stored[0]?.messageId as string,
        )
      const deleted = await h.call('DELETE', `/v1/messages/${ids[0]}`, { token: box.token })
      expect(deleted.status).toBe(204)
      expect(deleted.text).toBe('')
      expectProblem(await h.call('GET', `/v1/messages/${ids[0]}`, { token: box.token }), 404, 'not-found')
      const cleared = await h.call('DELETE', `/v1/mailboxes/${box.address}/messages`, { token: box.token })
      expect(cleared.json).toEqual({ deleted: 2 })
      expect((await h.call('DELETE', `/v1/mailboxes/${box.address}`, { token: box.token })).status).toBe(204)
      // The token died with its mailbox.
      expectProblem(
        await h.call('GET', `/v1/mailboxes/${box.address}`, { token: box.token }),
        401,
        'unauthorized',
      )
      expectProblem(await h.call('GET', `/v1/mailboxes/${box.address}`), 404, 'not-found')
    })
  })

  describe('routing errors and probes', () => {
    test('unknown routes are 404 and wrong methods 405 with Allow, as problem+json', async () => {
      expectProblem(await h.call('GET', '/v1/nothing-here'), 404, 'not-found', 'GET /v1/nothing-here')
      const wrongMethod = await h.call('PUT', '/v1/domains')
      expectProblem(wrongMethod, 405, 'method-not-allowed', 'use GET, HEAD')
      expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD')
      const messageMethods = await h.call('POST', '/v1/messages/0193a1f3-0a1b-7c2d-8e3f-405162738495')
      expect(messageMethods.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH')
      expectProblem(await h.call('GET', '/v1/messages/not-a-uuid'), 404, 'not-found', 'not-a-uuid')
    })

    test('/health and /ready answer', async () => {
      expect((await h.call('GET', '/health', { token: null })).json).toEqual({ status: 'ok' })
      expect((await h.call('GET', '/ready', { token: null })).json).toEqual({
        status: 'ready',
        storage: 'pglite',
      })
    })

    test('an unexpected failure is a 500 problem that hides the cause from the client and logs it', async () => {
      const broken = await createApiHarness()
      const box = (await broken.call('POST', '/v1/mailboxes', { token: null })).json
      await broken.close()
      const logged = spyOn(console, 'error').mockImplementation(() => {})
      try {
        const response = await broken.call('GET', `/v1/mailboxes/${box.address}`)
        expectProblem(response, 500, 'internal-error', 'has been logged')
        expect(response.text).not.toMatch(/pglite|drizzle|closed/i)
        expect(String(logged.mock.calls[0]?.[0])).toContain(`GET /v1/mailboxes/${box.address}`)
      } finally {
        logged.mockRestore()
      }
    })

    test('HEAD answers like GET without a body', async () => {
      const response = await h.app.handle(new Request('http://localhost/v1/domains', { method: 'HEAD' }))
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('')
    })

    test('/ready is a 503 problem when storage is gone', async () => {
      const broken = await createApiHarness()
      await broken.close()
      expectProblem(await broken.call('GET', '/ready', { token: null }), 503, 'service-unavailable', 'pglite')
    })
  })

  test('the funnel publishes message.received, numbered, after storing', async () => {
    const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
    const result = await h.deliver(fixture('confirm-de-qp.eml'), [box.address])
    const event = h.events.find(
      (e) => e.type === 'message.received' && e.messageId === result.stored[0]?.messageId,
    )
    expect(event).toMatchObject({
      type: 'message.received',
      seq: 1,
      address: box.address,
      subject: 'Bestätigen Sie Ihre E-Mail-Adresse',
    })
  })
})
