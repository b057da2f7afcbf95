import { create as createPglite } from '#plugins/storage/pglite/index.ts'
import { createApiHarness } from './test/support/api-harness.ts'
import { loadSeedMessages, mutation } from './test/support/mutate.ts'
const seeds = loadSeedMessages()
const h = await createApiHarness({}, { storage: createPglite({}) })
const box = (await h.call('POST', '/v1/mailboxes', { token: null, body: { ttlSeconds: 86_400 } })).json
let last = performance.now(); let gap = 0
setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last - 2); last = now }, 2)
await Bun.sleep(50)
for (let i = 0; i < 6; i++) { const m = mutation(seeds, 1, i); gap = 0; last = performance.now(); const t = performance.now(); await h.deliver(m.raw, [box.address]); await h.processed(); console.log(i, m.kind.slice(0, 30), m.raw.byteLength, 'gap', Math.round(gap), 'total', Math.round(performance.now() - t)); await Bun.sleep(20) }
process.exit(0)
