// deploy/: every config file validates through config-file.ts and loadConfig; the systemd units, the compose file,
// the Dockerfile and the Kubernetes manifests agree with the configuration; and the compose topology runs as local
// processes (bun src/main.ts per service, the compose environment mapped to local ports) on real PostgreSQL and
// Redis, with a message sent over SMTP, POSTed to the inbound service, and (with a Dovecot here) polled over IMAP by
// the smtp service, each read through either API process with its source.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { Subprocess } from 'bun'
import { type Config, ROLES } from '#server/config.ts'
import {
  CONFIG_FILE_VARIABLE,
  loadLayeredConfig,
  mapConfigDocument,
  readConfigFile,
} from '#server/config-file.ts'
import {
  type ComposeService,
  DEPLOY,
  deployFiles,
  ephemailServices,
  interpolate,
  mountedFrom,
  publishedPorts,
  ROOT,
  readCompose,
  readKubernetes,
  readUnit,
  variablesConfigReads,
} from './support/deploy-files.ts'
import { startDovecot } from './support/dovecot.ts'
import { cleanEnv, freePorts, sendMail } from './support/ephemail-process.ts'
import { createTestDatabase, postgresAvailable } from './support/postgres.ts'
import { redisAvailable, TEST_REDIS_URL } from './support/redis.ts'

/** What an operator puts in compose's .env (the values only need to pass loadConfig). */
const COMPOSE_VARIABLES = {
  POSTGRES_PASSWORD: 'compose-test-password',
  EPHEMAIL_ADMIN_KEY: 'compose-test-admin-key-0123',
  EPHEMAIL_INBOUND_SECRET: 'compose-test-inbound-secret',
}

/** Variables a deploy file may set: what loadConfig reads and the config file's own. */
const knownVariables = new Set([...variablesConfigReads(), CONFIG_FILE_VARIABLE])

const rolesOf = (value: string) => value.split(',').map((role) => role.trim())

describe('config files', () => {
  test.each(deployFiles(/^ephemail\.config\.json$/).map((path) => [path.slice(DEPLOY.length + 1), path]))(
    '%s validates and loads',
    async (_name, path) => {
      const file = await readConfigFile(path)
      const { config } = loadLayeredConfig(file, {})
      expect(config.domains.length).toBeGreaterThan(0)
      // Each names its storage, queue and pub/sub: a deployment says where its data lives.
      const document = JSON.parse(readFileSync(path, 'utf8'))
      expect(Object.keys(document)).toEqual(expect.arrayContaining(['storage', 'queue', 'pubsub']))
      expect(document.$schema).toBe('../ephemail.config.schema.json')
    },
  )

  test('single-box is embedded; host and compose share PostgreSQL and Redis', async () => {
    const load = async (folder: string) =>
      loadLayeredConfig(await readConfigFile(join(DEPLOY, folder, 'ephemail.config.json')), {}).config
    expect(await load('single-box')).toMatchObject({ databaseUrl: null, redisUrl: null })
    for (const folder of ['host', 'compose']) {
      const config = await load(folder)
      expect(config.databaseUrl).toStartWith('postgres://')
      expect(config.redisUrl).toStartWith('redis://')
    }
  })
})

