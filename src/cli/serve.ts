// `ephemail serve`: starts the service in this process, as `npm start` does, with the roles and ports given as flags.

import { HELP_OPTION, JSON_OPTION, type OptionSpecs, UsageError } from './args.ts'
import { type Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './command.ts'

/** Flags that stand for an environment variable; the flag wins over the variable. */
const FLAG_VARIABLES = {
  host: 'EPHEMAIL_HOST',
  port: 'EPHEMAIL_HTTP_PORT',
  'smtp-port': 'EPHEMAIL_SMTP_PORT',
  'data-dir': 'EPHEMAIL_DATA_DIR',
} as const

const options: OptionSpecs = {
  config: {
    type: 'string',
    valueName: 'FILE',
    description:
      'settings from ephemail.config.json or .ts ($EPHEMAIL_CONFIG); the environment overrides them',
  },
  role: {
    type: 'string',
    valueName: 'ROLES',
    description: 'comma-separated parts to run: api, smtp, worker ($EPHEMAIL_ROLES; default all three)',
  },
  host: {
    type: 'string',
    valueName: 'ADDRESS',
    description: 'address to listen on ($EPHEMAIL_HOST; 0.0.0.0)',
  },
  port: {
    type: 'string',
    valueName: 'PORT',
    description: 'HTTP API port ($EPHEMAIL_HTTP_PORT; 3000; 0: any free)',
  },
  'smtp-port': {
    type: 'string',
    valueName: 'PORT',
    description: 'SMTP port ($EPHEMAIL_SMTP_PORT; 2525; 0: any free)',
  },
  'data-dir': {
    type: 'string',
    valueName: 'DIR',
    description: 'where embedded PGlite keeps its files ($EPHEMAIL_DATA_DIR; ./.data)',
  },
  json: {
    ...JSON_OPTION.json,
    description: 'once listening, print one JSON document (ports, roles) instead of the text lines',
  } as OptionSpecs[string],
  ...HELP_OPTION,
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the Ephemail service (API, SMTP, worker) in this process',
  synopsis:
    'serve [--config FILE] [--role api,smtp,worker] [--port PORT] [--smtp-port PORT] [--host ADDRESS] [--json]',
  details: [
    'Every other setting comes from the config file (--config or $EPHEMAIL_CONFIG) and the environment, which',
    'overrides the file, as for `npm start` (`ephemail config` shows them and where each came from).',
    'Without DATABASE_URL the data lives in embedded PGlite; without REDIS_URL jobs and events stay in',
    'this process. Stops cleanly on SIGINT or SIGTERM.',
  ].join('\n'),
  options,
  positionals: { min: 0, max: 0, names: [] },
  async run({ values }, io) {
    const env: Record<string, string | undefined> = { ...io.env }
    for (const [flag, variable] of Object.entries(FLAG_VARIABLES)) {
      const value = values[flag]
      if (typeof value === 'string') {
        if (value.trim() === '') throw new UsageError(`--${flag} needs a value`)
        env[variable] = value
      }
    }
    // Loaded here, not at the top: the server is only needed by this command.
    const [{ ConfigError }, { configFileFrom, loadLayeredConfig }, { startEphemail }, { loggableError }] =
      await Promise.all([
        import('#server/config.ts'),
        import('#server/config-file.ts'),
        import('#server/runtime.ts'),
        import('#lib/loggable-error.ts'),
      ])
    let layered: ReturnType<typeof loadLayeredConfig>
    let configFile: Awaited<ReturnType<typeof configFileFrom>>
    try {
      configFile = await configFileFrom(typeof values.config === 'string' ? values.config : undefined, env)
      // --role goes as the argument loadConfig reads, so an error in it names the flag.
      layered = loadLayeredConfig(
        configFile,
        env,
        typeof values.role === 'string' ? ['--role', values.role] : [],
      )
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      io.err(`ephemail serve: configuration error: ${error.message}`)
      return EXIT_USAGE
    }
    const { config, sources } = layered
    const json = values.json === true
    // With --json stdout carries the one document; everything else said on the way goes to stderr.
    const say = json ? io.err : io.out

    if (!config.redisUrl && config.roles.includes('smtp') && !config.roles.includes('worker'))
      io.err(
        'ephemail: without REDIS_URL jobs stay in this process; an smtp role without a worker role leaves mail unprocessed',
      )
    // A generated admin key is shown once: in the runtime's banner, or as a field of the JSON document.
    let generatedAdminKey: string | null = null
    const running = await startEphemail(
      config,
      json
        ? {
            announceAdminKey: (key) => {
              generatedAdminKey = key
            },
          }
        : {},
    )
    const httpUrl = running.httpPort === null ? null : `http://${config.host}:${running.httpPort}`
    const storage = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`
    if (json)
      io.out(
        JSON.stringify({
          roles: config.roles,
          storage: config.databaseUrl ? 'postgresql' : 'pglite',
          domains: config.domains.map((domain) => domain.name),
          http: httpUrl === null ? null : { url: httpUrl, port: running.httpPort },
          smtp:
            running.smtpPort === null
              ? null
              : { host: config.host, port: running.smtpPort, tlsPort: running.smtpsPort },
          compat: config.compat,
          configFile: configFile?.path ?? null,
          generatedAdminKey,
        }),
      )
    else {
      if (configFile) {
        const overridden = Object.entries(sources)
          .filter(([, source]) => source.from === 'environment' && source.overrides)
          .map(([variable]) => variable)
        say(
          `ephemail: settings from ${configFile.path}${
            overridden.length > 0 ? `; the environment overrides ${overridden.join(', ')}` : ''
          }`,
        )
      }
      say(
        `ephemail: roles ${config.roles.join(', ')}; storage ${storage}; domains ${config.domains.map((d) => d.name).join(', ')}`,
      )
      if (httpUrl !== null)
        say(
          `ephemail: HTTP API on ${httpUrl} (docs at /docs)${
            config.compat.length > 0
              ? `; compatibility layers ${config.compat.map(({ name, prefix }) => `${name} at ${prefix || '/'}`).join(', ')}`
              : ''
          }`,
        )
      if (running.smtpPort !== null)
        say(
          `ephemail: SMTP on ${config.host}:${running.smtpPort}${config.smtpTls ? ' (STARTTLS)' : ''}${
            running.smtpsPort !== null ? `, implicit TLS on ${config.host}:${running.smtpsPort}` : ''
          }`,
        )
    }

    // The command's promise settles when the service has stopped, so the CLI exits only then.
    return new Promise<number>((resolve) => {
      let stopping = false
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.on(signal, () => {
          if (stopping) return
          stopping = true
          say(`ephemail: ${signal} received, stopping`)
          running.stop().then(
            () => resolve(EXIT_OK),
            (error) => {
              io.err(`ephemail: error while stopping: ${loggableError(error)}`)
              resolve(EXIT_FAILURE)
            },
          )
        })
    })
  },
}
