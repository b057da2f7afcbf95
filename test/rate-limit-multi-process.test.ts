// Two API processes on one Redis and one PostgreSQL share an API key's budget: their successes together are the plan's limit.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createPostgresStorage } from '#plugins/storage/postgres/index.ts'
import { insertTestApiKey } from './support/api-keys.ts'
import { cleanEnv, type EphemailProcess, freePorts, spawnNpmStart } from './support/ephemail-process.ts'
import { createTestDatabase, postgresAvailable } from './support/postgres.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'

const root = join(import.meta.dir, '..')
const LIMIT = 20
const ready = (await postgresAvailable()) && (await redisAvailable())

describe.skipIf(!ready)('rate limits across two API processes on Redis', () => {
  const processes: EphemailProcess[] = []
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let ports: number[] = []
  let key = ''

  beforeAll(async () => {
    database = await createTestDatabase()
    ports = await freePorts(3)
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      EPHEMAIL_ADMIN_KEY: 'rate-limit-mp-admin-key-0123',
      EPHEMAIL_HOST: '127.0.0.1',
      EPHEMAIL_ROLES: 'api',
      // A run of its own: counters of other runs on the same Redis are not met.
      EPHEMAIL_REDIS_PREFIX: `ephemail-rl-mp-${Date.now()}`,
      EPHEMAIL_RATE_PLANS: JSON.stringify({ tiny: { requests: LIMIT, windowSeconds: 60 } }),
    }
    await Promise.all(
      ports.slice(0, 2).map(async (port) => {
        const child = spawnNpmStart(root, cleanEnv({ ...shared, EPHEMAIL_HTTP_PORT: String(port) }))
        processes.push(child)
        await child.waitForStdout(/HTTP API on/, 30_000)
      }),
    )
    // The key goes straight into the shared database (migrated by the processes above).
    const storage = createPostgresStorage({ url: database.url, poolSize: 1 })
    try {
      key = (await insertTestApiKey(storage, { plan: 'tiny' })).key
    } finally {
      await storage.close()
    }
  }, 90_000)

  afterAll(async () => {
    for (const child of processes) child.killAll()
    await Bun.sleep(200)
    await database?.drop()
  })

  test('concurrent requests spread over both processes: exactly the limit succeed, the rest get 429', async () => {
    const requests = Array.from({ length: 50 }, (_, i) =>
      fetch(`http://127.0.0.1:${ports[i % 2]}/v1/domains`, { headers: { authorization: `Bearer ${key}` } }),
    )
    const answers = await Promise.all(requests)
    const statuses = answers.map((answer) => answer.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT)
    expect(statuses.filter((status) => status === 429)).toHaveLength(50 - LIMIT)
    // One counter behind both: every count from 1 to 50 was handed out once, whichever process asked.
    const used = answers.map((answer) => Number(answer.headers.get('x-ratelimit-used'))).sort((a, b) => a - b)
    expect(used).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    for (const answer of answers) {
      expect(answer.headers.get('ratelimit-policy')).toBe(`"tiny";q=${LIMIT};w=60`)
      await answer.body?.cancel()
    }
    // The admin key has its own budget in both processes.
    const admin = await fetch(`http://127.0.0.1:${ports[1]}/v1/domains`, {
      headers: { authorization: 'Bearer rate-limit-mp-admin-key-0123' },
    })
    expect(admin.status).toBe(200)
  })
})
