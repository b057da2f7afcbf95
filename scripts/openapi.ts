// Writes (--write) or checks (--check) openapi.yaml and what is generated from it: the client's types and build.

// The types come from openapi-typescript in the tools/codegen workspace, which pins TypeScript 5 beside it:
// the repo's TypeScript 7 breaks openapi-typescript, so it is never run from the root's node_modules.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateOpenApiYaml } from '#server/openapi-source.ts'
import { buildClient, CLIENT_BUILD_FILES, CLIENT_DIST } from './client-build.ts'

const root = join(import.meta.dir, '..')
const openapiPath = join(root, 'openapi.yaml')
const schemaTypesPath = join(root, 'src', 'client', 'schema.d.ts')
/** Installed by `npm ci` (tools/codegen is a workspace); nested there because of its TypeScript 5. */
const generatorBin = join(root, 'tools', 'codegen', 'node_modules', '.bin', 'openapi-typescript')

/** The client's types for a document, from openapi-typescript reading it on stdin. */
function generateSchemaTypes(openapiYaml: string): string {
  if (!existsSync(generatorBin))
    throw new Error(`${generatorBin} is missing: run \`npm ci\` (it installs the tools/codegen workspace)`)
  const result = spawnSync(generatorBin, [], { input: openapiYaml, encoding: 'utf8' })
  if (result.status !== 0)
    throw new Error(`openapi-typescript failed (${result.status}): ${result.stderr || result.error}`)
  return result.stdout
}

const mode = process.argv[2]
if (mode !== '--write' && mode !== '--check') {
  console.error('usage: bun scripts/openapi.ts --write | --check')
  process.exit(2)
}

const openapiYaml = await generateOpenApiYaml()
const schemaTypes = generateSchemaTypes(openapiYaml)

if (mode === '--write') {
  writeFileSync(openapiPath, openapiYaml)
  writeFileSync(schemaTypesPath, schemaTypes)
  const built = await buildClient(root)
  // Emptied first, so a declaration of a removed source file does not linger.
  rmSync(join(root, CLIENT_DIST), { recursive: true, force: true })
  mkdirSync(join(root, CLIENT_DIST), { recursive: true })
  for (const [path, text] of Object.entries(built)) writeFileSync(join(root, path), text)
  console.log(`wrote openapi.yaml, src/client/schema.d.ts, ${CLIENT_BUILD_FILES.join(', ')}`)
} else {
  const stale: string[] = []
  const differs = (path: string, expected: string) =>
    !existsSync(path) || readFileSync(path, 'utf8') !== expected
  if (differs(openapiPath, openapiYaml)) stale.push('openapi.yaml (the routes changed)')
  if (differs(schemaTypesPath, schemaTypes)) stale.push('src/client/schema.d.ts (from openapi.yaml)')
  const built = await buildClient(root)
  for (const [path, text] of Object.entries(built))
    if (differs(join(root, path), text)) stale.push(`${path} (the client's build)`)
  const distDir = join(root, CLIENT_DIST)
  for (const name of existsSync(distDir) ? readdirSync(distDir) : [])
    if (!(`${CLIENT_DIST}/${name}` in built)) stale.push(`${CLIENT_DIST}/${name} (no longer built)`)
  if (stale.length > 0) {
    console.error(`out of date: ${stale.join('; ')}. Run \`npm run openapi\` and commit the result`)
    process.exit(1)
  }
  console.log('openapi.yaml, the client types and the client build match the routes')
}
