// Mounting compatibility layers: EPHEMAIL_COMPAT parsing, prefixes, which envelope answers where, and refused route clashes.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import type { CompatApiFactory } from '#core/compat.ts'
import { createHeaderStyle } from '#plugins/auth/header/index.ts'
import { createInlineQueue } from '#plugins/queue/inline/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { ConfigError, loadConfig } from '#server/config.ts'
import { createCore } from '#server/core.ts'
import { inThreadMailWork } from '#server/pipeline/mail-offload.ts'
import { ADMIN_KEY, createApiHarness } from './support/api-harness.ts'
import { insertTestApiKey } from './support/api-keys.ts'

describe('EPHEMAIL_COMPAT', () => {
  test('names with their default prefix, or name:/prefix; / is the root', () => {
    expect(loadConfig({}, []).compat).toEqual([])
    expect(loadConfig({ EPHEMAIL_COMPAT: ' tempmail-v1 , tempmail-worker' }, []).compat).toEqual([
      { name: 'tempmail-v1', prefix: '' },
      { name: 'tempmail-worker', prefix: '/tempmail-worker' },
    ])
    expect(loadConfig({ EPHEMAIL_COMPAT: 'tempmail-v1:/tm/v1x/,tempmail-worker:/' }, []).compat).toEqual([
      { name: 'tempmail-v1', prefix: '/tm/v1x' },
      { name: 'tempmail-worker', prefix: '' },
    ])
  })

  test('an unknown name, a name twice or a prefix that is not a path is refused, naming the variable', () => {
    for (const [value, message] of [
      ['mailslurp', '"mailslurp" is not a compatibility layer; known: tempmail-io, tempmailg'],
      ['tempmail-v1,tempmail-v1:/x', 'names "tempmail-v1" twice'],
      ['tempmail-v1:tm', '"tm" is not a path prefix'],
      ['tempmail-v1:/a b', '"/a b" is not a path prefix'],
    ] as const) {
      expect(() => loadConfig({ EPHEMAIL_COMPAT: value }, [])).toThrow(ConfigError)
      expect(() => loadConfig({ EPHEMAIL_COMPAT: value }, [])).toThrow(message)
    }
  })
})

describe('a layer under a prefix', () => {
  let api: Awaited<ReturnType<typeof createApiHarness>>
  let key: string
  beforeAll(async () => {
    api = await createApiHarness({ EPHEMAIL_COMPAT: 'tempmail-v1:/tm' })
    ;({ key } = await insertTestApiKey(api.storage))
  })
  afterAll(() => api.close())

  test('answers under its prefix only; the native API is untouched', async () => {
    const created = await api.call('POST', '/tm/v1/emails', { token: null, headers: { 'x-api-key': key } })
    expect(created.status).toBe(200)
    expect(created.json.email).toEndWith('@ephemail.test')
    // The same core: the native API reads the mailbox the layer made, with the same key.
    const native = await api.call('GET', `/v1/mailboxes/${created.json.email}`, { token: key })
    expect(native.json.ownerKeyId ?? native.json.address).toBeDefined()
    expect(native.status).toBe(200)
    const unprefixed = await api.call('POST', '/v1/emails', { token: null, headers: { 'x-api-key': key } })
    expect(unprefixed.status).toBe(404)
    expect(unprefixed.headers.get('content-type')).toBe('application/problem+json')
  })

  test('an unknown path or wrong method under the prefix answers in the layer envelope', async () => {
    const missing = await api.call('GET', '/tm/v1/nothing', { token: null, headers: { 'x-api-key': key } })
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe('not_found')
    const wrongMethod = await api.call('GET', '/tm/v1/emails', { token: null, headers: { 'x-api-key': key } })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')
    expect(wrongMethod.json.error.code).toBe('method_not_allowed')
  })

  test('the layer meters the key it reads in its own style against the key’s plan', async () => {
    const first = await api.call('POST', '/tm/v1/emails', { token: null, headers: { 'x-api-key': key } })
    const second = await api.call('POST', '/tm/v1/emails', { token: null, headers: { 'x-api-key': key } })
    // The default plan's budget, counted per key (an anonymous caller would be on the anonymous plan).
    const plan = loadConfig({}, []).plans.default
    expect(first.headers.get('x-ratelimit-limit')).toBe(String(plan?.requests))
    expect(Number(second.headers.get('x-ratelimit-used'))).toBe(
      Number(first.headers.get('x-ratelimit-used')) + 1,
    )
  })
})

describe('route clashes', () => {
  /** A layer claiming GET /health, which the native API already answers. */
  const clashing: CompatApiFactory = ({ authenticator, prefix }) => ({
    name: 'clashing',
    prefix,
    routes: new Elysia({ prefix }).get('/health', () => ({ ok: true })),
    auth: authenticator([createHeaderStyle()]),
    renderError: (problem) => Response.json(problem, { status: problem.status }),
    openapi: {
      tag: { name: 'Clash', description: 'test' },
      securitySchemes: {},
      errorSchema: { name: 'ClashError', schema: {} },
    },
  })

  async function coreWith(prefix: string) {
    return createCore(loadConfig({ EPHEMAIL_ADMIN_KEY: ADMIN_KEY }, []), {
      plugins: {
        storage: createPgliteStorage(),
        makeQueue: (spec) => createInlineQueue(spec),
        compat: [{ name: 'clashing', prefix, create: clashing }],
      },
      mail: inThreadMailWork,
      version: 'test',
    })
  }

  test('a layer on a native route stops the start, naming the route and the way out', async () => {
    const core = await coreWith('')
    try {
      expect(() => core.buildApp()).toThrow(
        'EPHEMAIL_COMPAT: GET /health is claimed twice (by the native API and clashing); mount clashing under a prefix',
      )
    } finally {
      await core.close()
    }
  })

  test('under a prefix the same layer mounts', async () => {
    const core = await coreWith('/clash')
    try {
      const app = core.buildApp()
      const response = await app.handle(new Request('http://localhost/clash/health'))
      expect(await response.json()).toEqual({ ok: true })
    } finally {
      await core.close()
    }
  })
})

describe('the OpenAPI document with every layer mounted', () => {
  test('unique operation ids, a description on each operation, its own tag and error schema, no 3.0-only keywords', async () => {
    const api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-io,tempmailg,tempmail-worker,tempmail-v1',
    })
    try {
      const { json: document, text } = await api.call('GET', '/openapi.json', { token: null })
      const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(
          methods as Record<string, { operationId: string; description?: string; tags: string[] }>,
        ).map(([method, operation]) => ({ path, method, ...operation })),
      )
      const ids = operations.map((operation) => operation.operationId)
      expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([])
      expect(
        operations.filter((operation) => !operation.description).map((o) => `${o.method} ${o.path}`),
      ).toEqual([])
      for (const tag of ['tempmail.io compatibility', 'Temp Mail v1 compatibility'])
        expect(operations.some((operation) => operation.tags?.[0] === tag)).toBe(true)
      expect(document.components.schemas.TempmailV1Error).toBeDefined()
      // OpenAPI 3.1 states null in the type; 3.0's `nullable` makes validators (Redocly) fail the document.
      expect(text).not.toContain('"nullable"')
      // The layers' WebSocket keeps its own id next to the native one.
      expect(document.paths['/v1/ws.php'].get.operationId).not.toBe(document.paths['/v1/ws'].get.operationId)
    } finally {
      await api.close()
    }
  })
})

describe('a key made through the native admin API', () => {
  test('works in every layer, each in its own auth style, and owns what each creates', async () => {
    const api = await createApiHarness({
      EPHEMAIL_COMPAT: 'tempmail-io,tempmailg,tempmail-worker,tempmail-v1',
    })
    try {
      const issued = await api.call('POST', '/v1/admin/keys', {
        body: { name: 'scripts', scopes: ['read', 'write'] },
      })
      expect(issued.status).toBe(201)
      const key: string = issued.json.key
      const as = (method: string, path: string, headers: Record<string, string> = {}) =>
        api.call(method, path, { token: null, headers })

      const v1 = await as('POST', '/v1/emails', { 'x-api-key': key })
      const g = await as('POST', '/api/emails', { authorization: `Bearer ${key}` })
      const worker = await as('POST', '/tempmail-worker/api/generate', { 'x-api-key': key })
      const io = await as('GET', `/v1/generate_email.php?key=${encodeURIComponent(key)}`)
      expect([v1.status, g.status, worker.status, io.status]).toEqual([200, 200, 200, 200])
      const addresses = [v1.json.email, g.json.data.email, worker.json.data.email, io.json.email]
      // The native API lists all four as the key's own mailboxes.
      const listed = await api.call('GET', '/v1/mailboxes', { token: key })
      expect(listed.json.items.map((mailbox: { address: string }) => mailbox.address).sort()).toEqual(
        [...addresses].sort(),
      )
      // Revoked natively, it is refused by every layer at once.
      expect((await api.call('DELETE', `/v1/admin/keys/${issued.json.id}`)).status).toBe(204)
      const after = await Promise.all([
        as('POST', '/v1/emails', { 'x-api-key': key }),
        as('POST', '/api/emails', { authorization: `Bearer ${key}` }),
        as('POST', '/tempmail-worker/api/generate', { 'x-api-key': key }),
        as('GET', `/v1/generate_email.php?key=${encodeURIComponent(key)}`),
      ])
      expect(after.map((response) => response.status)).toEqual([401, 401, 401, 401])
    } finally {
      await api.close()
    }
  })
})
