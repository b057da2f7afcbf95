// The in-process queue against the shared queue contract.

import { runQueueContract } from '../../../test/contracts/queue.ts'
import { createInlineQueue } from './index.ts'

runQueueContract('inline', async ({ attempts, backoffMs }) => {
  const queue = createInlineQueue({ attempts, backoffMs })
  return { queue, dispose: () => queue.close() }
})
