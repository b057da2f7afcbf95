// `ephemail config`: the configuration a server started here would run with, read from the environment, secrets masked.

import type { Source } from '#server/config-file.ts'
import { HELP_OPTION, JSON_OPTION } from './args.ts'
import { type Command, EXIT_OK, EXIT_USAGE } from './command.ts'
import { DEFAULT_URL } from './connection.ts'
import { MASK, maskSecrets, maskUrl } from './mask.ts'
import { createTokenStore, stateDirectory } from './token-store.ts'

export const configCommand: Command = {
  name: 'config',
  summary: 'show the effective configuration from the config file and the environment (secrets masked)',
  synopsis: 'config [--config FILE] [--role ROLES] [--json]',
  details: [
    'Reads the same config file and variables as `ephemail serve` and `npm start`, with their defaults, and',
    'reports the first bad one as `serve` would (exit 2). Keys, secrets, passwords in URLs and TLS private',
    `keys are printed as ${MASK}. The client settings (EPHEMAIL_URL, EPHEMAIL_KEY, the token file) follow,`,
    'then where each setting that is set came from: a field of the file, the environment (overriding the',
    'file or not) or a flag.',
  ].join('\n'),
  options: {
    config: {
      type: 'string',
      valueName: 'FILE',
      description: 'config file to read, as `serve --config` takes it (default: $EPHEMAIL_CONFIG)',
    },
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
    const [{ ConfigError }, { configFileFrom, loadLayeredConfig }] = await Promise.all([
      import('#server/config.ts'),
      import('#server/config-file.ts'),
    ])
    let layered: ReturnType<typeof loadLayeredConfig>
    let configFile: Awaited<ReturnType<typeof configFileFrom>>
    try {
      configFile = await configFileFrom(typeof values.config === 'string' ? values.config : undefined, io.env)
      layered = loadLayeredConfig(
        configFile,
        { ...io.env },
        typeof values.role === 'string' ? ['--role', values.role] : [],
      )
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      io.err(`ephemail config: configuration error: ${error.message}`)
      return EXIT_USAGE
    }
    const key = io.env.EPHEMAIL_KEY?.trim()
    const document = {
      server: maskSecrets(layered.config),
      client: {
        url: maskUrl(io.env.EPHEMAIL_URL?.trim() || DEFAULT_URL),
        key: key ? MASK : null,
        tokenFile: createTokenStore(stateDirectory(io.env)).path,
      },
      configFile: configFile?.path ?? null,
      // Names only, never values: a source line cannot leak a secret.
      sources: layered.sources,
    }
    if (values.json) io.out(JSON.stringify(document, null, 2))
    else
      io.out(
        formatSettings({
          ...document,
          sources: Object.fromEntries(
            Object.entries(layered.sources).map(([variable, source]) => [
              variable,
              describeSource(source, configFile?.path),
            ]),
          ),
        }),
      )
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

function describeSource(source: Source, file: string | undefined): string {
  if (source.from === 'file') return `${file}: ${source.field}`
  if (source.from === 'flag') return source.flag
  return source.overrides ? `environment (overrides ${file}: ${source.overrides})` : 'environment'
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
