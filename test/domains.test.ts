// Receiving domains registered through the admin API: the MX check, the admin routes, the catalog every
// process serves from, GET /v1/domains per caller, and mailboxes refused on domains a caller may not use.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { checkMx } from '#core/domain-check.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createDomainCatalog } from '#server/pipeline/domain-catalog.ts'
import { createDomainRechecker } from '#server/pipeline/domain-rechecker.ts'
import { ADMIN_KEY, createApiHarness, fixture } from './support/api-harness.ts'
import { fakeMxResolver, insertTestApiKey } from './support/fake-mx.ts'
import { expectProblem, type Harness } from './support/problem.ts'
import { waitFor } from './support/wait-for.ts'

const MX = 'mx.ephemail.example'
const at = new Date('2026-03-01T10:00:00.000Z')

describe('MX check', () => {
  const expected = [MX, 'mx2.ephemail.example']

  test('verified when one MX record points at an expected host (case and trailing dot do not matter)', async () => {
    const resolver = fakeMxResolver(
      new Map([
        [
          'mail.acme.example',
          [
            { exchange: 'backup.other.example', priority: 20 },
            { exchange: 'MX.Ephemail.Example.', priority: 10 },
          ],
        ],
      ]),
    )
    expect(await checkMx(resolver, 'mail.acme.example', expected, at)).toEqual({
      status: 'verified',
      problems: [],
      mxHosts: [MX, 'backup.other.example'],
      checkedAt: at,
      transient: false,
    })
  })

  test('pending, saying what is wrong: no MX, MX elsewhere, null MX, lookup failed', async () => {
    const resolver = fakeMxResolver(
      new Map<string, { exchange: string; priority: number }[] | { code: string }>([
        ['empty.example', []],
        ['nodata.example', { code: 'ENODATA' }],
        ['elsewhere.example', [{ exchange: 'mx.other.example', priority: 10 }]],
        ['nullmx.example', [{ exchange: '', priority: 0 }]],
        ['broken.example', { code: 'ESERVFAIL' }],
      ]),
    )
    const check = (name: string) => checkMx(resolver, name, [MX], at)
    expect((await check('nxdomain.example')).problems).toEqual([
      `no MX record for nxdomain.example (ENOTFOUND); add one pointing at ${MX}`,
    ])
    expect((await check('nodata.example')).problems).toEqual([
      `no MX record for nodata.example (ENODATA); add one pointing at ${MX}`,
    ])
    expect((await check('empty.example')).problems).toEqual([
      `no MX record for empty.example; add one pointing at ${MX}`,
    ])
    const elsewhere = await check('elsewhere.example')
    expect(elsewhere).toMatchObject({ status: 'pending', mxHosts: ['mx.other.example'], transient: false })
    expect(elsewhere.problems).toEqual([`MX points at mx.other.example, expected one of ${MX}`])
    expect((await check('nullmx.example')).problems[0]).toStartWith('nullmx.example has a null MX (RFC 7505)')
    const broken = await check('broken.example')
    expect(broken).toMatchObject({ status: 'pending', transient: true })
    expect(broken.problems).toEqual(['MX lookup for broken.example failed (ESERVFAIL)'])
  })
})

