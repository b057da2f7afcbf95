// Command-line arguments: util.parseArgs with the option descriptions help is printed from, and usage errors (exit 2).

import { parseArgs } from 'node:util'

/** A mistake in how the command was called: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** What the value looks like in help (`--ttl DURATION`); string options only. */
  valueName?: string
  description: string
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

export interface ParsedArgs {
  values: Readonly<Record<string, string | boolean | undefined>>
  positionals: readonly string[]
}

export const HELP_OPTION: OptionSpecs = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
}

export const JSON_OPTION: OptionSpecs = {
  json: { type: 'boolean', description: 'print one JSON document on stdout (for scripts)' },
}

export const SERVER_OPTIONS: OptionSpecs = {
  url: {
    type: 'string',
    valueName: 'URL',
    description: 'Ephemail server (default: $EPHEMAIL_URL, else http://127.0.0.1:3000)',
  },
  key: {
    type: 'string',
    valueName: 'KEY',
    description:
      'API key, admin key or mailbox token (default: $EPHEMAIL_KEY, else a remembered mailbox token)',
  },
}

/** Parses `argv` strictly: an unknown option, a missing value or a stray positional is a UsageError. */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionSpecs,
  positionals: { min: number; max: number; names: readonly string[] },
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          spec.short ? { type: spec.type, short: spec.short } : { type: spec.type },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    // parseArgs names the option in its message ("Unknown option '--bogus'..."); keep its first sentence.
    throw new UsageError(((error as Error).message.split('. ')[0] ?? 'bad arguments').replace(/\.$/, ''))
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values.help) return { values, positionals: parsed.positionals }
  if (parsed.positionals.length < positionals.min)
    throw new UsageError(`${positionals.names.slice(parsed.positionals.length).join(' ')} is missing`)
  if (parsed.positionals.length > positionals.max)
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`)
  return { values, positionals: parsed.positionals }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `90`, `90s`, `1.5m`, `2h`, `500ms`, `7d` → milliseconds; a bare number is seconds. */
export function parseDuration(raw: string, option: string): number {
  const match = DURATION.exec(raw.trim())
  if (!match) throw new UsageError(`--${option} "${raw}" is not a duration such as 90, 90s, 10m or 2h`)
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS
  const ms = Math.round(Number(match[1]) * UNIT_MS[unit])
  if (ms <= 0) throw new UsageError(`--${option} must be longer than zero`)
  return ms
}

/** The option lines of a help text, aligned. */
export function describeOptions(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`
    return [flag, spec.description] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length))
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`).join('\n')
}
