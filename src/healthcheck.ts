// Container health check (Dockerfile HEALTHCHECK, exec probes): asks this process's own listeners, by the roles configured.

import { connect } from 'node:net'
import { ConfigError } from '#server/config.ts'
import { configFileFrom, loadLayeredConfig } from '#server/config-file.ts'

const TIMEOUT_MS = 4000

/** The address to reach a listener bound to `host` from inside the same container or host. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '::1'
  return host
}

/** GET /ready: 200 once storage answers. */
async function checkApi(host: string, port: number): Promise<string | null> {
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/ready`
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    return response.ok ? null : `${url} answered ${response.status}`
  } catch (error) {
    return `${url}: ${(error as Error).message}`
  }
}

/** An SMTP greeting starting 220, then QUIT: the listener accepts and the session starts. */
function checkSmtp(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let greeting = ''
    const finish = (problem: string | null) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(problem)
    }
    const timer = setTimeout(
      () => finish(`SMTP on ${host}:${port}: no greeting in ${TIMEOUT_MS} ms`),
      TIMEOUT_MS,
    )
    socket.on('data', (chunk) => {
      greeting += chunk.toString('latin1')
      if (!greeting.includes('\n')) return
      socket.write('QUIT\r\n')
      finish(greeting.startsWith('220') ? null : `SMTP on ${host}:${port} greeted "${greeting.trim()}"`)
    })
    socket.on('error', (error) => finish(`SMTP on ${host}:${port}: ${error.message}`))
  })
}

async function main(): Promise<number> {
  let config: ReturnType<typeof loadLayeredConfig>['config']
  try {
    config = loadLayeredConfig(await configFileFrom(undefined, process.env), process.env).config
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`ephemail health: configuration error: ${error.message}`)
    return 1
  }
  const host = reachable(config.host)
  const checks: Promise<string | null>[] = []
  if (config.roles.includes('api')) checks.push(checkApi(host, config.httpPort))
  if (config.roles.includes('smtp')) checks.push(checkSmtp(host, config.smtpPort))
  // A worker-only process listens on nothing: its configuration loading is all there is to check here;
  // the container's restart policy covers the process itself.
  const problems = (await Promise.all(checks)).filter((problem) => problem !== null)
  for (const problem of problems) console.error(`ephemail health: ${problem}`)
  return problems.length === 0 ? 0 : 1
}

process.exit(await main())
