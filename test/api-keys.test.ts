// API keys end to end through the HTTP app: issued once and stored as a digest, scopes, plans, allowed domains,
// ownership of mailboxes and webhooks, revocation (requests and open streams), and the per-mailbox message limit.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { createApiHarness, fixture } from './support/api-harness.ts'
import { expectProblem, type Harness } from './support/problem.ts'

const PLANS = JSON.stringify({
  small: { mailboxesPerHour: 2, messagesPerMailbox: 2 },
  'vip-only': { domainTypes: ['custom'] },
})

let h: Harness
beforeAll(async () => {
  h = await createApiHarness({ EPHEMAIL_RATE_PLANS: PLANS, EPHEMAIL_WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32' })
})
afterAll(() => h?.close())

async function issue(body: Record<string, unknown> = {}) {
  const response = await h.call('POST', '/v1/admin/keys', { body: { name: 'test', ...body } })
  expect(response.status).toBe(201)
  return response.json as { id: string; key: string; prefix: string; scopes: string[]; plan: string }
}

describe('issuing and managing keys', () => {
  test('the key is shown once, stored only as its SHA-256, and listed later by prefix', async () => {
    const issued = await issue({ name: 'ci', scopes: ['read', 'write'] })
    expect(issued.key).toMatch(/^eph_[A-Za-z0-9_-]{43}$/)
    expect(issued.prefix).toBe(issued.key.slice(0, 12))
    expect(issued).toMatchObject({ name: 'ci', scopes: ['read', 'write'], plan: 'default', lastUsedAt: null })

    const shown = await h.call('GET', `/v1/admin/keys/${issued.id}`)
    expect(shown.status).toBe(200)
    expect(shown.text).not.toContain(issued.key)
    expect(shown.json.key).toBeUndefined()
    const listed = await h.call('GET', '/v1/admin/keys')
    expect(listed.json.items.map((key: { id: string }) => key.id)).toContain(issued.id)
    expect(listed.text).not.toContain(issued.key)

    const digest = createHash('sha256').update(issued.key).digest('hex')
    expect((await h.storage.findApiKeyByHash(digest, new Date()))?.id).toBe(issued.id)
  })

  test('a key works at once, records its last use, and stops at once when revoked', async () => {
    const issued = await issue()
    const box = await h.call('POST', '/v1/mailboxes', { token: issued.key })
    expect(box.status).toBe(201)
    expect((await h.call('GET', `/v1/admin/keys/${issued.id}`)).json.lastUsedAt).not.toBeNull()
    expect((await h.call('DELETE', `/v1/admin/keys/${issued.id}`)).status).toBe(204)
    expectProblem(
      await h.call('GET', `/v1/mailboxes/${box.json.address}`, { token: issued.key }),
      401,
      'unauthorized',
    )
    expectProblem(await h.call('DELETE', `/v1/admin/keys/${issued.id}`), 404, 'not-found')
    // The mailbox outlives its key, for the admin and its own token.
    expect((await h.call('GET', `/v1/mailboxes/${box.json.address}`, { token: box.json.token })).status).toBe(
      200,
    )
  })

  test('PATCH changes scopes and plan on the next request; bad values are 422 problems naming them', async () => {
    const issued = await issue()
    const patched = await h.call('PATCH', `/v1/admin/keys/${issued.id}`, {
      body: { scopes: ['read'], name: 'read only', plan: 'small' },
    })
    expect(patched.json).toMatchObject({ scopes: ['read'], name: 'read only', plan: 'small' })
    expectProblem(
      await h.call('POST', '/v1/mailboxes', { token: issued.key }),
      403,
      'insufficient-scope',
      '"write" scope',
    )
    expectProblem(
      await h.call('PATCH', `/v1/admin/keys/${issued.id}`, { body: { plan: 'gold' } }),
      422,
      'unknown-plan',
      'Plan "gold" is not configured',
    )
    expectProblem(
      await h.call('POST', '/v1/admin/keys', { body: { name: 'x', allowedDomains: ['nowhere.test'] } }),
      422,
      'unknown-domain',
      'nowhere.test',
    )
    expectProblem(
      await h.call('POST', '/v1/admin/keys', { body: { name: 'x', expiresAt: '2001-01-01T00:00:00Z' } }),
      422,
      'validation-failed',
      'not in the future',
    )
    expectProblem(
      await h.call('POST', '/v1/admin/keys', { body: { name: 'x', scopes: ['root'] } }),
      400,
      'validation-failed',
    )
  })

  test('only the admin key or an admin-scoped key manages keys', async () => {
    const plain = await issue()
    const box = (await h.call('POST', '/v1/mailboxes', { token: null })).json
    for (const token of [plain.key, box.token])
      expectProblem(await h.call('GET', '/v1/admin/keys', { token }), 403, 'forbidden', 'admin')
    expectProblem(await h.call('GET', '/v1/admin/keys', { token: null }), 401, 'unauthorized')
    const admin = await issue({ scopes: ['admin'] })
    expect((await h.call('GET', '/v1/admin/keys', { token: admin.key })).status).toBe(200)
    expect(
      (await h.call('POST', '/v1/admin/keys', { token: admin.key, body: { name: 'made' } })).status,
    ).toBe(201)
  })
})

describe('what a key owns', () => {
  test('a key lists and reads only its own mailboxes; another key gets 404 for them', async () => {
    const a = await issue()
    const b = await issue()
    const boxA = (await h.call('POST', '/v1/mailboxes', { token: a.key })).json
    const boxB = (await h.call('POST', '/v1/mailboxes', { token: b.key })).json
    const listA = (await h.call('GET', '/v1/mailboxes', { token: a.key })).json.items.map(
      (box: { address: string }) => box.address,
    )
    expect(listA).toEqual([boxA.address])
    expectProblem(await h.call('GET', `/v1/mailboxes/${boxA.address}`, { token: b.key }), 404, 'not-found')
    expectProblem(await h.call('DELETE', `/v1/mailboxes/${boxA.address}`, { token: b.key }), 404, 'not-found')
    const all = (await h.call('GET', '/v1/mailboxes')).json.items.map(
      (box: { address: string }) => box.address,
    )
    expect(all).toEqual(expect.arrayContaining([boxA.address, boxB.address]))
  })

  test("a key's webhook without an address gets its own mailboxes' mail only", async () => {
    const a = await issue()
    const b = await issue()
    const hook = await h.call('POST', '/v1/webhooks', { token: a.key, body: { url: 'http://127.0.0.1:9/a' } })
    expect(hook.status).toBe(201)
    expect(hook.json.address).toBeNull()
    const boxA = (await h.call('POST', '/v1/mailboxes', { token: a.key })).json
    const boxB = (await h.call('POST', '/v1/mailboxes', { token: b.key })).json
    const open = (await h.call('POST', '/v1/mailboxes', { token: null })).json
    const wanted = async (mailboxId: string) =>
      (await h.storage.findWebhooksForMailbox(mailboxId)).map((webhook) => webhook.id)
    expect(await wanted(boxA.id)).toContain(hook.json.id)
    expect(await wanted(boxB.id)).not.toContain(hook.json.id)
    expect(await wanted(open.id)).not.toContain(hook.json.id)
    expectProblem(await h.call('GET', `/v1/webhooks/${hook.json.id}`, { token: b.key }), 404, 'not-found')
    expect((await h.call('GET', '/v1/webhooks', { token: b.key })).text).not.toContain(hook.json.id)
  })

  test('messages of a key-owned mailbox: the key reads them, raw and attachments too; another key gets 404', async () => {
    const a = await issue()
    const b = await issue()
    const box = (await h.call('POST', '/v1/mailboxes', { token: a.key })).json
    const delivered = await h.deliver(fixture('invoice-attachments.eml'), [box.address])
    const id = delivered.stored[0]?.messageId as string
    await h.processed()
    const message = await h.call('GET', `/v1/messages/${id}`, { token: a.key })
    expect(message.status).toBe(200)
    const attachment = message.json.attachments[0].id
    for (const path of [
      `/v1/messages/${id}`,
      `/v1/messages/${id}/raw`,
      `/v1/messages/${id}/attachments/${attachment}`,
    ]) {
      expect((await h.call('GET', path, { token: a.key })).status).toBe(200)
      expectProblem(await h.call('GET', path, { token: b.key }), 404, 'not-found')
    }
  })
})

describe('plans, scopes and domains', () => {
  test("a key's plan caps mailboxes per hour with a 429 and Retry-After", async () => {
    const small = await issue({ plan: 'small' })
    for (let i = 0; i < 2; i++)
      expect((await h.call('POST', '/v1/mailboxes', { token: small.key })).status).toBe(201)
    const third = await h.call('POST', '/v1/mailboxes', { token: small.key })
    expectProblem(third, 429, 'mailbox-quota-exceeded', 'allows 2 new mailboxes per hour')
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  test("a key's plan caps the messages a mailbox holds: RCPT is refused while it is full, and accepted again after a delete", async () => {
    const small = await issue({ plan: 'small' })
    const box = (await h.call('POST', '/v1/mailboxes', { token: small.key })).json
    for (let i = 0; i < 2; i++) {
      expect(await h.funnel.checkRecipient(box.address)).toMatchObject({ accepted: true })
      await h.deliver(fixture('confirm-de-qp.eml'), [box.address])
    }
    expect(await h.funnel.checkRecipient(box.address)).toEqual({ accepted: false, reason: 'mailbox-full' })
    const first = (await h.call('GET', `/v1/mailboxes/${box.address}/messages`, { token: small.key })).json
      .items[0]
    expect((await h.call('DELETE', `/v1/messages/${first.id}`, { token: small.key })).status).toBe(204)
    expect(await h.funnel.checkRecipient(box.address)).toMatchObject({ accepted: true })
  })

  test('a read-only key reads but cannot change; a write-only key cannot read', async () => {
    const owner = await issue()
    const box = (await h.call('POST', '/v1/mailboxes', { token: owner.key })).json
    await h.call('PATCH', `/v1/admin/keys/${owner.id}`, { body: { scopes: ['read'] } })
    expect((await h.call('GET', `/v1/mailboxes/${box.address}`, { token: owner.key })).status).toBe(200)
    expectProblem(
      await h.call('DELETE', `/v1/mailboxes/${box.address}`, { token: owner.key }),
      403,
      'insufficient-scope',
    )
    await h.call('PATCH', `/v1/admin/keys/${owner.id}`, { body: { scopes: ['write'] } })
    expectProblem(
      await h.call('GET', `/v1/mailboxes/${box.address}`, { token: owner.key }),
      403,
      'insufficient-scope',
      '"read" scope',
    )
  })

  test('allowed domains and plan domain types narrow where a key may create mailboxes', async () => {
    const vipOnly = await issue({ allowedDomains: ['vip.test'] })
    const random = await h.call('POST', '/v1/mailboxes', { token: vipOnly.key })
    expect(random.json.domain).toBe('vip.test')
    expectProblem(
      await h.call('POST', '/v1/mailboxes', { token: vipOnly.key, body: { domain: 'ephemail.test' } }),
      422,
      'domain-not-allowed',
      'ephemail.test',
    )
    const customPlan = await issue({ plan: 'vip-only' })
    expect((await h.call('POST', '/v1/mailboxes', { token: customPlan.key })).json.domain).toBe('vip.test')
    expectProblem(
      await h.call('POST', '/v1/mailboxes', { token: customPlan.key, body: { domain: 'ephemail.test' } }),
      422,
      'domain-not-allowed',
    )
  })
})

describe('revocation reaches open streams', () => {
  test('an event stream opened with a key ends when the key is revoked', async () => {
    const issued = await issue()
    const box = (await h.call('POST', '/v1/mailboxes', { token: issued.key })).json
    const response = await h.app.handle(
      new Request(`http://localhost/v1/mailboxes/${box.address}/events`, {
        headers: { authorization: `Bearer ${issued.key}` },
      }),
    )
    expect(response.status).toBe(200)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read() // the retry: preamble
    expect((await h.call('DELETE', `/v1/admin/keys/${issued.id}`)).status).toBe(204)
    let done = false
    const deadline = Date.now() + 5_000
    while (!done && Date.now() < deadline) done = (await reader.read()).done
    expect(done).toBe(true)
  })
})