describe('systemd units', () => {
  const units = deployFiles(/\.service$/)
  const hardening = {
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    RestrictNamespaces: 'yes',
    KillSignal: 'SIGTERM',
    Restart: 'on-failure',
  }

  test.each(units.map((path) => [path.slice(DEPLOY.length + 1), path]))('%s', async (_name, path) => {
    const unit = readUnit(path)
    const service = unit.Service as Record<string, string[]>
    for (const [key, value] of Object.entries(hardening)) expect(service[key]).toEqual([value])
    // Bun's JIT needs writable executable memory: this option would kill the process at start.
    expect(service.MemoryDenyWriteExecute).toBeUndefined()
    expect(service.User).toEqual(['ephemail'])
    const exec = (service.ExecStart?.[0] ?? '').split(/\s+/)
    expect(exec.slice(1, 2)).toEqual(['src/main.ts'])
    const role = exec[exec.indexOf('--role') + 1] as string
    const configPath = exec[exec.indexOf('--config') + 1]
    expect(configPath).toBe('/etc/ephemail/ephemail.config.json')
    // host/ephemail-ROLE.service runs ROLE; the single box runs them all.
    const expected = basename(path) === 'ephemail.service' ? ROLES.join(',') : basename(path).slice(9, -8)
    expect(role).toBe(expected)
    // The role is one loadConfig takes, with the folder's own config file.
    const file = await readConfigFile(join(dirname(path), 'ephemail.config.json'))
    expect(loadLayeredConfig(file, {}, ['--role', role]).config.roles).toEqual(
      rolesOf(role) as Config['roles'],
    )
    // Only a unit whose config listens on a port below 1024 gets the one capability it needs.
    const bindsLowPort = rolesOf(role).includes('smtp')
    expect(service.AmbientCapabilities ?? []).toEqual(bindsLowPort ? ['CAP_NET_BIND_SERVICE'] : [])
  })

  test('the host units cover every role and the target starts them', () => {
    const target = readUnit(join(DEPLOY, 'host', 'ephemail.target'))
    expect((target.Unit?.Wants?.[0] ?? '').split(/\s+/).sort()).toEqual(
      ROLES.map((role) => `ephemail-${role}.service`).sort(),
    )
    for (const role of ROLES) expect(existsSync(join(DEPLOY, 'host', `ephemail-${role}.service`))).toBe(true)
  })

  test('ephemail.env.example: its ingest lines, uncommented and filled in, load for every role', async () => {
    const example = readFileSync(join(DEPLOY, 'host', 'ephemail.env.example'), 'utf8')
    const filled: Record<string, string> = {
      EPHEMAIL_ADMIN_KEY: 'a-real-admin-key-0123',
      EPHEMAIL_INBOUND_SECRET: 'a-real-inbound-secret-0123',
    }
    for (const line of example.split('\n')) {
      const assignment = /^#?\s*([A-Z][A-Z0-9_]+)=(\S*)$/.exec(line.trim())
      if (assignment) filled[assignment[1] as string] ??= assignment[2] as string
    }
    expect(Object.keys(filled).filter((name) => !knownVariables.has(name))).toEqual([])
    expect(filled.EPHEMAIL_INGEST).toBe('smtp,http,imap')
    const file = await readConfigFile(join(DEPLOY, 'host', 'ephemail.config.json'))
    for (const role of ROLES) {
      const { config } = loadLayeredConfig(file, filled, ['--role', role])
      expect(config.ingest).toEqual(['smtp', 'http', 'imap'])
      expect(config.imap.accounts.map((account) => account.host)).toEqual(['imap.example.com'])
    }
  })

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0
  if (!analyze) console.warn('systemd-analyze is not installed: the units are not verified by systemd')
  test.skipIf(!analyze)('systemd-analyze verify accepts every unit (bun at this test’s own path)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'ephemail-units-'))
    try {
      const copies = units.map((path) => {
        const copy = join(folder, basename(path))
        writeFileSync(copy, readFileSync(path, 'utf8').replaceAll('/usr/local/bin/bun', process.execPath))
        return copy
      })
      const result = spawnSync('systemd-analyze', ['verify', ...copies], { encoding: 'utf8' })
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

/** A compose service's environment with compose's interpolation done, as the container would see it. */
function composeEnvironment(
  service: ComposeService,
  variables: Readonly<Record<string, string>> = COMPOSE_VARIABLES,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      interpolate(String(value), variables),
    ]),
  )
}

/** The config file a compose service mounts at EPHEMAIL_CONFIG, on this machine. */
function composeConfigFile(service: ComposeService): string {
  const inContainer = composeEnvironment(service)[CONFIG_FILE_VARIABLE]
  const onHost = inContainer ? mountedFrom(service, inContainer) : null
  if (!onHost) throw new Error(`no volume mounts ${inContainer}`)
  return onHost
}

describe('docker compose', () => {
  const compose = readCompose()
  const services = ephemailServices(compose)

  test('api twice, smtp, inbound and worker on one image, with postgres and redis healthy first', () => {
    const byRoles = services.map(([name, service]) => [name, composeEnvironment(service).EPHEMAIL_ROLES])
    expect(byRoles.filter(([, roles]) => roles === 'api').length).toBeGreaterThanOrEqual(2)
    for (const role of ROLES)
      expect(byRoles.some(([, roles]) => rolesOf(roles ?? '').includes(role))).toBe(true)
    expect(services.map(([name]) => name)).toContain('inbound')
    for (const [, service] of services) {
      expect(service.build).toEqual({ context: '../..', dockerfile: 'deploy/compose/Dockerfile' })
      expect(service.stop_signal).toBe('SIGTERM')
      expect(service.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      })
    }
    expect(compose.services.postgres?.healthcheck).toBeDefined()
    expect(compose.services.redis?.healthcheck).toBeDefined()
  })

  test('inbound runs the HTTP source with the secret from .env; smtp polls IMAP only when .env asks', async () => {
    const loaded = async (name: string, variables: Record<string, string> = COMPOSE_VARIABLES) => {
      const service = compose.services[name] as ComposeService
      const file = await readConfigFile(composeConfigFile(service))
      return loadLayeredConfig(file, composeEnvironment(service, variables)).config
    }
    const inbound = await loaded('inbound')
    expect(inbound.roles).toEqual(['api'])
    expect(inbound.ingest).toEqual(['http'])
    expect(inbound.inbound.secret).toBe(COMPOSE_VARIABLES.EPHEMAIL_INBOUND_SECRET)
    expect((await loaded('smtp')).ingest).toEqual(['smtp'])
    const withImap = await loaded('smtp', {
      ...COMPOSE_VARIABLES,
      EPHEMAIL_SMTP_INGEST: 'smtp,imap',
      EPHEMAIL_IMAP_URL: 'imaps://catchall:s%40cret@imap.example.com/INBOX',
    })
    expect(withImap.ingest).toEqual(['smtp', 'imap'])
    expect(withImap.imap.accounts).toMatchObject([
      { host: 'imap.example.com', password: 's@cret', secure: true },
    ])
    // The API processes never serve /v1/inbound: only the inbound service has the secret.
    for (const name of ['api-1', 'api-2', 'worker']) expect((await loaded(name)).ingest).toEqual(['smtp'])
  })

  test.each(ephemailServices(readCompose()).map(([name, service]) => [name, service]))(
    '%s: variables loadConfig knows, its config loads, published ports are its listeners',
    async (_name, service) => {
      const env = composeEnvironment(service)
      expect(Object.keys(env).filter((name) => !knownVariables.has(name))).toEqual([])
      // The password from .env reaches DATABASE_URL, which overrides the file's password-less storage.url.
      expect(env.DATABASE_URL).toContain(COMPOSE_VARIABLES.POSTGRES_PASSWORD)
      const file = await readConfigFile(composeConfigFile(service))
      const { config, sources } = loadLayeredConfig(file, env)
      expect(sources.DATABASE_URL).toEqual({ from: 'environment', overrides: 'storage.url' })
      const containerPorts = publishedPorts(service).map((port) => port.container)
      const listening = [
        ...(config.roles.includes('api') ? [config.httpPort] : []),
        ...(config.roles.includes('smtp') ? [config.smtpPort] : []),
      ]
      expect(containerPorts.sort()).toEqual(listening.sort())
      // Postgres and Redis are reached by their service names.
      expect(new URL(config.databaseUrl ?? '').hostname).toBe('postgres')
      expect(new URL(config.redisUrl ?? '').hostname).toBe('redis')
    },
  )

  test('Dockerfile: official Bun image, locked install, non-root, HEALTHCHECK, SIGTERM', () => {
    const dockerfile = readFileSync(join(DEPLOY, 'compose', 'Dockerfile'), 'utf8')
    const instructions = dockerfile
      .replace(/\\\n/g, ' ')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    const all = (keyword: string) =>
      instructions
        .filter((line) => line.startsWith(`${keyword} `))
        .map((line) => line.slice(keyword.length + 1))
    expect(all('FROM').at(-1)).toStartWith('oven/bun:')
    expect(all('RUN').some((line) => line.startsWith('npm ci '))).toBe(true)
    const user = all('USER').at(-1)
    expect(user).toBeDefined()
    expect(['root', '0']).not.toContain(user)
    expect(all('STOPSIGNAL')).toEqual(['SIGTERM'])
    expect(all('HEALTHCHECK').at(-1)).toContain('CMD ["bun", "src/healthcheck.ts"]')
    expect(all('ENTRYPOINT')).toEqual(['["bun", "src/main.ts"]'])
    // Everything copied from the build context exists in the repository.
    for (const line of all('COPY').filter((copy) => !copy.startsWith('--from'))) {
      const sources = line.split(/\s+/).slice(0, -1)
      for (const source of sources) expect(existsSync(join(ROOT, source))).toBe(true)
    }
    // EXPOSE names the ports the compose services publish.
    const exposed = (all('EXPOSE')[0] ?? '').split(/\s+/).map(Number)
    for (const [, service] of services)
      for (const { container } of publishedPorts(service)) expect(exposed).toContain(container)
  })
})

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field below
type Manifest = any

