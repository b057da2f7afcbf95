#!/usr/bin/env node
// `npx ephemail ...`: runs the TypeScript command line under Bun (the project's own, else the one on PATH).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const localBun = join(root, 'node_modules', '.bin', 'bun')
const bun = existsSync(localBun) ? localBun : 'bun'
const child = spawn(bun, [join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' })

// `ephemail serve` stopped through this wrapper's pid must stop the server too, not orphan it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    child.kill(signal)
  })
child.on('error', (error) => {
  console.error(`ephemail: cannot run Bun (${bun}): ${error.message}; install it from https://bun.sh`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128 + (signalNumbers[signal] ?? 0)))
})

const signalNumbers = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }
