// The one principal plugin: routes that need no credential ignore one, routes that use it see a wrong one first.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApiHarness } from './support/api-harness.ts'

describe('principal plugin', () => {
  let harness: Awaited<ReturnType<typeof createApiHarness>>
  beforeAll(async () => {
    harness = await createApiHarness()
  }, 60_000)
  afterAll(() => harness?.close())

  test('health and the documentation answer whatever credential comes with them', async () => {
    for (const path of ['/health', '/openapi.json', '/openapi.yaml', '/docs']) {
      const response = await harness.call('GET', path, { token: 'not-a-key' })
      expect({ path, status: response.status }).toEqual({ path, status: 200 })
    }
  })

  test('on every route that uses a principal, a wrong credential is a 401 with the challenge', async () => {
    const created = await harness.call('POST', '/v1/mailboxes', { body: { localPart: 'principal-probe' } })
    expect(created.status).toBe(201)
    const address = created.json.address as string
    for (const [method, path] of [
      ['GET', `/v1/mailboxes/${address}`],
      ['GET', `/v1/mailboxes/${address}/messages`],
      ['GET', `/v1/mailboxes/${address}/otp`],
      ['GET', '/v1/webhooks'],
      // Open to anonymous callers, but it reads a credential to choose the domains shown.
      ['GET', '/v1/domains'],
      ['GET', '/v1/messages/01900000-0000-7000-8000-000000000000'],
      ['POST', '/v1/mailboxes'],
    ] as const) {
      const response = await harness.call(method, path, { token: 'not-a-key' })
      expect({ path, status: response.status }).toEqual({ path, status: 401 })
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ephemail"')
    }
  })

  test('a wrong credential is reported before the body is checked (401, not 400)', async () => {
    const response = await harness.call('POST', '/v1/webhooks', { token: 'not-a-key', body: { url: 42 } })
    expect(response.status).toBe(401)
    expect(response.json.detail).toContain('not the admin key, a live API key')
  })
})

describe('principal before validation', () => {
  let harness: Awaited<ReturnType<typeof createApiHarness>>
  beforeAll(async () => {
    harness = await createApiHarness()
  }, 60_000)
  afterAll(() => harness?.close())

  test('no credential and a bad field is a 401, not a 400, on routes that need a credential', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/webhooks', { url: 42 }],
      ['PATCH', '/v1/mailboxes/x@ephemail.test', { ttlSeconds: 'soon' }],
      ['PATCH', '/v1/messages/not-a-uuid', { seen: 'yes' }],
      ['GET', '/v1/webhooks/x/deliveries?limit=abc', undefined],
      ['GET', '/v1/mailboxes/x@ephemail.test/otp?wait=abc', undefined],
    ] as const) {
      const response = await harness.call(method, path, { token: null, ...(body ? { body } : {}) })
      expect({ path, status: response.status }).toEqual({ path, status: 401 })
    }
  })

  test('creating a mailbox stays open without a credential, and its fields are still checked', async () => {
    expect((await harness.call('POST', '/v1/mailboxes', { token: null })).status).toBe(201)
    expect(
      (await harness.call('POST', '/v1/mailboxes', { token: null, body: { ttlSeconds: 'x' } })).status,
    ).toBe(400)
  })
})
