// Entry point: reads the config, starts the roles asked for (api, smtp, worker), and shuts down cleanly on a signal.

import { loggableError } from '#lib/loggable-error.ts'
import { ConfigError, loadConfig } from './server/config.ts'
import { startEphemail } from './server/runtime.ts'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`ephemail: configuration error: ${error.message}`)
    process.exit(2)
  }
  throw error
}

if (!config.redisUrl && config.roles.includes('smtp') && !config.roles.includes('worker'))
  console.warn(
    'ephemail: without REDIS_URL jobs stay in this process; an smtp role without a worker role leaves mail unprocessed',
  )

const running = await startEphemail(config)
const storageName = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`
console.log(
  `ephemail: roles ${config.roles.join(', ')}; storage ${storageName}; domains ${config.domains.map((d) => d.name).join(', ')}`,
)
if (running.httpPort !== null)
  console.log(
    `ephemail: HTTP API on http://${config.host}:${running.httpPort} (docs at /docs)${
      config.compat.length > 0
        ? `; compatibility layers ${config.compat.map(({ name, prefix }) => `${name} at ${prefix || '/'}`).join(', ')}`
        : ''
    }`,
  )
if (running.smtpPort !== null)
  console.log(
    `ephemail: SMTP on ${config.host}:${running.smtpPort}${config.smtpTls ? ' (STARTTLS)' : ''}${
      running.smtpsPort !== null ? `, implicit TLS on ${config.host}:${running.smtpsPort}` : ''
    }`,
  )

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    console.log(`ephemail: ${signal} received, stopping`)
    running.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(`ephemail: error while stopping: ${loggableError(error)}`)
        process.exit(1)
      },
    )
  })
}
