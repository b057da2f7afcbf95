// Contract suites: a plugin names the contract tests it cannot pass, so they show as skipped instead of vanishing.

import { test } from 'bun:test'

export interface ContractOptions {
  /** Names of contract tests this plugin is known not to pass (a gap, not a regression). */
  skip?: string[]
}

/**
 * A `test` that skips the names listed in `skip`. Call `checkSkips()` once every test is declared:
 * a listed name that matches no test (renamed, or a typo) would otherwise hide nothing and say nothing.
 */
export function contractTest(suite: string, { skip = [] }: ContractOptions) {
  const declared = new Set<string>()
  function declare(name: string, body: () => Promise<unknown> | undefined, timeoutMs?: number) {
    declared.add(name)
    if (skip.includes(name)) test.skip(name, body, timeoutMs)
    else test(name, body, timeoutMs)
  }
  function checkSkips() {
    const unknown = skip.filter((name) => !declared.has(name))
    if (unknown.length > 0) throw new Error(`${suite}: skip names no contract test: ${unknown.join('; ')}`)
  }
  return { test: declare, checkSkips }
}
