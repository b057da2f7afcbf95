// The layer rules in biome.json catch a bad import: each probe is linted in a scratch copy of the config.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const root = join(import.meta.dir, '..')
const biome = join(root, 'node_modules', '.bin', 'biome')

/** [file in the layer, import, whether the rules must refuse it] */
const PROBES: [string, string, boolean][] = [
  ['plugins/probe/index.ts', '#server/config.ts', true],
  ['plugins/probe/relative.ts', '../../src/server/config.ts', true],
  ['plugins/probe/core.ts', '#core/mailboxes.ts', true],
  ['src/core/probe.ts', '#server/config.ts', true],
  ['src/core/plugin.ts', '#plugins/auth/bearer/index.ts', true],
  ['src/contracts/probe.ts', '#plugins/auth/bearer/index.ts', true],
  ['src/lib/probe.ts', 'node:fs', true],
  ['src/lib/bun.ts', 'bun', true],
  ['src/lib/server.ts', '#server/config.ts', true],
  ['plugins/probe/allowed.ts', '#contracts/auth.ts', false],
  // Compatibility layers are doors over the core (src/core/compat.ts), never over the composition.
  ['plugins/compat/probe/core.ts', '#core/mailboxes.ts', false],
  ['plugins/compat/probe/server.ts', '#server/config.ts', true],
  ['src/core/allowed.ts', '#contracts/storage.ts', false],
  ['src/server/allowed.ts', '#plugins/auth/bearer/index.ts', false],
  ['src/lib/allowed.ts', './ids.ts', false],
  // The web inbox runs in the browser on the public API: src/lib only.
  ['src/web/probe.ts', '#core/mailboxes.ts', true],
  ['src/web/server.ts', '#server/config.ts', true],
  ['src/web/bun.ts', 'bun', true],
  ['src/web/allowed.ts', '#lib/events.ts', false],
  // The client runs in Bun, Node and the browser and speaks only the public API: src/lib only.
  ['src/client/probe.ts', '#server/config.ts', true],
  ['src/client/core.ts', '#core/mailboxes.ts', true],
  ['src/client/node.ts', 'node:fs', true],
  ['src/client/allowed.ts', '#lib/events.ts', false],
]

describe('layer rules (biome noRestrictedImports)', () => {
  let scratch: string
  let output: string

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ephemail-layers-'))
    const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8'))
    delete config.$schema
    config.vcs = { enabled: false }
    writeFileSync(join(scratch, 'biome.json'), JSON.stringify(config))
    for (const [file, specifier] of PROBES) {
      mkdirSync(join(scratch, dirname(file)), { recursive: true })
      writeFileSync(
        join(scratch, file),
        `import { probe } from '${specifier}'\n\nexport const used = probe\n`,
      )
    }
    const run = Bun.spawnSync([biome, 'lint', '--max-diagnostics=100', 'plugins', 'src'], { cwd: scratch })
    output = run.stdout.toString() + run.stderr.toString()
  })

  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  for (const [file, specifier, refused] of PROBES) {
    test(`${file} importing ${specifier} is ${refused ? 'refused' : 'allowed'}`, () => {
      const flagged = output
        .split('\n')
        .some((line) => line.startsWith(`${file}:1:`) && line.includes('noRestrictedImports'))
      expect({ file, flagged }).toEqual({ file, flagged: refused })
    })
  }
})
