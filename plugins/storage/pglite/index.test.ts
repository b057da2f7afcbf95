// The storage contract on embedded PGlite, in memory: in the calling thread and on its own thread as the server runs it.

import { runStorageContract } from '../../../test/contracts/storage.ts'
import { create, createPgliteStorage } from './index.ts'

runStorageContract('pglite (in memory)', async () => ({
  storage: createPgliteStorage(),
  teardown: async () => {},
}))

runStorageContract('pglite (in memory, own thread)', async () => {
  const storage = create({})
  return { storage, teardown: () => storage.close() }
})
