// The optional config file (ephemail.config.json or .ts): validated by field, mapped to the variables loadConfig reads.

import { readFileSync } from 'node:fs'
import { dirname, extname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type TSchema, Type } from '@sinclair/typebox'
import { Value, type ValueError } from '@sinclair/typebox/value'
import { DOMAIN_TYPES } from '#lib/address.ts'
import {
  AUTH_STYLES,
  COMPAT_APIS,
  type Config,
  ConfigError,
  loadConfig,
  ROLES,
  SMTP_SERVERS,
} from './config.ts'
import { INGEST_SOURCES } from './config-ingest.ts'

type Env = Record<string, string | undefined>

const oneOf = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)))
const whole = () => Type.Integer()
const strings = () => Type.Array(Type.String())

interface Setting {
  /** Dotted path in the file. */
  readonly field: string
  /** The variable loadConfig reads; null for a field that only picks a plugin (`storage.driver`). */
  readonly variable: string | null
  readonly schema: TSchema
  /** The section is invalid without it (a plugin section must name its driver). */
  readonly required?: true
  /** Valid only when another field of the file has this value; needed then if `required` is also set. */
  readonly when?: { readonly field: string; readonly is: string }
  /** A file path: a relative one is taken from the config file's folder, not the working directory. */
  readonly isPath?: true
  /** The variable's text; default: numbers and booleans as written, lists comma-separated, objects as JSON. */
  readonly encode?: (value: unknown) => string
}

const domainEntry = Type.Union([
  Type.String(),
  Type.Object(
    { name: Type.String(), type: Type.Optional(oneOf(DOMAIN_TYPES)) },
    { additionalProperties: false },
  ),
])
const compatEntry = Type.Union([
  Type.String(),
  Type.Object(
    { name: oneOf(Object.keys(COMPAT_APIS)), prefix: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
])

/**
 * Every field of the file and the variable it stands for: the one place that knows both names. Types
 * are checked here; ranges and meaning stay with loadConfig, whose errors are rewritten to the field.
 */
export const SETTINGS: readonly Setting[] = [
  { field: 'roles', variable: 'EPHEMAIL_ROLES', schema: Type.Array(oneOf(ROLES), { minItems: 1 }) },
  { field: 'host', variable: 'EPHEMAIL_HOST', schema: Type.String() },
  { field: 'http.port', variable: 'EPHEMAIL_HTTP_PORT', schema: whole() },
  { field: 'http.maxBodyBytes', variable: 'EPHEMAIL_HTTP_MAX_BODY_BYTES', schema: whole() },
  {
    field: 'http.corsOrigins',
    variable: 'EPHEMAIL_CORS_ORIGINS',
    schema: Type.Union([Type.Literal('*'), strings()]),
  },
  { field: 'http.trustedProxies', variable: 'EPHEMAIL_TRUSTED_PROXIES', schema: strings() },
  { field: 'smtp.port', variable: 'EPHEMAIL_SMTP_PORT', schema: whole() },
  { field: 'smtp.server', variable: 'EPHEMAIL_SMTP_SERVER', schema: oneOf(SMTP_SERVERS) },
  { field: 'smtp.hostname', variable: 'EPHEMAIL_SMTP_HOSTNAME', schema: Type.String() },
  { field: 'smtp.tls.cert', variable: 'EPHEMAIL_SMTP_TLS_CERT', schema: Type.String(), isPath: true },
  { field: 'smtp.tls.key', variable: 'EPHEMAIL_SMTP_TLS_KEY', schema: Type.String(), isPath: true },
  { field: 'smtp.tlsPort', variable: 'EPHEMAIL_SMTPS_PORT', schema: whole() },
  { field: 'smtp.maxMessageBytes', variable: 'EPHEMAIL_MAX_MESSAGE_BYTES', schema: whole() },
  { field: 'smtp.maxRecipients', variable: 'EPHEMAIL_MAX_RECIPIENTS', schema: whole() },
  { field: 'smtp.maxClients', variable: 'EPHEMAIL_SMTP_MAX_CLIENTS', schema: whole() },
  { field: 'smtp.maxClientsPerAddress', variable: 'EPHEMAIL_SMTP_MAX_CLIENTS_PER_IP', schema: whole() },
  {
    field: 'smtp.connectionsPerMinutePerAddress',
    variable: 'EPHEMAIL_SMTP_CONNECTIONS_PER_MINUTE_PER_IP',
    schema: whole(),
  },
  {
    field: 'smtp.messagesPerHourPerAddress',
    variable: 'EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP',
    schema: whole(),
  },
  { field: 'smtp.socketTimeoutMs', variable: 'EPHEMAIL_SMTP_SOCKET_TIMEOUT_MS', schema: whole() },
  { field: 'smtp.sessionTimeoutMs', variable: 'EPHEMAIL_SMTP_SESSION_TIMEOUT_MS', schema: whole() },
  {
    field: 'ingest.sources',
    variable: 'EPHEMAIL_INGEST',
    schema: Type.Array(oneOf(INGEST_SOURCES), { minItems: 1 }),
  },
  // Secrets: a file may hold them (mode 0600), but the environment or a secret store is the better place.
  { field: 'ingest.http.secret', variable: 'EPHEMAIL_INBOUND_SECRET', schema: Type.String() },
  {
    field: 'ingest.http.mailgun.signingKey',
    variable: 'EPHEMAIL_INBOUND_MAILGUN_SIGNING_KEY',
    schema: Type.String(),
  },
  {
    field: 'ingest.http.sendgrid.publicKey',
    variable: 'EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY',
    schema: Type.String(),
  },
  { field: 'ingest.http.postmark.user', variable: 'EPHEMAIL_INBOUND_POSTMARK_USER', schema: Type.String() },
  {
    field: 'ingest.http.postmark.password',
    variable: 'EPHEMAIL_INBOUND_POSTMARK_PASSWORD',
    schema: Type.String(),
  },
  // One URL per polled mailbox; commas inside a URL are percent-encoded, so the list joins with commas.
  { field: 'ingest.imap.urls', variable: 'EPHEMAIL_IMAP_URL', schema: strings() },
  { field: 'ingest.imap.after', variable: 'EPHEMAIL_IMAP_AFTER', schema: Type.String() },
  { field: 'ingest.imap.pollSeconds', variable: 'EPHEMAIL_IMAP_POLL_SECONDS', schema: whole() },
  { field: 'ingest.imap.idle', variable: 'EPHEMAIL_IMAP_IDLE', schema: Type.Boolean() },
  { field: 'ingest.imap.tlsCa', variable: 'EPHEMAIL_IMAP_TLS_CA', schema: Type.String(), isPath: true },
  { field: 'storage.driver', variable: null, schema: oneOf(['pglite', 'postgres']), required: true },
  {
    field: 'storage.dataDir',
    variable: 'EPHEMAIL_DATA_DIR',
    schema: Type.String(),
    when: { field: 'storage.driver', is: 'pglite' },
    isPath: true,
  },
  {
    field: 'storage.url',
    variable: 'DATABASE_URL',
    schema: Type.String(),
    when: { field: 'storage.driver', is: 'postgres' },
    required: true,
  },
  {
    field: 'storage.poolSize',
    variable: 'EPHEMAIL_DB_POOL_SIZE',
    schema: whole(),
    when: { field: 'storage.driver', is: 'postgres' },
  },
  { field: 'queue.driver', variable: null, schema: oneOf(['inline', 'bullmq']), required: true },
  {
    field: 'queue.url',
    variable: 'REDIS_URL',
    schema: Type.String(),
    when: { field: 'queue.driver', is: 'bullmq' },
    required: true,
  },
  { field: 'pubsub.driver', variable: null, schema: oneOf(['memory', 'redis']), required: true },
  {
    field: 'pubsub.url',
    variable: 'REDIS_URL',
    schema: Type.String(),
    when: { field: 'pubsub.driver', is: 'redis' },
    required: true,
  },
  { field: 'redisPrefix', variable: 'EPHEMAIL_REDIS_PREFIX', schema: Type.String() },
  {
    field: 'domains',
    variable: 'EPHEMAIL_DOMAINS',
    schema: Type.Array(domainEntry),
    encode: (value) =>
      (value as (string | { name: string; type?: string })[])
        .map((entry) => (typeof entry === 'string' ? entry : `${entry.name}:${entry.type ?? 'public'}`))
        .join(','),
  },
  { field: 'domainChecks.mxHosts', variable: 'EPHEMAIL_MX_HOSTS', schema: strings() },
  { field: 'domainChecks.recheckSeconds', variable: 'EPHEMAIL_DOMAIN_RECHECK_SECONDS', schema: whole() },
  { field: 'domainChecks.dnsServers', variable: 'EPHEMAIL_DOMAIN_DNS_SERVERS', schema: strings() },
  {
    field: 'auth.styles',
    variable: 'EPHEMAIL_AUTH',
    schema: Type.Array(oneOf(AUTH_STYLES), { minItems: 1 }),
  },
  { field: 'auth.adminKey', variable: 'EPHEMAIL_ADMIN_KEY', schema: Type.String() },
  { field: 'auth.anonymous', variable: 'EPHEMAIL_ANONYMOUS', schema: Type.Boolean() },
  {
    field: 'compat',
    variable: 'EPHEMAIL_COMPAT',
    schema: Type.Array(compatEntry),
    encode: (value) =>
      (value as (string | { name: string; prefix?: string })[])
        .map((entry) =>
          typeof entry === 'string'
            ? entry
            : entry.prefix === undefined
              ? entry.name
              : `${entry.name}:${entry.prefix}`,
        )
        .join(','),
  },
  {
    field: 'ratePlans',
    variable: 'EPHEMAIL_RATE_PLANS',
    schema: Type.Record(Type.String(), Type.Object({})),
  },
  { field: 'ttl.defaultSeconds', variable: 'EPHEMAIL_TTL_DEFAULT_SECONDS', schema: whole() },
  { field: 'ttl.minSeconds', variable: 'EPHEMAIL_TTL_MIN_SECONDS', schema: whole() },
  { field: 'ttl.maxSeconds', variable: 'EPHEMAIL_TTL_MAX_SECONDS', schema: whole() },
  { field: 'worker.concurrency', variable: 'EPHEMAIL_WORKER_CONCURRENCY', schema: whole() },
  { field: 'worker.attempts', variable: 'EPHEMAIL_JOB_ATTEMPTS', schema: whole() },
  { field: 'worker.dnsTimeoutMs', variable: 'EPHEMAIL_DNS_TIMEOUT_MS', schema: whole() },
  { field: 'worker.sweepIntervalMs', variable: 'EPHEMAIL_SWEEP_INTERVAL_MS', schema: whole() },
  { field: 'extractor.driver', variable: null, schema: oneOf(['builtin']), required: true },
  {
    field: 'extractor.rules',
    variable: 'EPHEMAIL_EXTRACT_RULES',
    schema: Type.Array(Type.Object({})),
    when: { field: 'extractor.driver', is: 'builtin' },
  },
  { field: 'live.heartbeatMs', variable: 'EPHEMAIL_SSE_HEARTBEAT_MS', schema: whole() },
  { field: 'live.maxWebSocketSubscriptions', variable: 'EPHEMAIL_WS_MAX_SUBSCRIPTIONS', schema: whole() },
  { field: 'live.maxBufferedBytes', variable: 'EPHEMAIL_STREAM_MAX_BUFFERED_BYTES', schema: whole() },
  { field: 'webhooks.attempts', variable: 'EPHEMAIL_WEBHOOK_ATTEMPTS', schema: whole() },
  { field: 'webhooks.backoffMs', variable: 'EPHEMAIL_WEBHOOK_BACKOFF_MS', schema: whole() },
  { field: 'webhooks.backoffCapMs', variable: 'EPHEMAIL_WEBHOOK_BACKOFF_CAP_MS', schema: whole() },
  { field: 'webhooks.timeoutMs', variable: 'EPHEMAIL_WEBHOOK_TIMEOUT_MS', schema: whole() },
  {
    field: 'webhooks.concurrencyPerEndpoint',
    variable: 'EPHEMAIL_WEBHOOK_CONCURRENCY_PER_ENDPOINT',
    schema: whole(),
  },
  { field: 'webhooks.concurrency', variable: 'EPHEMAIL_WEBHOOK_CONCURRENCY', schema: whole() },
  { field: 'webhooks.maxPerMailbox', variable: 'EPHEMAIL_WEBHOOK_MAX_PER_MAILBOX', schema: whole() },
  { field: 'webhooks.allowCidrs', variable: 'EPHEMAIL_WEBHOOK_ALLOW_CIDRS', schema: strings() },
]

/** The variable naming the config file when `--config` is not given. */
export const CONFIG_FILE_VARIABLE = 'EPHEMAIL_CONFIG'

/** Nested objects built from the dotted fields; every object refuses fields it does not know. */
function buildSchema(): TSchema {
  interface Node {
    leaves: Map<string, Setting>
    children: Map<string, Node>
  }
  const root: Node = { leaves: new Map(), children: new Map() }
  for (const setting of SETTINGS) {
    const parts = setting.field.split('.')
    let node = root
    for (const part of parts.slice(0, -1)) {
      let child = node.children.get(part)
      if (!child) {
        child = { leaves: new Map(), children: new Map() }
        node.children.set(part, child)
      }
      node = child
    }
    node.leaves.set(parts.at(-1) as string, setting)
  }
  const toSchema = (node: Node, top: boolean): TSchema => {
    const properties: Record<string, TSchema> = {}
    // Conditionally required fields are optional to the schema; checkDrivers asks for them by name.
    for (const [key, setting] of node.leaves)
      properties[key] = setting.required && !setting.when ? setting.schema : Type.Optional(setting.schema)
    for (const [key, child] of node.children) properties[key] = Type.Optional(toSchema(child, false))
    // `$schema` lets an editor find the JSON Schema (deploy/ephemail.config.schema.json); it sets nothing.
    if (top) properties.$schema = Type.Optional(Type.String())
    return Type.Object(properties, { additionalProperties: false })
  }
  return toSchema(root, true)
}

/** The file's JSON Schema: TypeBox schemas are JSON Schema (the generated copy is deploy/ephemail.config.schema.json). */
export const CONFIG_FILE_SCHEMA = buildSchema()

/** A field's value in a parsed file, or undefined. */
function valueAt(document: unknown, field: string): unknown {
  let value: unknown = document
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/** `/storage/driver` → `storage.driver`; `/domains/0` → `domains[0]`. */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), '')
}

