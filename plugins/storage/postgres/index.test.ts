// The storage contract on the real PostgreSQL server, and what only it has: processes sharing one database.

import { expect, test } from 'bun:test'
import { HOUR, mailbox, runStorageContract } from '../../../test/contracts/storage.ts'
import { createTestDatabase, postgresAvailable } from '../../../test/support/postgres.ts'
import { createPostgresStorage } from './index.ts'

const hasPostgres = await postgresAvailable()
if (hasPostgres) {
  runStorageContract('postgres', async () => {
    const database = await createTestDatabase()
    return { storage: createPostgresStorage({ url: database.url, poolSize: 4 }), teardown: database.drop }
  })

  test('postgres: processes starting together on a fresh database migrate it once, without clashing', async () => {
    const database = await createTestDatabase()
    const starters = Array.from({ length: 4 }, () =>
      createPostgresStorage({ url: database.url, poolSize: 2 }),
    )
    try {
      await Promise.all(starters.map((storage) => storage.migrate()))
      const created = await Promise.all(
        starters.map((storage, i) =>
          storage.insertMailbox(mailbox(`starter${i}`, new Date(Date.now() + HOUR))),
        ),
      )
      expect(created).toEqual(['created', 'created', 'created', 'created'])
    } finally {
      await Promise.all(starters.map((storage) => storage.close()))
      await database.drop()
    }
  })
}
