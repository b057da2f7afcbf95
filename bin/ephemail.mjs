#!/usr/bin/env node
// `npx ephemail ...`: runs the TypeScript command line under the project's own Bun.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bun = join(root, 'node_modules', '.bin', 'bun')
const result = spawnSync(bun, [join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(result.status ?? 1)