function literals(schema: TSchema): string[] | null {
  const options = (schema as { anyOf?: TSchema[] }).anyOf
  if (!options?.every((option) => 'const' in option)) return null
  return options.map((option) => String((option as unknown as { const: unknown }).const))
}

/** One schema error in words, naming the field. */
function describeError(error: ValueError): string {
  const field = fieldName(error.path)
  const schema = error.schema as TSchema & { type?: string; properties?: Record<string, unknown> }
  if (error.message === 'Unexpected property') {
    // The error's schema is the object that refused the field: its properties are what it knows.
    const known = Object.keys(schema.properties ?? {}).filter((key) => key !== '$schema')
    return `${field} is not a setting${known.length > 0 ? `; known here: ${known.join(', ')}` : ''}`
  }
  if (error.message === 'Expected required property') return `${field} is required`
  const choices = literals(schema)
  if (choices) return `${field} must be one of ${choices.join(', ')}`
  if (schema.anyOf) {
    // An object where the union also takes one: its own errors say more than "wrong shape".
    const objectOption = (schema.anyOf as TSchema[]).find((option) => option.type === 'object')
    if (
      objectOption &&
      error.value !== null &&
      typeof error.value === 'object' &&
      !Array.isArray(error.value)
    ) {
      const inner = [...Value.Errors(objectOption, error.value)]
      if (inner.length > 0)
        return inner
          .map((problem) => describeError({ ...problem, path: `${error.path}${problem.path}` }))
          .join('; ')
    }
    return `${field} has the wrong shape (${describeUnion(schema.anyOf as TSchema[])})`
  }
  switch (schema.type) {
    case 'integer':
      return `${field} must be a whole number`
    case 'string':
      return `${field} must be a string`
    case 'boolean':
      return `${field} must be true or false`
    case 'array':
      return error.message.startsWith('Expected array length')
        ? `${field} must not be empty`
        : `${field} must be a list`
    case 'object':
      return `${field} must be an object`
    default:
      return `${field}: ${error.message.toLowerCase()}`
  }
}

function describeUnion(options: TSchema[]): string {
  return options
    .map((option) => {
      if ('const' in option) return JSON.stringify(option.const)
      if (option.type === 'object') return `{ ${Object.keys(option.properties ?? {}).join(', ')} }`
      if (option.type === 'array') return 'a list'
      return `a ${option.type}`
    })
    .join(' or ')
}

/** Rules the schema cannot state: fields valid only with one driver, and the one Redis that queue and pub/sub share. */
function checkDrivers(document: unknown): string[] {
  const problems: string[] = []
  for (const setting of SETTINGS) {
    if (!setting.when) continue
    const value = valueAt(document, setting.field)
    const section = setting.field.split('.').slice(0, -1).join('.')
    if (valueAt(document, section) === undefined) continue
    const selected = valueAt(document, setting.when.field)
    if (selected === setting.when.is) {
      if (setting.required && value === undefined)
        problems.push(`${setting.field} is required when ${setting.when.field} is ${setting.when.is}`)
    } else if (value !== undefined)
      problems.push(`${setting.field} applies only when ${setting.when.field} is ${setting.when.is}`)
  }
  const queueRedis = valueAt(document, 'queue.driver') === 'bullmq'
  const pubsubRedis = valueAt(document, 'pubsub.driver') === 'redis'
  const queueSet = valueAt(document, 'queue') !== undefined
  const pubsubSet = valueAt(document, 'pubsub') !== undefined
  // Both travel on REDIS_URL: one Redis carries the jobs and the events, or neither does.
  if ((queueRedis && !pubsubRedis) || (pubsubRedis && !queueRedis)) {
    if (queueSet && pubsubSet)
      problems.push(
        'queue.driver and pubsub.driver must be bullmq with redis, or inline with memory: jobs and events share one Redis',
      )
    else
      problems.push(
        `${queueSet ? 'pubsub' : 'queue'} must be given too: jobs and events share one Redis (queue.driver bullmq with pubsub.driver redis)`,
      )
  } else if (queueRedis && pubsubRedis && valueAt(document, 'queue.url') !== valueAt(document, 'pubsub.url'))
    problems.push('queue.url and pubsub.url must be the same Redis (both are REDIS_URL)')
  return problems
}

