// Command line `ephemail COMMAND ...` (bin/ephemail.mjs runs it under Bun): commands live in src/cli/, one file each.

import { createProcessIo } from './cli/process-io.ts'
import { runCli } from './cli/run.ts'

const io = createProcessIo()
const code = await runCli(process.argv.slice(2), io)
await io.drained()
process.exit(code)
