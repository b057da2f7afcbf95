// Writes (--write) or checks (--check) deploy/ephemail.config.schema.json, the config file's JSON Schema for editors.

import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_FILE_SCHEMA } from '#server/config-file.ts'

export const CONFIG_SCHEMA_PATH = join(import.meta.dir, '..', 'deploy', 'ephemail.config.schema.json')

/** The schema as JSON (TypeBox's own symbols are not JSON and drop out), with a title and draft for editors. */
export function configSchemaJson(): string {
  const document = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Ephemail config file (ephemail.config.json); every field is described in deploy/README.md',
    ...JSON.parse(JSON.stringify(CONFIG_FILE_SCHEMA)),
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

if (import.meta.main) {
  const mode = process.argv[2]
  if (mode === '--write') {
    writeFileSync(CONFIG_SCHEMA_PATH, configSchemaJson())
    // Biome's layout, so `npm run lint` stays clean; --check compares the documents, not the layout.
    spawnSync(join(import.meta.dir, '..', 'node_modules', '.bin', 'biome'), [
      'format',
      '--write',
      CONFIG_SCHEMA_PATH,
    ])
  } else if (mode === '--check') {
    if (
      !Bun.deepEquals(JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')), JSON.parse(configSchemaJson()))
    ) {
      console.error(`${CONFIG_SCHEMA_PATH} is stale: run bun scripts/config-schema.ts --write`)
      process.exit(1)
    }
  } else {
    console.error('usage: bun scripts/config-schema.ts --write | --check')
    process.exit(2)
  }
}
