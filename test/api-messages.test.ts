// The REST API through app.handle, on in-memory PGlite: listing and reading messages, attachments, raw
// source, the seen flag, and the event the funnel publishes.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApiHarness, fixture } from './support/api-harness.ts'
import { expectProblem, type Harness } from './support/problem.ts'

describe('REST API', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness()
  })
  afterAll(() => h.close())

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
