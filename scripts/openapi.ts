// Writes (--write) or checks (--check) openapi.yaml against the document the routes generate.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateOpenApiYaml } from '#server/openapi-source.ts'

const target = join(import.meta.dir, '..', 'openapi.yaml')
const generated = await generateOpenApiYaml()
const mode = process.argv[2]

if (mode === '--write') {
  writeFileSync(target, generated)
  console.log(`wrote ${target}`)
} else if (mode === '--check') {
  const committed = readFileSync(target, 'utf8')
  if (committed !== generated) {
    console.error('openapi.yaml is out of date with the routes: run `npm run openapi` and commit the result')
    process.exit(1)
  }
  console.log('openapi.yaml matches the routes')
} else {
  console.error('usage: bun scripts/openapi.ts --write | --check')
  process.exit(2)
}