describe('domain catalog', () => {
  test('serves configured and verified registered domains, and reloads on domains.changed from elsewhere', async () => {
    const storage = createPgliteStorage()
    await storage.migrate()
    const pubsub = createMemoryPubSub()
    const catalog = createDomainCatalog({
      storage,
      pubsub,
      configured: [{ name: 'ephemail.test', type: 'public' }],
    })
    await catalog.refresh()
    const base = {
      type: 'custom' as const,
      privateToKeys: null,
      problems: [],
      mxHosts: [],
      createdAt: at,
      checkedAt: at,
      verifiedAt: null,
    }
    // Another process registers two domains; only the verified one is served.
    await storage.insertDomain({ ...base, name: 'ready.example', status: 'verified', verifiedAt: at })
    await storage.insertDomain({ ...base, name: 'waiting.example', status: 'pending' })
    expect(catalog.serves('ready.example')).toBe(false) // nobody said so yet
    await pubsub.publish({ type: 'domains.changed', name: 'ready.example' })
    await waitFor(() => catalog.serves('ready.example'), 'the catalog to reload')
    expect(catalog.serves('ephemail.test')).toBe(true)
    expect(catalog.serves('waiting.example')).toBe(false)
    expect(await catalog.find('ready.example')).toEqual({
      name: 'ready.example',
      type: 'custom',
      privateToKeys: null,
      source: 'registered',
    })
    expect((await catalog.list()).map((domain) => domain.name)).toEqual(['ephemail.test', 'ready.example'])

    await storage.deleteDomain('ready.example')
    await pubsub.publish({ type: 'domains.changed', name: 'ready.example' })
    await waitFor(() => !catalog.serves('ready.example'), 'the catalog to drop the domain')
    await catalog.close()
    await pubsub.close()
    await storage.close()
  })

  test('reloads asked for during a reload are not lost: the last one sees the last change', async () => {
    const rows: string[][] = [[], ['late.example']]
    let calls = 0
    let release: () => void = () => {}
    const storage = {
      async listDomains() {
        const names = rows[Math.min(calls++, rows.length - 1)] as string[]
        if (calls === 1) await new Promise<void>((resolve) => (release = resolve))
        return names.map((name) => ({
          name,
          type: 'public' as const,
          privateToKeys: null,
          status: 'verified' as const,
          problems: [],
          mxHosts: [],
          createdAt: at,
          checkedAt: at,
          verifiedAt: at,
        }))
      },
    }
    const pubsub = createMemoryPubSub()
    const catalog = createDomainCatalog({ storage, pubsub, configured: [] })
    const first = catalog.refresh() // reads the old list and is held
    const second = catalog.refresh() // the change lands meanwhile
    const third = catalog.refresh()
    expect(third).toBe(second) // coalesced into one follow-up
    release()
    await Promise.all([first, second])
    expect(calls).toBe(2)
    expect(catalog.serves('late.example')).toBe(true)
    await catalog.close()
    await pubsub.close()
  })
})

