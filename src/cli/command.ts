// What every command module exports: its help text, its options and a run function that returns the exit code.

import type { OptionSpecs, ParsedArgs } from './args.ts'

/** Where a command writes and what it reads; the process's own streams and environment in `src/cli.ts`. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>
  /** A line (or lines) on stdout; a newline is added. */
  out(text: string): void
  /** Exact bytes on stdout (`read --raw`). */
  outBytes(bytes: Uint8Array): Promise<void>
  /** A line on stderr; a newline is added. */
  err(text: string): void
}

export interface Command {
  readonly name: string
  /** One line for the overall help. */
  readonly summary: string
  /** Synopsis after `ephemail`, e.g. `wait-otp ADDRESS [--timeout DURATION]`. */
  readonly synopsis: string
  /** Paragraphs printed between the synopsis and the options. */
  readonly details?: string
  readonly options: OptionSpecs
  /** How many arguments besides options, and their names for a usage error (`ADDRESS`). */
  readonly positionals: { readonly min: number; readonly max: number; readonly names: readonly string[] }
  run(args: ParsedArgs, io: CliIo): Promise<number>
}

/** Exit codes: 0 done, 1 the server refused or nothing arrived in time, 2 the command was called wrongly. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
