// The storage rate limiter against the shared contract, on PGlite and on the real PostgreSQL.

import { afterAll, beforeAll, describe } from 'bun:test'
import type { Storage } from '#contracts/storage.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { createPostgresStorage } from '#plugins/storage/postgres/index.ts'
import { runRateLimiterContract } from '../../../test/contracts/rate-limit.ts'
import { createTestDatabase, postgresAvailable } from '../../../test/support/postgres.ts'
import { createStorageRateLimiter } from './index.ts'

describe('storage on PGlite', () => {
  let storage: Storage
  beforeAll(async () => {
    storage = createPgliteStorage()
    await storage.migrate()
  })
  afterAll(() => storage.close())
  runRateLimiterContract('storage (PGlite)', () => createStorageRateLimiter({ storage }))
})

const postgresIsUp = await postgresAvailable()

describe.skipIf(!postgresIsUp)('storage on PostgreSQL', () => {
  let storage: Storage
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  beforeAll(async () => {
    database = await createTestDatabase()
    storage = createPostgresStorage({ url: database.url, poolSize: 10 })
    await storage.migrate()
  })
  afterAll(async () => {
    await storage.close()
    await database.drop()
  })
  runRateLimiterContract('storage (PostgreSQL)', () => createStorageRateLimiter({ storage }))
})
