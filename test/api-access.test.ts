// The REST API through app.handle, on in-memory PGlite: who may see what, credentials, routing errors,
// probes, and failures as problem+json.

import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import { createApiHarness, fixture } from './support/api-harness.ts'
import { expectProblem, type Harness } from './support/problem.ts'

describe('REST API', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createApiHarness()
  })
  afterAll(() => h.close())

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
        'is not the admin key, a live API key',
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
})