describe('admin domain routes', () => {
  let h: Harness
  const dns = fakeMxResolver()

  beforeAll(async () => {
    h = await createApiHarness({ EPHEMAIL_MX_HOSTS: `${MX},mx2.ephemail.example` }, { mxResolver: dns })
  })
  afterAll(() => h?.close())

  const register = (body: unknown, token?: string | null) =>
    h.call('POST', '/v1/admin/domains', { body, ...(token === undefined ? {} : { token }) })

  test('a domain without MX is registered pending with its problem, and receives nothing', async () => {
    const created = await register({ name: 'Pending.Acme.Example', type: 'custom' })
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe('/v1/admin/domains/pending.acme.example')
    expect(created.json).toMatchObject({
      name: 'pending.acme.example',
      type: 'custom',
      privateToKeys: null,
      status: 'pending',
      problems: [`no MX record for pending.acme.example (ENOTFOUND); add one pointing at ${MX}`],
      mxHosts: [],
      source: 'registered',
      verifiedAt: null,
    })
    expect(Date.parse(created.json.checkedAt)).not.toBeNaN()
    // Not served: no mailbox on it, not listed for anyone.
    expectProblem(
      await h.call('POST', '/v1/mailboxes', { body: { localPart: 'early', domain: 'pending.acme.example' } }),
      422,
      'unknown-domain',
      'pending.acme.example',
    )
    const listed = await h.call('GET', '/v1/domains')
    expect(listed.json.domains.map((domain: { name: string }) => domain.name)).not.toContain(
      'pending.acme.example',
    )
  })

  test('an MX pointing elsewhere says where it points and what was expected', async () => {
    dns.table.set('elsewhere.acme.example', [{ exchange: 'mx.other.example.', priority: 10 }])
    const created = await register({ name: 'elsewhere.acme.example', type: 'public' })
    expect(created.json.status).toBe('pending')
    expect(created.json.problems).toEqual([
      `MX points at mx.other.example, expected one of ${MX}, mx2.ephemail.example`,
    ])
    expect(created.json.mxHosts).toEqual(['mx.other.example'])
  })

  test('fixing DNS and verifying makes it verified; mail for it is accepted at once; DELETE stops mail', async () => {
    const name = 'fixed.acme.example'
    await register({ name, type: 'public' })
    dns.table.set(name, [{ exchange: 'mx2.ephemail.example', priority: 5 }])
    const verified = await h.call('POST', `/v1/admin/domains/${name}/verify`)
    expect(verified.status).toBe(200)
    expect(verified.json).toMatchObject({
      name,
      status: 'verified',
      problems: [],
      mxHosts: ['mx2.ephemail.example'],
    })
    expect(verified.json.verifiedAt).toBe(verified.json.checkedAt)
    expect(h.events).toContainEqual({ type: 'domains.changed', name })

    // Verifying again keeps the first verification time.
    const again = await h.call('POST', `/v1/admin/domains/${name}/verify`)
    expect(again.json.verifiedAt).toBe(verified.json.verifiedAt)
    expect((await h.call('GET', `/v1/admin/domains/${name}`)).json).toEqual(again.json)

    const listed = await h.call('GET', '/v1/domains?type=public', { token: null })
    expect(listed.json.domains).toContainEqual({ name, type: 'public' })
    const mailbox = await h.call('POST', '/v1/mailboxes', {
      token: null,
      body: { localPart: 'signup', domain: name },
    })
    expect(mailbox.status).toBe(201)
    const delivered = await h.deliver(fixture('confirm-de-qp.eml'), [`signup@${name}`])
    expect(delivered.stored).toHaveLength(1)

    const deleted = await h.call('DELETE', `/v1/admin/domains/${name}`)
    expect(deleted.status).toBe(204)
    expectProblem(await h.call('GET', `/v1/admin/domains/${name}`), 404, 'not-found', name)
    expect(h.events).toContainEqual({ type: 'domains.changed', name })
    // Its mailbox stops receiving; it and its mail stay readable until the mailbox expires.
    const refused = await h.deliver(fixture('confirm-de-qp.eml'), [`signup@${name}`])
    expect(refused).toEqual({ stored: [], rejected: [`signup@${name}`] })
    const messages = await h.call('GET', `/v1/mailboxes/signup@${name}/messages`, {
      token: mailbox.json.token,
    })
    expect(messages.json.items).toHaveLength(1)
    expectProblem(await h.call('DELETE', `/v1/admin/domains/${name}`), 404, 'not-found')
  })

  test('re-checks: a DNS failure keeps a verified domain served; an answer that points elsewhere stops it', async () => {
    const name = 'flaky.acme.example'
    dns.table.set(name, [{ exchange: MX, priority: 10 }])
    expect((await register({ name, type: 'public' })).json.status).toBe('verified')
    dns.table.set(name, { code: 'ETIMEOUT' })
    const timedOut = await h.call('POST', `/v1/admin/domains/${name}/verify`)
    expect(timedOut.json).toMatchObject({ status: 'verified', mxHosts: [MX] })
    expect(timedOut.json.problems).toEqual([
      `MX lookup for ${name} failed (ETIMEOUT); still served until a check gets an answer`,
    ])
    expect((await h.call('POST', '/v1/mailboxes', { body: { domain: name } })).status).toBe(201)

    // The background re-check, an hour later: the MX now points elsewhere.
    dns.table.set(name, [{ exchange: 'mx.moved.example', priority: 10 }])
    const later = new Date(Date.now() + 2 * 3_600_000)
    const rechecker = createDomainRechecker({
      deps: { ...h.core.deps, now: () => later },
      verifiedEveryMs: 3_600_000,
    })
    expect(await rechecker.checkDue()).toBeGreaterThanOrEqual(1)
    const lapsed = (await h.call('GET', `/v1/admin/domains/${name}`)).json
    expect(lapsed).toMatchObject({ status: 'pending', mxHosts: ['mx.moved.example'] })
    expect(lapsed.checkedAt).toBe(later.toISOString())
    expectProblem(await h.call('POST', '/v1/mailboxes', { body: { domain: name } }), 422, 'unknown-domain')
    // Just checked: nothing is due again right away.
    expect(await rechecker.checkDue()).toBe(0)
  })

  test('the list shows configured domains first (verified, source configured), then registered ones', async () => {
    const listed = await h.call('GET', '/v1/admin/domains')
    expect(listed.status).toBe(200)
    const items = listed.json.items as { name: string; source: string; status: string }[]
    expect(items.slice(0, 2)).toEqual([
      expect.objectContaining({
        name: 'ephemail.test',
        source: 'configured',
        status: 'verified',
        type: 'public',
      }),
      expect.objectContaining({ name: 'vip.test', source: 'configured', status: 'verified', type: 'custom' }),
    ])
    const registered = items.slice(2).map((item) => item.name)
    expect(registered).toEqual([...registered].sort())
    expect(registered).toContain('pending.acme.example')
    expect(items.slice(2).every((item) => item.source === 'registered')).toBe(true)
    expect((await h.call('GET', '/v1/admin/domains/EPHEMAIL.TEST')).json).toMatchObject({
      name: 'ephemail.test',
      source: 'configured',
      checkedAt: null,
    })
  })

  test('409 for a name registered or configured, 422 for a bad name or an unknown key, 400 for a bad type', async () => {
    const unknownKey = crypto.randomUUID()
    expectProblem(
      await register({ name: 'pending.acme.example', type: 'public' }),
      409,
      'conflict',
      'pending.acme.example is already registered',
    )
    expectProblem(
      await register({ name: 'ephemail.test', type: 'public' }),
      409,
      'conflict',
      'EPHEMAIL_DOMAINS',
    )
    expectProblem(
      await register({ name: 'not a domain', type: 'public' }),
      422,
      'invalid-domain',
      'not a domain',
    )
    expectProblem(await register({ name: 'localhost', type: 'public' }), 422, 'invalid-domain')
    expectProblem(
      await register({ name: 'keys.acme.example', type: 'public', privateToKeys: [unknownKey] }),
      422,
      'validation-failed',
      `no API key ${unknownKey}`,
    )
    expect(
      (await register({ name: 'keys.acme.example', type: 'public', privateToKeys: ['no-such-key'] })).status,
    ).toBe(400)
    expect((await h.call('GET', '/v1/admin/domains/keys.acme.example')).status).toBe(404)
    expect((await register({ name: 'typed.acme.example', type: 'gold' })).status).toBe(400)
    expectProblem(
      await h.call('DELETE', '/v1/admin/domains/ephemail.test'),
      409,
      'conflict',
      'configured in EPHEMAIL_DOMAINS, not registered: remove it there and restart',
    )
    expect((await h.call('GET', '/v1/domains')).json.domains).toContainEqual({
      name: 'ephemail.test',
      type: 'public',
    })
  })

  test('only the admin: 401 without a credential, 403 for a mailbox token and a key without the admin scope', async () => {
    const box = (await h.call('POST', '/v1/mailboxes', { token: null, body: {} })).json
    const key = await insertTestApiKey(h)
    const adminKey = await insertTestApiKey(h, { scopes: ['admin'] })
    for (const [method, path] of [
      ['GET', '/v1/admin/domains'],
      ['GET', '/v1/admin/domains/pending.acme.example'],
      ['POST', '/v1/admin/domains/pending.acme.example/verify'],
      ['DELETE', '/v1/admin/domains/pending.acme.example'],
    ] as const) {
      expectProblem(await h.call(method, path, { token: null }), 401, 'unauthorized')
      expectProblem(await h.call(method, path, { token: box.token }), 403, 'forbidden', 'admin')
      expectProblem(await h.call(method, path, { token: key.secret }), 403, 'forbidden')
    }
    expectProblem(await register({ name: 'sneaky.example', type: 'public' }, box.token), 403, 'forbidden')
    expectProblem(await register({ name: 'sneaky.example', type: 'public' }, null), 401, 'unauthorized')
    expect((await h.call('GET', '/v1/admin/domains/sneaky.example')).status).toBe(404)
    // A key with the admin scope administers domains.
    expect((await h.call('GET', '/v1/admin/domains', { token: adminKey.secret })).status).toBe(200)
  })
})

