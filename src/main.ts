// Entry point of `npm start`: the CLI's `serve` command (src/cli/serve.ts) with this process's arguments.

import { createProcessIo } from './cli/process-io.ts'
import { runCli } from './cli/run.ts'

const io = createProcessIo()
const code = await runCli(['serve', ...process.argv.slice(2)], io)
await io.drained()
process.exit(code)