function encode(setting: Setting, value: unknown, folder: string): string {
  if (setting.encode) return setting.encode(value)
  if (setting.isPath && typeof value === 'string' && value !== '' && !isAbsolute(value))
    return resolve(folder, value)
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',')
  if (value !== null && typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** A validated config file: the variables it sets, and which field set each. */
export interface ConfigFile {
  /** The path as given (errors and reports name it so). */
  readonly path: string
  readonly variables: Readonly<Record<string, string>>
  /** Variable → the file field it came from. */
  readonly fieldOf: Readonly<Record<string, string>>
}

/** Validates a parsed document (what the JSON or the .ts module's default export holds) and maps it. */
export function mapConfigDocument(path: string, document: unknown): ConfigFile {
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw new ConfigError(`${path}: the file must hold one object of settings`)
  const problems = [...new Set([...Value.Errors(CONFIG_FILE_SCHEMA, document)].map(describeError))]
  if (problems.length === 0) problems.push(...checkDrivers(document))
  if (problems.length > 0) throw new ConfigError(`${path}: ${problems.join('; ')}`)
  const folder = dirname(resolve(path))
  const variables: Record<string, string> = {}
  const fieldOf: Record<string, string> = {}
  for (const setting of SETTINGS) {
    const value = valueAt(document, setting.field)
    if (value === undefined || setting.variable === null || setting.variable in variables) continue
    variables[setting.variable] = encode(setting, value, folder)
    fieldOf[setting.variable] = setting.field
  }
  return { path, variables, fieldOf }
}

/** Reads `path` (.json parsed; .ts, .mts, .js imported, its default export taken) and validates it. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  const absolute = resolve(path)
  const extension = extname(path)
  let document: unknown
  if (extension === '.json') {
    let text: string
    try {
      text = readFileSync(absolute, 'utf8')
    } catch (error) {
      throw new ConfigError(`${path} cannot be read: ${(error as Error).message}`)
    }
    try {
      document = JSON.parse(text)
    } catch (error) {
      throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`)
    }
  } else if (['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
    let module: { default?: unknown }
    try {
      module = await import(pathToFileURL(absolute).href)
    } catch (error) {
      throw new ConfigError(`${path} cannot be loaded: ${(error as Error).message}`)
    }
    if (module.default === undefined)
      throw new ConfigError(`${path} has no default export (write \`export default { ... }\`)`)
    document = module.default
  } else throw new ConfigError(`${path}: a config file ends in .json or .ts`)
  return mapConfigDocument(path, document)
}

/** Where a variable's value came from. */
export type Source =
  | { readonly from: 'file'; readonly field: string }
  | { readonly from: 'environment'; readonly overrides?: string }
  | { readonly from: 'flag'; readonly flag: string }

/** Every variable the table names (what `ephemail config` reports the source of). */
export const FILE_VARIABLES: readonly string[] = [
  ...new Set(SETTINGS.flatMap((setting) => (setting.variable ? [setting.variable] : []))),
]

/**
 * The file's variables under the environment's: a variable set (not blank) in `env` wins, as loadConfig
 * takes a blank one for unset. Returns the merged variables and where each set one came from.
 */
export function layerEnvironment(
  file: ConfigFile | null,
  env: Env,
): { env: Env; sources: Record<string, Source> } {
  const merged: Env = { ...env }
  const sources: Record<string, Source> = {}
  for (const variable of FILE_VARIABLES) {
    const own = env[variable]
    const fromFile = file?.variables[variable]
    const field = file?.fieldOf[variable]
    if (own !== undefined && own.trim() !== '')
      sources[variable] = field ? { from: 'environment', overrides: field } : { from: 'environment' }
    else if (fromFile !== undefined && field !== undefined) {
      merged[variable] = fromFile
      sources[variable] = { from: 'file', field }
    }
  }
  return { env: merged, sources }
}

/** loadConfig over the layered variables; an error about a value from the file names the file's field. */
export function loadLayeredConfig(
  file: ConfigFile | null,
  env: Env,
  argv: readonly string[] = [],
): { config: Config; sources: Record<string, Source> } {
  const layered = layerEnvironment(file, env)
  if (argv.some((arg) => arg === '--role' || arg.startsWith('--role=')))
    layered.sources.EPHEMAIL_ROLES = { from: 'flag', flag: '--role' }
  try {
    return { config: loadConfig(layered.env, argv), sources: layered.sources }
  } catch (error) {
    if (!(error instanceof ConfigError) || !file) throw error
    throw new ConfigError(rewriteForFile(error.message, file, layered.sources))
  }
}

/** `EPHEMAIL_HTTP_PORT=70000 is outside 0..65535` → `FILE: http.port=70000 is outside 0..65535`. */
function rewriteForFile(message: string, file: ConfigFile, sources: Record<string, Source>): string {
  let rewritten = message
  for (const [variable, source] of Object.entries(sources)) {
    if (source.from !== 'file') continue
    rewritten = rewritten.replace(new RegExp(`\\b${variable}\\b`, 'g'), source.field)
  }
  return rewritten === message ? message : `${file.path}: ${rewritten}`
}

/** The config file `--config` names, else EPHEMAIL_CONFIG, read and validated; null when neither is set. */
export async function configFileFrom(flag: string | undefined, env: Env): Promise<ConfigFile | null> {
  const path = flag?.trim() || env[CONFIG_FILE_VARIABLE]?.trim()
  return path ? readConfigFile(path) : null
}
