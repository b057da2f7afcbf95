// What mounting compatibility layers costs a native request: the same read through app.handle with
// EPHEMAIL_COMPAT empty and with all four layers mounted (one of them at the root), interleaved rounds.
//
//   bun bench/compat-overhead.ts [--requests 5000] [--repeat 7]
//
// In process (no sockets): the figure is the server's own time per request, metering included. Each
// round times `--requests` sequential GET /v1/mailboxes/{address}/messages on both apps; medians of the
// per-request microseconds and their ratio are printed.

import { createApiHarness } from '../test/support/api-harness.ts'
import { readArgs } from './support.ts'

const args = readArgs()
const REQUESTS = Number(args.get('requests') ?? 5000)
const REPEAT = Number(args.get('repeat') ?? 7)
const PLANS = JSON.stringify({ admin: { requests: 10_000_000, windowSeconds: 60 } })

async function setup(compat: string) {
  const harness = await createApiHarness({ EPHEMAIL_COMPAT: compat, EPHEMAIL_RATE_PLANS: PLANS })
  const { json } = await harness.call('POST', '/v1/mailboxes', { body: {} })
  const path = `/v1/mailboxes/${json.address}/messages`
  const request = () =>
    new Request(`http://localhost${path}`, {
      headers: { authorization: 'Bearer test-admin-key-0123456789abcdef' },
    })
  return { harness, request }
}

async function round(app: { handle(request: Request): Promise<Response> }, request: () => Request) {
  const started = Bun.nanoseconds()
  for (let i = 0; i < REQUESTS; i++) {
    const response = await app.handle(request())
    if (response.status !== 200) throw new Error(`status ${response.status}`)
    await response.arrayBuffer()
  }
  return (Bun.nanoseconds() - started) / 1000 / REQUESTS
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

const off = await setup('')
const on = await setup('tempmail-io,tempmailg,tempmail-worker,tempmail-v1')
await round(off.harness.app, off.request)
await round(on.harness.app, on.request)
const offTimes: number[] = []
const onTimes: number[] = []
for (let r = 0; r < REPEAT; r++) {
  offTimes.push(await round(off.harness.app, off.request))
  onTimes.push(await round(on.harness.app, on.request))
}
const offMedian = median(offTimes)
const onMedian = median(onTimes)
console.log(`native GET messages, ${REQUESTS} requests × ${REPEAT} rounds (median µs per request)`)
console.log(`  compat off: ${offMedian.toFixed(1)} µs`)
console.log(`  compat on (4 layers): ${onMedian.toFixed(1)} µs`)
console.log(`  on ÷ off: ${(onMedian / offMedian).toFixed(3)}`)
await off.harness.close()
await on.harness.close()
