// The storage contract on embedded PGlite, in memory.

import { runStorageContract } from '../../../test/contracts/storage.ts'
import { createPgliteStorage } from './index.ts'

runStorageContract('pglite (in memory)', async () => ({
  storage: createPgliteStorage(),
  teardown: async () => {},
}))
