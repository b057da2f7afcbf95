// src/lib stays edge-agnostic: it bundles for the browser and runs under plain Node, not only Bun.

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const libDir = join(import.meta.dir, '..', 'src', 'lib')
const outDir = mkdtempSync(join(tmpdir(), 'ephemail-lib-'))
afterAll(() => rmSync(outDir, { recursive: true, force: true }))

test('no module in src/lib imports node:* or bun:*', () => {
  const modules = readdirSync(libDir, { recursive: true, encoding: 'utf8' }).filter((name) =>
    name.endsWith('.ts'),
  )
  for (const file of modules) {
    const source = readFileSync(join(libDir, file), 'utf8')
    expect(source, file).not.toMatch(/from ['"](node:|bun:|bun['"])/)
    expect(source, file).not.toMatch(/\bBun\.|\bprocess\.|\bBuffer\b/)
  }
})

test('src/lib bundles for the browser target', async () => {
  const result = await Bun.build({
    entrypoints: [join(libDir, 'index.ts')],
    target: 'browser',
    outdir: outDir,
    naming: 'browser.js',
  })
  expect(result.logs.filter((log) => log.level === 'error')).toEqual([])
  expect(result.success).toBe(true)
})

test('the bundle parses a real message and applies address rules under plain Node', async () => {
  const result = await Bun.build({
    entrypoints: [join(libDir, 'index.ts')],
    target: 'node',
    format: 'esm',
    outdir: outDir,
    naming: 'node.mjs',
  })
  expect(result.success).toBe(true)
  const script = join(outDir, 'run.mjs')
  writeFileSync(
    script,
    `import { readFileSync } from 'node:fs'
import * as lib from './node.mjs'
const parsed = await lib.parseMail(new Uint8Array(readFileSync(process.argv[2])))
console.log(JSON.stringify({
  subject: parsed.subject,
  recipient: lib.normalizeRecipient('James47+Signup@Ephemail.TEST'),
  uuid: lib.isUuid(lib.uuidv7()),
  digest: await lib.sha256Hex('abc'),
}))`,
  )
  const run = Bun.spawnSync(['node', script, join(import.meta.dir, 'fixtures', 'confirm-de-qp.eml')])
  expect(run.stderr.toString()).toBe('')
  expect(JSON.parse(run.stdout.toString())).toEqual({
    subject: 'Bestätigen Sie Ihre E-Mail-Adresse',
    recipient: { localPart: 'james47', domain: 'ephemail.test' },
    uuid: true,
    digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  })
})
