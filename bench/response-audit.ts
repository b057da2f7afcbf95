// What the test suite's response audit costs: loading the contract from openapi.yaml once, and checking one
// real response (a created mailbox, a message list) against it, after its validator is compiled.
//
//   bun bench/response-audit.ts [--checks 5000]
//

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createApiHarness } from '../test/support/api-harness.ts'
import { loadResponseContract, type SeenResponse } from '../test/support/response-audit/contract.ts'

const { values } = parseArgs({ options: { checks: { type: 'string', default: '5000' } } })
const checks = Number(values.checks)

let started = performance.now()
const contract = await loadResponseContract(readFileSync(join(import.meta.dir, '..', 'openapi.yaml'), 'utf8'))
console.log(
  `contract loaded (dereferenced, ${contract.operationCount} operations): ${(performance.now() - started).toFixed(0)} ms`,
)

const h = await createApiHarness()
const seen = async (method: string, path: string, body?: unknown): Promise<SeenResponse> => {
  const response = await h.call(method, path, body === undefined ? {} : { body })
  return { method, path, status: response.status, headers: response.headers, body: response.text }
}
const cases = [
  await seen('POST', '/v1/mailboxes', { localPart: 'bench' }),
  await seen('GET', '/v1/mailboxes/bench%40ephemail.test/messages'),
]
for (const response of cases) {
  started = performance.now()
  contract.check(response)
  const first = performance.now() - started
  started = performance.now()
  for (let i = 0; i < checks; i++)
    if (contract.check(response).problems.length > 0) throw new Error(`${response.path} does not pass`)
  const each = ((performance.now() - started) / checks) * 1000
  console.log(
    `${response.method} ${response.path} → ${response.status}: first check (compiles) ${first.toFixed(1)} ms, then ${each.toFixed(1)} µs per response`,
  )
}
await h.close()
