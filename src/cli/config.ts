// `ephemail config`: the configuration a server started here would run with, read from the environment, secrets masked.

import { HELP_OPTION, JSON_OPTION } from './args.ts'
import { type Command, EXIT_OK, EXIT_USAGE } from './command.ts'
import { DEFAULT_URL } from './connection.ts'
import { MASK, maskSecrets, maskUrl } from './mask.ts'
import { createTokenStore, stateDirectory } from './token-store.ts'

export const configCommand: Command = {
  name: 'config',
  summary: 'show the effective configuration from the environment (secrets masked)',
  synopsis: 'config [--role ROLES] [--json]',
  details: [
    'Reads the same variables as `ephemail serve` and `npm start`, with their defaults, and reports the',
    'first bad one as `serve` would (exit 2). Keys, secrets, passwords in URLs and TLS private keys are',
    `printed as ${MASK}. The client settings (EPHEMAIL_URL, EPHEMAIL_KEY, the token file) follow.`,
  ].join('\n'),
  options: {
    role: {
      type: 'string',
      valueName: 'ROLES',
      description: 'roles to report, as `serve --role` takes them (default: $EPHEMAIL_ROLES)',
    },
    ...JSON_OPTION,
    ...HELP_OPTION,
  },
  positionals: { min: 0, max: 0, names: [] },
  async run({ values }, io) {
    // Loaded here, not at the top: the server's configuration module is only needed by this command.
    const { ConfigError, loadConfig } = await import('#server/config.ts')
    let server: ReturnType<typeof loadConfig>
    try {
      server = loadConfig({ ...io.env }, typeof values.role === 'string' ? ['--role', values.role] : [])
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      io.err(`ephemail config: configuration error: ${error.message}`)
      return EXIT_USAGE
    }
    const key = io.env.EPHEMAIL_KEY?.trim()
    const document = {
      server: maskSecrets(server),
      client: {
        url: maskUrl(io.env.EPHEMAIL_URL?.trim() || DEFAULT_URL),
        key: key ? MASK : null,
        tokenFile: createTokenStore(stateDirectory(io.env)).path,
      },
    }
    if (values.json) io.out(JSON.stringify(document, null, 2))
    else io.out(formatSettings(document))
    return EXIT_OK
  },
}

/** `name  value` lines, nested objects flattened to dotted names, aligned. */
function formatSettings(document: Record<string, unknown>): string {
  const rows: [string, string][] = []
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key)
      return
    }
    rows.push([path, describeValue(value)])
  }
  walk(document, '')
  const width = Math.max(...rows.map(([name]) => name.length))
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n')
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return '(not set)'
  if (Array.isArray(value)) {
    if (value.length === 0) return '(none)'
    return value.every((item) => typeof item !== 'object') ? value.join(', ') : JSON.stringify(value)
  }
  if (typeof value === 'string') return value === '' ? "''" : value
  return String(value)
}
