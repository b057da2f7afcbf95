// The config file (src/server/config-file.ts): errors that name the field, the environment over the file, errors of
// loadConfig about file values rewritten to the field, .json and .ts files, and `ephemail config|serve --config` run
// for real (secrets masked, sources named, a server started from a file).

import { afterAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '#server/config.ts'
import {
  type ConfigFile,
  FILE_VARIABLES,
  layerEnvironment,
  loadLayeredConfig,
  mapConfigDocument,
  readConfigFile,
  SETTINGS,
} from '#server/config-file.ts'
import { CONFIG_SCHEMA_PATH, configSchemaJson } from '../scripts/config-schema.ts'
import { DEPLOY, ROOT, variablesConfigReads } from './support/deploy-files.ts'
import { cleanEnv } from './support/ephemail-process.ts'

const CLI = join(ROOT, 'src', 'cli.ts')
const scratch = mkdtempSync(join(tmpdir(), 'ephemail-config-file-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The message of the ConfigError `run` throws (fails the test when it throws none, or something else). */
function refusal(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  throw new Error('expected a ConfigError')
}

const mapped = (document: unknown) => mapConfigDocument('ephemail.config.json', document)

function writeScratch(name: string, text: string): string {
  const path = join(scratch, name)
  writeFileSync(path, text)
  return path
}

async function runCli(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { stdout, stderr, code }
}

describe('the table', () => {
  test('names every variable loadConfig reads, and no other', () => {
    const read = variablesConfigReads()
    // The scan itself must find what config.ts obviously reads, or an empty set would pass.
    expect(read.has('EPHEMAIL_HTTP_PORT')).toBe(true)
    expect(read.has('DATABASE_URL')).toBe(true)
    // ...and what the modules it imports for a group of settings read (config-ingest.ts).
    expect(read.has('EPHEMAIL_INBOUND_SECRET')).toBe(true)
    expect([...read].filter((variable) => !FILE_VARIABLES.includes(variable))).toEqual([])
    expect(FILE_VARIABLES.filter((variable) => !read.has(variable))).toEqual([])
  })

  test('every field is documented in deploy/README.md', () => {
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8')
    expect(
      SETTINGS.map((setting) => setting.field).filter((field) => !readme.includes(`\`${field}\``)),
    ).toEqual([])
  })

  test('deploy/ephemail.config.schema.json is the current schema (bun scripts/config-schema.ts --write)', () => {
    expect(JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8'))).toEqual(JSON.parse(configSchemaJson()))
  })
})

describe('errors name the field', () => {
  test.each([
    [{ htp: { port: 3000 } }, 'ephemail.config.json: htp is not a setting; known here: roles, host,'],
    [
      { http: { prot: 3000 } },
      'http.prot is not a setting; known here: port, maxBodyBytes, corsOrigins, trustedProxies',
    ],
    [
      { storage: { driver: 'mysql' } },
      'ephemail.config.json: storage.driver must be one of pglite, postgres',
    ],
    [{ storage: { url: 'postgres://db/x' } }, 'storage.driver is required'],
    [{ storage: { driver: 'postgres' } }, 'storage.url is required when storage.driver is postgres'],
    [
      { storage: { driver: 'pglite', url: 'postgres://db/x' } },
      'storage.url applies only when storage.driver is postgres',
    ],
    [{ http: { port: '3000' } }, 'http.port must be a whole number'],
    [{ http: { port: 80.5 } }, 'http.port must be a whole number'],
    [{ auth: { anonymous: 'no' } }, 'auth.anonymous must be true or false'],
    [{ roles: ['api', 'web'] }, 'roles[1] must be one of api, smtp, worker'],
    [{ roles: [] }, 'roles must not be empty'],
    [{ auth: { styles: ['bearer', 'cookie'] } }, 'auth.styles[1] must be one of bearer, header, query'],
    [{ domains: 'a.example' }, 'domains must be a list'],
    [
      { domains: [{ name: 'a.example', kind: 'custom' }] },
      'domains[0].kind is not a setting; known here: name, type',
    ],
    [
      { domains: [{ name: 'a.example', type: 'vip' }] },
      'domains[0].type must be one of public, custom, premium',
    ],
    [
      { compat: [{ name: 'mailgun' }] },
      'compat[0].name must be one of tempmail-io, tempmailg, tempmail-worker',
    ],
    [{ ratePlans: { tiny: 20 } }, 'ratePlans.tiny must be an object'],
    [
      { queue: { driver: 'bullmq', url: 'redis://a:6379' } },
      'pubsub must be given too: jobs and events share one Redis',
    ],
    [
      { queue: { driver: 'bullmq', url: 'redis://a:6379' }, pubsub: { driver: 'memory' } },
      'queue.driver and pubsub.driver must be bullmq with redis, or inline with memory',
    ],
    [
      {
        queue: { driver: 'bullmq', url: 'redis://a:6379' },
        pubsub: { driver: 'redis', url: 'redis://b:6379' },
      },
      'queue.url and pubsub.url must be the same Redis (both are REDIS_URL)',
    ],
    [[{ roles: ['api'] }], 'ephemail.config.json: the file must hold one object of settings'],
  ])('%j', (document, expected) => {
    expect(refusal(() => mapped(document))).toContain(expected)
  })

  test('every problem of a file is listed at once', () => {
    const message = refusal(() => mapped({ http: { port: 'x' }, smtp: { prot: 25 } }))
    expect(message).toContain('http.port must be a whole number')
    expect(message).toContain('smtp.prot is not a setting')
  })

  test('a value loadConfig refuses names the file and the field, not the variable it travelled in', () => {
    const file = mapped({ http: { port: 70_000 } })
    expect(refusal(() => loadLayeredConfig(file, {}))).toBe(
      'ephemail.config.json: http.port=70000 is outside 0..65535',
    )
    const short = mapped({ auth: { adminKey: 'too-short' } })
    expect(refusal(() => loadLayeredConfig(short, {}))).toBe(
      'ephemail.config.json: auth.adminKey must be at least 16 characters (it guards every mailbox)',
    )
    const plans = mapped({ ratePlans: { tiny: { requests: -1 } } })
    expect(refusal(() => loadLayeredConfig(plans, {}))).toStartWith('ephemail.config.json: ratePlans ')
    const url = mapped({ storage: { driver: 'postgres', url: 'mysql://db/x' } })
    expect(refusal(() => loadLayeredConfig(url, {}))).toBe(
      'ephemail.config.json: storage.url must start with postgres:// or postgresql://',
    )
  })

  test('a problem between a file value and a variable names each by its own name', () => {
    const file = mapped({ ttl: { minSeconds: 900, defaultSeconds: 900 } })
    expect(refusal(() => loadLayeredConfig(file, { EPHEMAIL_TTL_MAX_SECONDS: '600' }))).toBe(
      'ephemail.config.json: ttl.minSeconds=900 is above EPHEMAIL_TTL_MAX_SECONDS=600',
    )
  })

  test('a bad variable over a file is still named as the variable', () => {
    const file = mapped({ http: { port: 3000 } })
    expect(refusal(() => loadLayeredConfig(file, { EPHEMAIL_HTTP_PORT: 'eighty' }))).toBe(
      'EPHEMAIL_HTTP_PORT="eighty" is not a whole number',
    )
  })
})

describe('file and environment', () => {
  const document = {
    roles: ['api', 'worker'],
    host: '127.0.0.1',
    http: { port: 8080, corsOrigins: ['https://app.example.com'], trustedProxies: ['10.0.0.0/8'] },
    smtp: { port: 2626, hostname: 'mx.example.net', maxRecipients: 20 },
    storage: { driver: 'postgres', url: 'postgres://app@db.internal:5432/mail', poolSize: 4 },
    queue: { driver: 'bullmq', url: 'redis://cache.internal:6379/1' },
    pubsub: { driver: 'redis', url: 'redis://cache.internal:6379/1' },
    redisPrefix: 'mail-prod',
    domains: ['mail.example.net', { name: 'vip.example.net', type: 'premium' }],
    auth: { styles: ['header', 'bearer'], anonymous: false },
    compat: ['tempmailg', { name: 'tempmail-worker', prefix: '/tw' }],
    ratePlans: { tiny: { requests: 20, windowSeconds: 60 } },
    ttl: { defaultSeconds: 900, maxSeconds: 3600 },
    extractor: { driver: 'builtin', rules: [{ senderDomain: 'acme.example', otpPattern: 'PIN (\\d{6})' }] },
    webhooks: { allowCidrs: ['10.1.0.0/16'], attempts: 3 },
    ingest: {
      sources: ['smtp', 'http', 'imap'],
      http: {
        secret: 'an-inbound-secret-0123456789',
        mailgun: { signingKey: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0' },
        postmark: { user: 'postmark', password: 'pm-password-0123' },
      },
      imap: {
        urls: ['imap://catch%40mail.example.net:pa%2Css@imap.example.net:143/INBOX#catchall'],
        after: 'move:Archive',
        pollSeconds: 120,
        idle: false,
      },
    },
  }

  test('every kind of field reaches the Config loadConfig builds', () => {
    const { config } = loadLayeredConfig(mapped(document), {})
    expect(config).toMatchObject({
      roles: ['api', 'worker'],
      host: '127.0.0.1',
      httpPort: 8080,
      smtpPort: 2626,
      smtpHostname: 'mx.example.net',
      databaseUrl: 'postgres://app@db.internal:5432/mail',
      databasePoolSize: 4,
      redisUrl: 'redis://cache.internal:6379/1',
      redisPrefix: 'mail-prod',
      domains: [
        { name: 'mail.example.net', type: 'public' },
        { name: 'vip.example.net', type: 'premium' },
      ],
      authStyles: ['header', 'bearer'],
      anonymous: false,
      compat: [
        { name: 'tempmailg', prefix: '' },
        { name: 'tempmail-worker', prefix: '/tw' },
      ],
      corsOrigins: ['https://app.example.com'],
      trustedProxies: ['10.0.0.0/8'],
      ttl: { defaultSeconds: 900, minSeconds: 60, maxSeconds: 3600 },
    })
    expect(config.limits.maxRecipients).toBe(20)
    expect(config.plans.tiny?.requests).toBe(20)
    expect(JSON.parse(config.worker.extractRules)).toEqual(document.extractor.rules)
    expect(config.webhooks).toMatchObject({ allowCidrs: ['10.1.0.0/16'], attempts: 3 })
    expect(config.ingest).toEqual(['smtp', 'http', 'imap'])
    expect(config.inbound).toMatchObject({
      secret: 'an-inbound-secret-0123456789',
      mailgunSigningKey: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
      sendgridPublicKey: null,
      postmark: { user: 'postmark', password: 'pm-password-0123' },
    })
    expect(config.imap).toMatchObject({
      accounts: [
        {
          name: 'catchall',
          host: 'imap.example.net',
          port: 143,
          user: 'catch@mail.example.net',
          password: 'pa,ss',
          mailbox: 'INBOX',
        },
      ],
      after: { action: 'move', folder: 'Archive' },
      pollSeconds: 120,
      idle: false,
    })
  })

  test('the same settings as variables give the same Config', () => {
    const file = mapped(document)
    expect(loadLayeredConfig(file, {}).config).toEqual(loadConfig(file.variables, []))
  })

  test('a variable overrides the field; a blank one does not; --role overrides both', () => {
    const file = mapped(document)
    const { config, sources } = loadLayeredConfig(file, {
      EPHEMAIL_HTTP_PORT: '9090',
      DATABASE_URL: 'postgres://app:pw@db2.internal/mail',
      EPHEMAIL_SMTP_PORT: '  ',
      EPHEMAIL_ADMIN_KEY: 'an-admin-key-from-the-environment',
    })
    expect(config.httpPort).toBe(9090)
    expect(config.databaseUrl).toBe('postgres://app:pw@db2.internal/mail')
    expect(config.smtpPort).toBe(2626)
    expect(config.adminKey).toBe('an-admin-key-from-the-environment')
    expect(sources).toMatchObject({
      EPHEMAIL_HTTP_PORT: { from: 'environment', overrides: 'http.port' },
      DATABASE_URL: { from: 'environment', overrides: 'storage.url' },
      EPHEMAIL_SMTP_PORT: { from: 'file', field: 'smtp.port' },
      EPHEMAIL_ADMIN_KEY: { from: 'environment' },
      EPHEMAIL_ROLES: { from: 'file', field: 'roles' },
    })
    const flagged = loadLayeredConfig(file, { EPHEMAIL_ROLES: 'smtp' }, ['--role', 'worker'])
    expect(flagged.config.roles).toEqual(['worker'])
    expect(flagged.sources.EPHEMAIL_ROLES).toEqual({ from: 'flag', flag: '--role' })
  })

  test('without a file, the environment alone (the layer changes nothing)', () => {
    const env = { EPHEMAIL_HTTP_PORT: '4000', UNRELATED: 'x' }
    expect(layerEnvironment(null, env)).toEqual({
      env,
      sources: { EPHEMAIL_HTTP_PORT: { from: 'environment' } },
    })
    expect(loadLayeredConfig(null, env).config).toEqual(loadConfig(env, []))
  })

  test('relative paths are taken from the file’s folder; absolute ones as written', async () => {
    const path = writeScratch(
      'paths.json',
      JSON.stringify({ storage: { driver: 'pglite', dataDir: 'state' } }),
    )
    expect((await readConfigFile(path)).variables.EPHEMAIL_DATA_DIR).toBe(join(scratch, 'state'))
    const absolute = writeScratch(
      'absolute.json',
      JSON.stringify({ storage: { driver: 'pglite', dataDir: '/srv/x' } }),
    )
    expect((await readConfigFile(absolute)).variables.EPHEMAIL_DATA_DIR).toBe('/srv/x')
    const ca = writeScratch('imap-ca.json', JSON.stringify({ ingest: { imap: { tlsCa: 'certs/ca.pem' } } }))
    expect((await readConfigFile(ca)).variables.EPHEMAIL_IMAP_TLS_CA).toBe(join(scratch, 'certs', 'ca.pem'))
  })

  test('an ingest source without its settings says what it needs', () => {
    expect(refusal(() => loadLayeredConfig(mapped({ ingest: { sources: ['smtp', 'http'] } }), {}))).toBe(
      'ephemail.config.json: EPHEMAIL_INBOUND_SECRET must be set when ingest.sources includes http',
    )
    expect(refusal(() => mapped({ ingest: { sources: ['smtp', 'pop3'] } }))).toBe(
      'ephemail.config.json: ingest.sources[1] must be one of smtp, http, imap',
    )
    expect(refusal(() => mapped({ ingest: { imap: { url: 'imap://a:b@h/INBOX' } } }))).toStartWith(
      'ephemail.config.json: ingest.imap.url is not a setting; known here: urls, after, pollSeconds, idle, tlsCa',
    )
  })
})

describe('file formats', () => {
  test('.ts: the default export, with the same validation', async () => {
    const good = writeScratch(
      'ephemail.config.ts',
      "const port: number = 3100\nexport default { http: { port }, domains: ['ts.example'] }\n",
    )
    const file: ConfigFile = await readConfigFile(good)
    expect(file.variables).toEqual({ EPHEMAIL_HTTP_PORT: '3100', EPHEMAIL_DOMAINS: 'ts.example' })
    const bad = writeScratch('bad.config.ts', "export default { http: { port: 'x' } }\n")
    await expect(readConfigFile(bad)).rejects.toThrow(`${bad}: http.port must be a whole number`)
    const none = writeScratch('none.config.ts', 'export const http = { port: 1 }\n')
    await expect(readConfigFile(none)).rejects.toThrow('has no default export')
  })

  test('unreadable, malformed or unknown kinds of file say so', async () => {
    await expect(readConfigFile(join(scratch, 'missing.json'))).rejects.toThrow('missing.json cannot be read')
    const broken = writeScratch('broken.json', '{ "http": { "port": 3000, } }')
    await expect(readConfigFile(broken)).rejects.toThrow(`${broken} is not valid JSON`)
    const yaml = writeScratch('ephemail.config.yaml', 'http:\n  port: 3000\n')
    await expect(readConfigFile(yaml)).rejects.toThrow('a config file ends in .json or .ts')
  })
})

describe('the command line', () => {
  const adminKey = randomBytes(18).toString('base64url')
  const password = randomBytes(9).toString('hex')
  const overridePassword = randomBytes(9).toString('hex')
  // The ingest sources' secrets: the inbound secret, a provider's key and password, an IMAP URL's password.
  const ingestSecrets = {
    secret: randomBytes(18).toString('hex'),
    signingKey: `key-${randomBytes(16).toString('hex')}`,
    postmarkPassword: randomBytes(12).toString('hex'),
    imapPassword: randomBytes(12).toString('hex'),
  }
  const configPath = writeScratch(
    'cli.config.json',
    JSON.stringify({
      roles: ['api'],
      http: { port: 8181 },
      storage: { driver: 'postgres', url: `postgres://app:${password}@db.internal/mail` },
      auth: { adminKey },
      ingest: {
        sources: ['smtp', 'http', 'imap'],
        http: {
          secret: ingestSecrets.secret,
          mailgun: { signingKey: ingestSecrets.signingKey },
          postmark: { user: 'postmark', password: ingestSecrets.postmarkPassword },
        },
        imap: { urls: [`imap://catchall:${ingestSecrets.imapPassword}@imap.internal/INBOX`] },
      },
    }),
  )

  test('config --config: effective values, secrets masked, and the source of each setting', async () => {
    const env = { EPHEMAIL_STATE_DIR: scratch, EPHEMAIL_HTTP_PORT: '9191' }
    const text = await runCli(['config', '--config', configPath], env)
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout).not.toContain(adminKey)
    expect(text.stdout).not.toContain(password)
    for (const secret of Object.values(ingestSecrets)) expect(text.stdout).not.toContain(secret)
    expect(text.stdout).toMatch(/^server\.inbound\.secret +\*{8}$/m)
    expect(text.stdout).toMatch(
      /^sources\.EPHEMAIL_INBOUND_SECRET +.*cli\.config\.json: ingest\.http\.secret$/m,
    )
    expect(text.stdout).toMatch(/^server\.httpPort +9191$/m)
    expect(text.stdout).toMatch(/^server\.adminKey +\*{8}$/m)
    expect(text.stdout).toMatch(/^server\.databaseUrl +postgres:\/\/app:\*{8}@db\.internal\/mail$/m)
    expect(text.stdout).toMatch(new RegExp(`^configFile +${configPath}$`, 'm'))
    expect(text.stdout).toMatch(/^sources\.EPHEMAIL_ROLES +.*cli\.config\.json: roles$/m)
    expect(text.stdout).toMatch(/^sources\.EPHEMAIL_ADMIN_KEY +.*cli\.config\.json: auth\.adminKey$/m)
    expect(text.stdout).toMatch(
      /^sources\.EPHEMAIL_HTTP_PORT +environment \(overrides .*cli\.config\.json: http\.port\)$/m,
    )

    // EPHEMAIL_CONFIG names the file too; a secret from the environment is masked just the same.
    const json = await runCli(['config', '--json'], {
      EPHEMAIL_STATE_DIR: scratch,
      EPHEMAIL_CONFIG: configPath,
      DATABASE_URL: `postgres://app:${overridePassword}@db2.internal/mail`,
    })
    expect(json.code).toBe(0)
    expect(json.stdout).not.toContain(overridePassword)
    expect(json.stdout).not.toContain(adminKey)
    const document = JSON.parse(json.stdout)
    expect(document.configFile).toBe(configPath)
    expect(document.server).toMatchObject({ roles: ['api'], httpPort: 8181, adminKey: '********' })
    expect(document.sources).toMatchObject({
      EPHEMAIL_HTTP_PORT: { from: 'file', field: 'http.port' },
      DATABASE_URL: { from: 'environment', overrides: 'storage.url' },
    })
  })

  test('config and serve refuse a bad file with the field, exit 2', async () => {
    const bad = writeScratch('cli-bad.config.json', JSON.stringify({ storage: { driver: 'mysql' } }))
    for (const command of ['config', 'serve']) {
      const run = await runCli([command, '--config', bad], { EPHEMAIL_STATE_DIR: scratch })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(
        `ephemail ${command}: configuration error: ${bad}: storage.driver must be one of pglite, postgres`,
      )
    }
  })

  test('serve --config: the server runs with the file’s settings and says where they came from', async () => {
    const folder = mkdtempSync(join(scratch, 'serve-'))
    const path = join(folder, 'ephemail.config.json')
    writeFileSync(
      path,
      JSON.stringify({
        roles: ['api'],
        host: '127.0.0.1',
        http: { port: 0 },
        storage: { driver: 'pglite', dataDir: 'data' },
        domains: ['file.example'],
        auth: { adminKey, anonymous: true },
      }),
    )
    const proc = Bun.spawn([process.execPath, CLI, 'serve', '--config', path], {
      cwd: ROOT,
      env: cleanEnv({ EPHEMAIL_ANONYMOUS: 'false' }),
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      let output = ''
      const decoder = new TextDecoder()
      const reader = proc.stdout.getReader()
      while (!/HTTP API on http:\/\/127\.0\.0\.1:(\d+)/.test(output)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`serve exited early:\n${output}\n${await new Response(proc.stderr).text()}`)
        output += decoder.decode(value, { stream: true })
      }
      reader.releaseLock()
      expect(output).toContain(
        `ephemail: settings from ${path}; the environment overrides EPHEMAIL_ANONYMOUS`,
      )
      expect(output).toContain('domains file.example')
      const port = /HTTP API on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
      // The file's admin key works; anonymous creation is off because the environment said so over the file's default.
      const created = await fetch(`http://127.0.0.1:${port}/v1/mailboxes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: '{}',
      })
      expect(created.status).toBe(201)
      expect(((await created.json()) as { address: string }).address).toEndWith('@file.example')
      const anonymous = await fetch(`http://127.0.0.1:${port}/v1/mailboxes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      expect(anonymous.status).toBe(401)
      // storage.dataDir "data" is beside the file, not in the working directory.
      expect(existsSync(join(folder, 'data', 'pglite'))).toBe(true)
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  })
})
