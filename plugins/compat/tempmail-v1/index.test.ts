// tempmail-v1 against the examples of its document (POST /v1/emails, the {error,meta} envelope, X-Ratelimit-*), on the real core.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApiHarness } from '../../../test/support/api-harness.ts'
import { insertTestApiKey } from '../../../test/support/api-keys.ts'

type Harness = Awaited<ReturnType<typeof createApiHarness>>
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('compat tempmail-v1', () => {
  let api: Harness
  let key: string
  const post = (body: unknown, headers: Record<string, string> = { 'x-api-key': key }) =>
    api.call('POST', '/v1/emails', { token: null, body, headers })

  beforeAll(async () => {
    api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-v1',
      EPHEMAIL_DOMAINS: 'example.com,vip.example:custom,gold.example:premium',
      EPHEMAIL_TTL_DEFAULT_SECONDS: '86400',
      EPHEMAIL_RATE_PLANS: '{"default":{"requests":100,"windowSeconds":60}}',
    })
    ;({ key } = await insertTestApiKey(api.storage))
  })
  afterAll(() => api.close())

  test('the success example: {email, ttl} with the requested address and the lifetime in seconds', async () => {
    const { status, json, headers } = await post({ email: 'user@example.com' })
    expect(status).toBe(200)
    expect(json).toEqual({ email: 'user@example.com', ttl: 86400 })
    // The mailbox is real: the native API sees it, owned by the same key.
    const native = await api.call('GET', '/v1/mailboxes/user@example.com', { token: key })
    expect(native.status).toBe(200)
    // X-Ratelimit-* as documented: integers, the reset in epoch seconds.
    expect(headers.get('x-ratelimit-limit')).toBe('100')
    expect(Number(headers.get('x-ratelimit-used'))).toBeGreaterThanOrEqual(1)
    expect(Number(headers.get('x-ratelimit-remaining'))).toBe(100 - Number(headers.get('x-ratelimit-used')))
    const reset = Number(headers.get('x-ratelimit-reset'))
    expect(reset).toBeGreaterThan(Date.now() / 1000)
    expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 61)
    expect(headers.get('ratelimit')).toBeNull()
  })

  test('no body: a random address on a random domain; domain and domain_type pick it', async () => {
    const random = await post(undefined)
    expect(random.status).toBe(200)
    expect(random.json.email).toMatch(/^[a-z0-9._-]+@example\.com$/)
    const byDomain = await post({ domain: 'vip.example', domain_type: 'premium' })
    expect(byDomain.json.email).toEndWith('@vip.example')
    const byType = await post({ domain_type: 'custom' })
    expect(byType.json.email).toEndWith('@vip.example')
    // The default plan has no premium domains: the same refusal as the native route, in this envelope.
    const premium = await post({ domain_type: 'premium' })
    expect(premium.status).toBe(400)
    expect(premium.json.error.code).toBe('domain_not_allowed')
    // email wins over domain and domain_type (the document: they are then ignored).
    const both = await post({ email: 'chosen@vip.example', domain: 'example.com', domain_type: 'public' })
    expect(both.json.email).toBe('chosen@vip.example')
  })

  test('a key as Authorization: Bearer works as well as X-API-Key', async () => {
    const { status } = await post({}, { authorization: `Bearer ${key}` })
    expect(status).toBe(200)
  })

  test('errors use the {error:{type,code,detail},meta:{request_id}} envelope with the documented codes', async () => {
    const missing = await post({}, {})
    expect(missing.status).toBe(401)
    expect(missing.headers.get('content-type')).toBe('application/json')
    expect(missing.json.error).toEqual({
      type: 'request_error',
      code: 'invalid_api_key',
      detail: expect.any(String),
    })
    expect(missing.json.meta.request_id).toMatch(UUID)
    expect(Object.keys(missing.json).sort()).toEqual(['error', 'meta'])

    const wrong = await post({}, { 'x-api-key': 'eph_not-a-key' })
    expect(wrong.json.error.code).toBe('invalid_api_key')

    const invalid = await post({ domain_type: 'gold' })
    expect(invalid.status).toBe(400)
    expect(invalid.json.error).toMatchObject({ type: 'request_error', code: 'validation_error' })
    expect(invalid.json.error.detail).toContain('domain_type')

    const unknownField = await post({ ttl: 5 })
    expect(unknownField.json.error.code).toBe('validation_error')

    const taken = await post({ email: 'user@example.com' })
    expect(taken.status).toBe(400)
    expect(taken.json.error).toMatchObject({
      code: 'address_taken',
      detail: expect.stringContaining('in use'),
    })

    const notOurs = await post({ domain: 'elsewhere.example' })
    expect(notOurs.status).toBe(400)
    expect(notOurs.json.error.code).toBe('unknown_domain')
    // Each answer has its own request id.
    expect(notOurs.json.meta.request_id).not.toBe(taken.json.meta.request_id)
  })

  test('the rate-limit example: 429 with code rate_limited and the documented detail shape', async () => {
    const limited = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-v1',
      EPHEMAIL_RATE_PLANS: '{"default":{"requests":2,"windowSeconds":60}}',
    })
    try {
      const { key: small } = await insertTestApiKey(limited.storage)
      const call = () =>
        limited.call('POST', '/v1/emails', { token: null, body: {}, headers: { 'x-api-key': small } })
      await call()
      await call()
      const third = await call()
      expect(third.status).toBe(429)
      expect(third.json.error).toMatchObject({ type: 'request_error', code: 'rate_limited' })
      expect(third.headers.get('x-ratelimit-remaining')).toBe('0')
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
    } finally {
      await limited.close()
    }
  })

  test('native routes keep problem+json beside it; the OpenAPI document describes the layer under its tag', async () => {
    const native = await api.call('GET', '/v1/mailboxes/none@example.com', { token: key })
    expect(native.headers.get('content-type')).toBe('application/problem+json')
    const { json: document } = await api.call('GET', '/openapi.json', { token: null })
    const operation = document.paths['/v1/emails'].post
    expect(operation.tags).toEqual(['Temp Mail v1 compatibility'])
    expect(operation.security).toEqual([{ tempmailV1Key: [] }, { tempmailV1Bearer: [] }])
    expect(operation.responses['400'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/TempmailV1Error',
    )
    expect(operation.responses['200'].headers['X-Ratelimit-Reset']).toBeDefined()
    expect(document.components.schemas.TempmailV1Error.properties.meta).toBeDefined()
    expect(document.tags.map((tag: { name: string }) => tag.name)).toContain('Temp Mail v1 compatibility')
  })
})