describe('kubernetes', () => {
  const documents = readKubernetes()
  const find = (kind: string, name: string): Manifest =>
    documents.find((d) => d.kind === kind && d.metadata.name === name)
  const configMap = find('ConfigMap', 'ephemail-config')
  const secret = find('Secret', 'ephemail-secrets')
  const configText: string = configMap?.data?.['ephemail.config.json']

  /** What an operator puts in the Secret in place of its placeholders. */
  const realSecrets = {
    EPHEMAIL_ADMIN_KEY: 'a-real-admin-key-0123',
    EPHEMAIL_INBOUND_SECRET: 'a-real-inbound-secret-0123',
  }

  test('the ConfigMap holds a config file that validates; the placeholder Secret is refused until replaced', () => {
    const file = mapConfigDocument('configmap.yaml: ephemail.config.json', JSON.parse(configText))
    const { config } = loadLayeredConfig(file, { ...secret.stringData, ...realSecrets })
    expect(config.databaseUrl).toBe(secret.stringData.DATABASE_URL)
    expect(() =>
      loadLayeredConfig(file, {
        ...secret.stringData,
        EPHEMAIL_INBOUND_SECRET: realSecrets.EPHEMAIL_INBOUND_SECRET,
      }),
    ).toThrow('EPHEMAIL_ADMIN_KEY must be at least 16 characters')
    expect(() =>
      loadLayeredConfig(file, { ...secret.stringData, EPHEMAIL_ADMIN_KEY: realSecrets.EPHEMAIL_ADMIN_KEY }),
    ).toThrow('EPHEMAIL_INBOUND_SECRET must be at least 16 characters')
  })

  // ephemail-inbound: API processes whose ingest source is http (POST /v1/inbound), on pods and a Service of their own.
  const deployments = [...ROLES.map((role) => [role, role]), ['inbound', 'api']] as [string, string][]
  test.each(deployments)('Deployment ephemail-%s (role %s)', (component, role) => {
    const deployment = find('Deployment', `ephemail-${component}`)
    expect(deployment).toBeDefined()
    const pod = deployment.spec.template.spec
    expect(deployment.spec.selector.matchLabels).toEqual(
      expect.objectContaining(Object.fromEntries(Object.entries(deployment.spec.selector.matchLabels))),
    )
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10)
    expect(pod.securityContext.runAsNonRoot).toBe(true)
    const container = pod.containers[0]
    const env = Object.fromEntries(
      container.env.map((entry: Manifest) => [
        entry.name,
        entry.value ?? secret.stringData[entry.valueFrom?.secretKeyRef?.key] ?? '(missing secret key)',
      ]),
    ) as Record<string, string>
    expect(Object.keys(env).filter((name) => !knownVariables.has(name))).toEqual([])
    expect(Object.values(env)).not.toContain('(missing secret key)')
    expect(env.EPHEMAIL_ROLES).toBe(role)
    // Only the inbound pods run the HTTP source; the others keep the default (SMTP, in the smtp role).
    expect(env.EPHEMAIL_INGEST).toBe(component === 'inbound' ? 'http' : undefined)
    // The ConfigMap is mounted where EPHEMAIL_CONFIG looks.
    const mount = container.volumeMounts.find(
      (m: Manifest) => `${m.mountPath}/ephemail.config.json` === env.EPHEMAIL_CONFIG,
    )
    expect(pod.volumes.find((v: Manifest) => v.name === mount?.name)?.configMap?.name).toBe('ephemail-config')

    const file = mapConfigDocument('configmap', JSON.parse(configText))
    const real = Object.fromEntries(Object.entries(realSecrets).filter(([name]) => name in env))
    const { config } = loadLayeredConfig(file, { ...env, ...real })
    expect(config.ingest).toEqual(component === 'inbound' ? ['http'] : ['smtp'])
    const ports = Object.fromEntries(
      (container.ports ?? []).map((port: Manifest) => [port.name, port.containerPort]),
    )
    if (role === 'api') {
      expect(ports).toEqual({ http: config.httpPort })
      expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' })
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' })
    } else if (role === 'smtp') {
      expect(ports).toEqual({ smtp: config.smtpPort })
      expect(container.readinessProbe.tcpSocket).toEqual({ port: 'smtp' })
    } else expect(ports).toEqual({})
  })

  test('Services: HTTP to the api pods, inbound to the inbound pods, SMTP on 25 to the smtp pods, keeping client addresses', () => {
    const http = find('Service', 'ephemail-http')
    const inbound = find('Service', 'ephemail-inbound')
    const smtp = find('Service', 'ephemail-smtp')
    const labelsOf = (role: string) => find('Deployment', `ephemail-${role}`).spec.template.metadata.labels
    expect(labelsOf('api')).toMatchObject(http.spec.selector)
    expect(labelsOf('inbound')).toMatchObject(inbound.spec.selector)
    expect(labelsOf('smtp')).toMatchObject(smtp.spec.selector)
    // Each Service reaches its own pods only: the API Service never lands on an inbound pod, nor the reverse.
    expect(labelsOf('worker')).not.toMatchObject(http.spec.selector)
    expect(labelsOf('inbound')).not.toMatchObject(http.spec.selector)
    expect(labelsOf('api')).not.toMatchObject(inbound.spec.selector)
    expect(http.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }])
    expect(inbound.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }])
    expect(smtp.spec.ports).toEqual([{ name: 'smtp', port: 25, targetPort: 'smtp' }])
    expect(smtp.spec.externalTrafficPolicy).toBe('Local')
  })

  test('kustomization lists every manifest', () => {
    const listed = readFileSync(join(DEPLOY, 'kubernetes', 'kustomization.yaml'), 'utf8')
    for (const path of deployFiles(/\.yaml$/, join(DEPLOY, 'kubernetes')))
      if (!path.endsWith('kustomization.yaml')) expect(listed).toContain(`- ${basename(path)}`)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The compose topology as local processes.

interface LocalService {
  name: string
  roles: string[]
  /** Its ingest sources (EPHEMAIL_INGEST as compose gives it; default smtp). */
  ingest: string[]
  httpPort: number
  smtpPort: number
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  output(): string
}

const servicesReady = (await postgresAvailable()) && (await redisAvailable())
// IMAP joins when a Dovecot can be started here: the smtp service then polls it, as .env's EPHEMAIL_SMTP_INGEST asks.
const dovecot = servicesReady ? await startDovecot() : null
if (servicesReady && !dovecot)
  console.warn('deploy: no Dovecot, so the compose topology is tested without IMAP')
const IMAP_FOLDER = 'compose'

/** .env for the local topology: the IMAP lines filled in when there is a Dovecot. */
const topologyVariables: Record<string, string> = dovecot
  ? {
      ...COMPOSE_VARIABLES,
      EPHEMAIL_SMTP_INGEST: 'smtp,imap',
      EPHEMAIL_IMAP_URL: dovecot.url({ mailbox: IMAP_FOLDER, name: 'catchall' }),
    }
  : COMPOSE_VARIABLES

/** A message as a sending server writes it. */
function rawMail(to: string, subject: string): string {
  return [
    `Delivered-To: ${to}`,
    'From: Acme Alerts <alerts@acme.example>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${crypto.randomUUID()}@acme.example>`,
    'Date: Wed, 02 Dec 2026 09:30:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your code is 482913.',
    '',
  ].join('\r\n')
}

/** Ways mail reaches the deployment, each through the service that takes it, and the source the API then shows. */
const DELIVERIES: {
  via: string
  source: string
  takes(service: LocalService): boolean
  deliver(service: LocalService, to: string, subject: string): Promise<void>
}[] = [
  {
    via: 'smtp',
    source: 'smtp',
    takes: (service) => service.roles.includes('smtp') && service.ingest.includes('smtp'),
    async deliver(service, to, subject) {
      const sent = await sendMail({
        port: service.smtpPort,
        to,
        from: 'alerts@acme.example',
        subject,
        body: `Your code is 482913.\r\n`,
      })
      expect(sent.accepted).toEqual([to])
    },
  },
  {
    via: 'http',
    source: 'http:raw',
    takes: (service) => service.roles.includes('api') && service.ingest.includes('http'),
    async deliver(service, to, subject) {
      const response = await fetch(
        `http://127.0.0.1:${service.httpPort}/v1/inbound?to=${encodeURIComponent(to)}&from=alerts@acme.example`,
        {
          method: 'POST',
          headers: {
            'content-type': 'message/rfc822',
            authorization: `Bearer ${COMPOSE_VARIABLES.EPHEMAIL_INBOUND_SECRET}`,
          },
          body: rawMail(to, subject),
        },
      )
      expect(response.status).toBe(202)
    },
  },
  ...(dovecot
    ? [
        {
          via: 'imap',
          source: 'imap:catchall',
          takes: (service: LocalService) => service.roles.includes('smtp') && service.ingest.includes('imap'),
          async deliver(_service: LocalService, to: string, subject: string) {
            dovecot.deliver(rawMail(to, subject), IMAP_FOLDER)
          },
        },
      ]
    : []),
]

describe.skipIf(!servicesReady)('the compose topology as local processes (PostgreSQL, Redis)', () => {
  const running: LocalService[] = []
  let database: Awaited<ReturnType<typeof createTestDatabase>>

  beforeAll(async () => {
    database = await createTestDatabase()
    dovecot?.createFolder(IMAP_FOLDER)
    const chosen = ephemailServices(readCompose())
    const ports = await freePorts(chosen.length * 2)
    // One run of its own on the shared Redis: queues and channels do not meet other runs.
    const prefix = `ephemail-deploy-${Date.now()}`
    await Promise.all(
      chosen.map(async ([name, service], index) => {
        const env = composeEnvironment(service, topologyVariables)
        const httpPort = ports[index * 2] as number
        const smtpPort = ports[index * 2 + 1] as number
        const local = cleanEnv({
          ...env,
          // The container's paths and hosts, as this machine has them.
          [CONFIG_FILE_VARIABLE]: composeConfigFile(service),
          DATABASE_URL: database.url,
          REDIS_URL: TEST_REDIS_URL,
          EPHEMAIL_REDIS_PREFIX: prefix,
          EPHEMAIL_HOST: '127.0.0.1',
          EPHEMAIL_HTTP_PORT: String(httpPort),
          EPHEMAIL_SMTP_PORT: String(smtpPort),
        })
        const proc = Bun.spawn([process.execPath, 'src/main.ts'], {
          cwd: ROOT,
          env: local,
          stdin: 'ignore',
          stdout: 'pipe',
          stderr: 'pipe',
        })
        let output = ''
        const decoder = new TextDecoder()
        const collect = async (stream: ReadableStream<Uint8Array>) => {
          for await (const chunk of stream) output += decoder.decode(chunk, { stream: true })
        }
        void collect(proc.stdout)
        void collect(proc.stderr)
        const entry: LocalService = {
          name,
          roles: rolesOf(env.EPHEMAIL_ROLES ?? ''),
          ingest: rolesOf(env.EPHEMAIL_INGEST || 'smtp'),
          httpPort,
          smtpPort,
          proc,
          output: () => output,
        }
        running.push(entry)
        // Each prints its roles once it listens (and has migrated the database).
        const deadline = Date.now() + 60_000
        while (
          !/ephemail: roles /.test(output) ||
          (entry.roles.includes('api') && !/HTTP API on/.test(output))
        ) {
          if (proc.exitCode !== null) throw new Error(`${name} exited (${proc.exitCode}):\n${output}`)
          if (Date.now() > deadline) throw new Error(`${name} did not start:\n${output}`)
          await Bun.sleep(100)
        }
      }),
    )
  }, 120_000)

  afterAll(async () => {
    for (const service of running) service.proc.kill('SIGTERM')
    await Promise.all(running.map((service) => service.proc.exited))
    await database?.drop()
    await dovecot?.close()
  })

  // The API processes behind the reverse proxy (api-1, api-2); `inbound` is an API process too, but takes only /v1/inbound.
  const apis = () =>
    running.filter((service) => service.roles.includes('api') && !service.ingest.includes('http'))
  const api = (service: LocalService, path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${service.httpPort}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${COMPOSE_VARIABLES.EPHEMAIL_ADMIN_KEY}`,
        'content-type': 'application/json',
      },
    })

  test('every service says it runs from the compose config file, with the environment over it', () => {
    expect(running.length).toBe(ephemailServices(readCompose()).length)
    expect(apis().length).toBeGreaterThanOrEqual(2)
    for (const service of running)
      expect(service.output()).toMatch(
        /ephemail: settings from .*deploy\/compose\/ephemail\.config\.json; the environment overrides .*DATABASE_URL/,
      )
  })

  test('the image’s health check passes for every service, by its roles', async () => {
    for (const service of running) {
      const check = Bun.spawn([process.execPath, 'src/healthcheck.ts'], {
        cwd: ROOT,
        env: cleanEnv({
          ...composeEnvironment(readCompose().services[service.name] as ComposeService, topologyVariables),
          [CONFIG_FILE_VARIABLE]: composeConfigFile(readCompose().services[service.name] as ComposeService),
          DATABASE_URL: database.url,
          REDIS_URL: TEST_REDIS_URL,
          EPHEMAIL_HOST: '127.0.0.1',
          EPHEMAIL_HTTP_PORT: String(service.httpPort),
          EPHEMAIL_SMTP_PORT: String(service.smtpPort),
        }),
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [code, stderr] = await Promise.all([check.exited, new Response(check.stderr).text()])
      expect({ service: service.name, code, stderr }).toEqual({ service: service.name, code: 0, stderr: '' })
    }
  })

  /** Polls `reader` until `address` holds every subject processed (its code extracted); returns those messages. */
  async function readProcessed(reader: LocalService, address: string, subjects: string[]) {
    const deadline = Date.now() + 30_000
    for (;;) {
      const list = (await (
        await api(reader, `/v1/mailboxes/${encodeURIComponent(address)}/messages`)
      ).json()) as {
        items: { subject: string; otp: string | null; source: string }[]
      }
      const found = list.items.filter((item) => subjects.includes(item.subject) && item.otp)
      if (found.length === subjects.length) return found
      if (Date.now() > deadline)
        throw new Error(`${reader.name} never showed every processed message: ${JSON.stringify(list)}`)
      await Bun.sleep(200)
    }
  }

  const takerOf = (delivery: (typeof DELIVERIES)[number]) => {
    const taker = running.find((service) => delivery.takes(service))
    if (!taker) throw new Error(`no running service takes mail via ${delivery.via}`)
    return taker
  }

  test.each(DELIVERIES.map((delivery) => [delivery.via, delivery]))(
    'mail delivered through %s is processed and read through either API process, with its source',
    async (via, delivery) => {
      const [first, second] = apis() as [LocalService, LocalService]
      const created = await api(first, '/v1/mailboxes', { method: 'POST', body: '{}' })
      expect(created.status).toBe(201)
      const { address } = (await created.json()) as { address: string }
      const subject = `Deploy check via ${via} ${Date.now()}`
      await delivery.deliver(takerOf(delivery), address, subject)
      // The worker processes it (the code is extracted); both API processes then see the same message.
      for (const reader of [second, first]) {
        const [message] = await readProcessed(reader, address, [subject])
        expect(message).toMatchObject({ otp: '482913', source: delivery.source })
      }
    },
    60_000,
  )

  test(`one message through each source at once (${DELIVERIES.map((d) => d.via).join(', ')}): all read back with their sources`, async () => {
    const [first, second] = apis() as [LocalService, LocalService]
    const created = await api(second, '/v1/mailboxes', { method: 'POST', body: '{}' })
    const { address } = (await created.json()) as { address: string }
    const run = Date.now()
    const subjectOf = (via: string) => `Deploy all sources ${run} via ${via}`
    await Promise.all(
      DELIVERIES.map((delivery) => delivery.deliver(takerOf(delivery), address, subjectOf(delivery.via))),
    )
    for (const reader of [first, second]) {
      const messages = await readProcessed(
        reader,
        address,
        DELIVERIES.map((delivery) => subjectOf(delivery.via)),
      )
      expect(Object.fromEntries(messages.map((message) => [message.subject, message.source]))).toEqual(
        Object.fromEntries(DELIVERIES.map((delivery) => [subjectOf(delivery.via), delivery.source])),
      )
    }
  }, 60_000)
})
