// The REST API through app.handle, on in-memory PGlite: domains, and creating, changing and deleting mailboxes.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApiHarness, fixture } from './support/api-harness.ts'
import { expectProblem, type Harness } from './support/problem.ts'

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
        { name: 'vip.test', type: 'custom' },
      ],
    })
  })

  describe('creating mailboxes', () => {
    test('anonymous, no body: a readable random address on a public domain, 10 minute default TTL', async () => {
      const response = await h.call('POST', '/v1/mailboxes', { token: null })
      expect(response.status).toBe(201)
      const mailbox = response.json
      expect(mailbox.localPart).toMatch(/^[a-z]+\d{2}$/)
      expect(mailbox.domain).toBe('ephemail.test') // the custom domain is never picked at random
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
      // One of a few values: the message names them.
      const wrongValue = await h.call('POST', '/v1/mailboxes', { body: { domainType: 'gold' } })
      expect(wrongValue.json.errors[0]).toEqual({
        path: 'body.domainType',
        message: 'Expected one of public, custom, premium',
      })
      // A JSON body's integer is a JSON number (only query strings are coerced).
      expectProblem(
        await h.call('POST', '/v1/mailboxes', { body: { ttlSeconds: '600' } }),
        400,
        'validation-failed',
        'body.ttlSeconds',
      )
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
})
