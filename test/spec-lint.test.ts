// The committed openapi.yaml under Spectral's spectral:oas and Redocly's recommended lint: no errors, and each warning justified.

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createConfig, lintFromString } from '@redocly/openapi-core'
import { Document, type RulesetDefinition, Spectral } from '@stoplight/spectral-core'
import * as Parsers from '@stoplight/spectral-parsers'
import { oas } from '@stoplight/spectral-rulesets'

const documentPath = join(import.meta.dir, '..', 'openapi.yaml')
const yamlText = readFileSync(documentPath, 'utf8')

interface Finding {
  linter: 'spectral' | 'redocly'
  severity: 'error' | 'warning' | 'info' | 'hint'
  rule: string
  /** JSON pointer of what the finding is about. */
  at: string
  message: string
}

/**
 * Warnings kept on purpose, by linter, rule and place; why each stays is in README.spec-lint.md ("Linting
 * the document"). Anything else, or one of these moving elsewhere, fails the test: fix it at the source
 * (the routes, src/server/http/routes/docs.ts) or justify it here and there.
 */
const JUSTIFIED: Record<string, string> = {
  'spectral info-contact #/info':
    'a self-hosted server: whoever runs it is the contact, and the project cannot know them',
  'redocly info-license #/info': 'the project has not chosen a license; the document must not invent one',
  'spectral operation-success-response #/paths/~1v1~1ws/get/responses':
    'the WebSocket handshake succeeds with 101 Switching Protocols; a 2xx would be a lie',
  'redocly operation-2xx-response #/paths/~1v1~1ws/get/responses':
    'the WebSocket handshake succeeds with 101 Switching Protocols; a 2xx would be a lie',
}

const pointer = (path: readonly (string | number)[]) =>
  `#/${path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`

const SPECTRAL_SEVERITY = ['error', 'warning', 'info', 'hint'] as const

async function spectralFindings(): Promise<Finding[]> {
  const spectral = new Spectral()
  spectral.setRuleset(oas as RulesetDefinition)
  const results = await spectral.run(new Document(yamlText, Parsers.Yaml, documentPath))
  return results.map((result) => ({
    linter: 'spectral',
    severity: SPECTRAL_SEVERITY[result.severity] ?? 'error',
    rule: String(result.code),
    at: pointer(result.path),
    message: result.message,
  }))
}

async function redoclyFindings(): Promise<Finding[]> {
  // The built-in recommended config: nothing read from disk or the network.
  const config = await createConfig({ extends: ['recommended'] })
  const problems = await lintFromString({ source: yamlText, absoluteRef: documentPath, config })
  return problems.map((problem) => ({
    linter: 'redocly',
    severity: problem.severity === 'error' ? 'error' : 'warning',
    rule: problem.ruleId,
    at: problem.location[0]?.pointer ?? '#',
    message: problem.message,
  }))
}

const keyOf = (finding: Finding) => `${finding.linter} ${finding.rule} ${finding.at}`
const describeFinding = (finding: Finding) =>
  `${finding.linter} ${finding.severity} ${finding.rule} at ${finding.at}: ${finding.message}`

describe('openapi.yaml under Spectral (spectral:oas) and Redocly (recommended)', () => {
  const findings = Promise.all([spectralFindings(), redoclyFindings()]).then((both) => both.flat())

  test('no errors', async () => {
    const errors = (await findings).filter((finding) => finding.severity === 'error')
    expect(errors.map(describeFinding)).toEqual([])
  })

  test('every warning is listed, and each one is justified', async () => {
    const warnings = (await findings).filter((finding) => finding.severity !== 'error')
    console.log(
      `${warnings.length} lint warnings:\n${warnings
        .map(
          (finding) =>
            `  ${describeFinding(finding)}\n    kept: ${JUSTIFIED[keyOf(finding)] ?? 'NOT JUSTIFIED'}`,
        )
        .join('\n')}`,
    )
    const unjustified = warnings.filter((finding) => !Object.hasOwn(JUSTIFIED, keyOf(finding)))
    expect(unjustified.map(describeFinding)).toEqual([])
  })

  test('every justification still matches a warning (a fixed one leaves the list)', async () => {
    const seen = new Set((await findings).map(keyOf))
    expect(Object.keys(JUSTIFIED).filter((key) => !seen.has(key))).toEqual([])
  })
})