describe('domains per caller', () => {
  let h: Harness
  const dns = fakeMxResolver()
  let alice: { id: string; secret: string }
  let bob: { id: string; secret: string }

  beforeAll(async () => {
    h = await createApiHarness({ EPHEMAIL_MX_HOSTS: MX }, { mxResolver: dns })
    alice = await insertTestApiKey(h)
    bob = await insertTestApiKey(h)
    for (const name of ['alice.example', 'gold.example'])
      dns.table.set(name, [{ exchange: MX, priority: 10 }])
    const privateOne = await h.call('POST', '/v1/admin/domains', {
      body: { name: 'alice.example', type: 'custom', privateToKeys: [alice.id] },
    })
    expect(privateOne.json).toMatchObject({ status: 'verified', privateToKeys: [alice.id] })
    const premium = await h.call('POST', '/v1/admin/domains', {
      body: { name: 'gold.example', type: 'premium' },
    })
    expect(premium.json.status).toBe('verified')
  })
  afterAll(() => h?.close())

  const names = async (token: string | null, query = '') =>
    ((await h.call('GET', `/v1/domains${query}`, { token })).json.domains as { name: string }[]).map(
      (domain) => domain.name,
    )

  test('GET /v1/domains shows each caller the domains it may use, optionally of one type', async () => {
    expect(await names(null)).toEqual(['ephemail.test', 'vip.test'])
    expect(await names(alice.secret)).toEqual(['ephemail.test', 'vip.test', 'alice.example'])
    expect(await names(bob.secret)).toEqual(['ephemail.test', 'vip.test'])
    expect(await names(ADMIN_KEY)).toEqual(['ephemail.test', 'vip.test', 'alice.example', 'gold.example'])
    expect(await names(alice.secret, '?type=custom')).toEqual(['vip.test', 'alice.example'])
    expect(await names(ADMIN_KEY, '?type=premium')).toEqual(['gold.example'])
    expect(await names(null, '?type=premium')).toEqual([])
    expect((await h.call('GET', '/v1/domains?type=gold', { token: null })).status).toBe(400)
    // A credential is optional, but a wrong one is still refused.
    expectProblem(await h.call('GET', '/v1/domains', { token: 'eph_wrong0123456789' }), 401, 'unauthorized')
  })

  test('POST /v1/mailboxes refuses a domain the caller may not use, naming it', async () => {
    const create = (token: string | null, body: unknown) => h.call('POST', '/v1/mailboxes', { token, body })
    // Private to Alice's key: Bob is refused, Alice is not.
    expectProblem(
      await create(bob.secret, { domain: 'alice.example' }),
      422,
      'domain-not-allowed',
      'Domain "alice.example" (custom) is not open to this API key',
    )
    expect((await create(alice.secret, { domain: 'alice.example' })).json.domain).toBe('alice.example')
    expectProblem(await create(null, { domain: 'alice.example' }), 422, 'domain-not-allowed', 'alice.example')
    // Premium: not for anonymous callers (their plan has public and custom), fine for the admin.
    expectProblem(
      await create(null, { domain: 'gold.example' }),
      422,
      'domain-not-allowed',
      'Domain "gold.example" (premium) is not open to this caller',
    )
    expect((await create(ADMIN_KEY, { domain: 'gold.example' })).status).toBe(201)
  })

  test('domainType picks a random domain of that type, and must match a domain given with it', async () => {
    const create = (token: string | null, body: unknown) => h.call('POST', '/v1/mailboxes', { token, body })
    expect((await create(ADMIN_KEY, { domainType: 'premium' })).json.domain).toBe('gold.example')
    expect((await create(alice.secret, { domainType: 'custom', domain: 'alice.example' })).status).toBe(201)
    expectProblem(await create(null, { domainType: 'premium' }), 422, 'domain-not-allowed', 'premium')
    expectProblem(
      await create(ADMIN_KEY, { domainType: 'premium', domain: 'ephemail.test' }),
      422,
      'domain-type-mismatch',
    )
    expect((await create(null, { domainType: 'gold' })).status).toBe(400)
  })
})
