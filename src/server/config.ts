// Configuration: environment variables parsed once into a typed, frozen object, with errors that name the variable.

import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { Plan } from '#core/context.ts'
import { isValidDomainName, parseDomainList, type ReceivingDomain } from '#lib/address.ts'
import { parseExtractionRules } from '#lib/extraction-rules.ts'
import {
  type ImapAccount,
  type ImapAfter,
  parseImapAfter,
  parseImapUrls,
} from '#plugins/ingest/imap/settings.ts'
import { parseTrustedProxies } from '#server/http/client-ip.ts'
import { parseAllowedCidrs } from '#server/webhooks/address-policy.ts'
import { type InboundConfig, type IngestSourceName, readInbound, readIngestSources } from './config-ingest.ts'
import { parsePlans } from './plans.ts'

export type Role = 'api' | 'smtp' | 'worker'
export const ROLES: readonly Role[] = ['api', 'smtp', 'worker']

/** Credential styles EPHEMAIL_AUTH may turn on (plugins/auth); `access-token` is always on, on stream routes only. */
export const AUTH_STYLES = ['bearer', 'header', 'query'] as const
export type AuthStyle = (typeof AUTH_STYLES)[number]

/** Compatibility layers EPHEMAIL_COMPAT may mount (plugins/compat), each with the prefix it mounts at by default. */
export const COMPAT_APIS = {
  'tempmail-io': '',
  tempmailg: '',
  'tempmail-worker': '/tempmail-worker',
  'tempmail-v1': '',
} as const
export type CompatName = keyof typeof COMPAT_APIS

/** SMTP front ends EPHEMAIL_SMTP_SERVER may pick (plugins/ingest/smtp and plugins/ingest/smtp-bun). */
export const SMTP_SERVERS = ['smtp-server', 'bun'] as const
export type SmtpServer = (typeof SMTP_SERVERS)[number]

export interface Config {
  readonly roles: readonly Role[]
  readonly host: string
  readonly httpPort: number
  readonly smtpPort: number
  readonly smtpHostname: string
  /** Which SMTP front end listens (EPHEMAIL_SMTP_SERVER): smtp-server (default) or the Bun-native one. */
  readonly smtpServer: SmtpServer
  /** Certificate and key (PEM text) for STARTTLS and implicit TLS; null: plain SMTP only. */
  readonly smtpTls: { readonly cert: string; readonly key: string } | null
  /** Port of the implicit-TLS SMTP listener (as on 465); null: none. Needs smtpTls. */
  readonly smtpsPort: number | null
  readonly dataDir: string
  readonly databaseUrl: string | null
  readonly redisUrl: string | null
  /** Prefix of every Redis name (queues, pub/sub channel): several deployments can share one Redis. */
  readonly redisPrefix: string
  readonly domains: readonly ReceivingDomain[]
  /** How domains registered through the admin API are checked before they receive mail. */
  readonly domainChecks: {
    /** Hosts a registered domain's MX must point at (one matching record is enough). */
    readonly mxHosts: readonly string[]
    /** Seconds between re-checks of a verified domain (pending ones are re-checked every minute). */
    readonly recheckSeconds: number
    /** DNS servers the MX check asks (`ip` or `ip:port`); empty: the system's resolvers. */
    readonly dnsServers: readonly string[]
  }
  readonly adminKey: string | null
  readonly anonymous: boolean
  /** Credential styles honoured on every route, in order of precedence (EPHEMAIL_AUTH). */
  readonly authStyles: readonly AuthStyle[]
  /** Ingest sources to run (EPHEMAIL_INGEST, default smtp): listeners in the smtp role, HTTP ones in the api role. */
  readonly ingest: readonly IngestSourceName[]
  /** The HTTP inbound source's secret and provider credentials (EPHEMAIL_INBOUND_*). */
  readonly inbound: InboundConfig
  /** The IMAP poll source (EPHEMAIL_IMAP_*); it polls only when EPHEMAIL_INGEST includes imap. */
  readonly imap: ImapConfig
  /** Compatibility layers to mount and where ('' at the root), from EPHEMAIL_COMPAT. */
  readonly compat: readonly { readonly name: CompatName; readonly prefix: string }[]
  readonly ttl: { readonly defaultSeconds: number; readonly minSeconds: number; readonly maxSeconds: number }
  readonly limits: {
    /** Largest message accepted by any source (SMTP advertises it with SIZE, 552 past it; HTTP 413). */
    readonly maxMessageBytes: number
    /** RCPT TO commands per message: caps fan-out of one DATA into many stored copies. */
    readonly maxRecipients: number
    /** Concurrent SMTP connections: bounds sockets and buffers one host can hold. */
    readonly smtpMaxClients: number
    /** Concurrent SMTP connections from one client address: one host cannot lock every sender out. */
    readonly smtpMaxClientsPerAddress: number
    /** Idle time before an SMTP connection is closed. */
    readonly smtpSocketTimeoutMs: number
    /** Whole-session deadline: stops a client trickling one byte per idle period forever. */
    readonly smtpSessionTimeoutMs: number
    /** Largest HTTP request body: the API takes small JSON documents only. */
    readonly httpMaxBodyBytes: number
    /** SMTP connections one client address may open per minute (0: no limit): stops connect floods. */
    readonly smtpConnectionsPerMinutePerAddress: number
    /** Messages (MAIL FROM) one client address may begin per hour (0: no limit): stops one sender flooding. */
    readonly smtpMessagesPerHourPerAddress: number
  }
  /** Proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client; none: the peer is the client. */
  readonly trustedProxies: readonly string[]
  /** Rate-limit plans by name (EPHEMAIL_RATE_PLANS over the built-in anonymous, default and admin). */
  readonly plans: Readonly<Record<string, Plan>>
  /** Origins whose browsers may call the API (CORS): none, every one ('*'), or a list. */
  readonly corsOrigins: '*' | readonly string[]
  readonly sweepIntervalMs: number
  readonly databasePoolSize: number
  readonly worker: {
    /** process-message jobs run at once per worker process. */
    readonly concurrency: number
    /** Tries per job before the message is marked failed (it stays readable). */
    readonly attempts: number
    /** Deadline for each DNS lookup of sender authentication. */
    readonly dnsTimeoutMs: number
    /** Operator rules: sender domain + regex for the code, as JSON. */
    readonly extractRules: string
  }
  readonly live: {
    /** Comment line sent on a quiet event stream so proxies (and Bun) keep it open. */
    readonly heartbeatMs: number
    /** Mailboxes one WebSocket connection may follow at once. */
    readonly maxWebSocketSubscriptions: number
    /** Bytes a slow stream reader may fall behind before it is closed (it resumes from Last-Event-ID). */
    readonly maxBufferedBytes: number
  }
  readonly webhooks: {
    /** Tries per delivery before it is marked dead. */
    readonly attempts: number
    /** First retry delay; doubles per attempt up to the cap. */
    readonly backoffMs: number
    readonly backoffCapMs: number
    /** Deadline per attempt: connect, send and the answer's status line. */
    readonly timeoutMs: number
    /** Deliveries in flight at once to one webhook, across all workers. */
    readonly concurrencyPerEndpoint: number
    /** Deliveries in flight per worker process, all webhooks together. */
    readonly concurrency: number
    /** CIDR ranges webhooks may reach although they are loopback, private or link-local. */
    readonly allowCidrs: readonly string[]
    /** Webhooks one mailbox token may register. */
    readonly maxPerMailbox: number
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}="${raw}" is not a whole number`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name}=${value} is outside ${min}..${max}`)
  return value
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  if (['0', 'false', 'no', 'off'].includes(raw)) return false
  throw new ConfigError(`${name}="${env[name]}" is not a boolean (use true or false)`)
}

function readUrl(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name]?.trim()
  if (!raw) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`${name} is not a URL`)
  }
  if (!protocols.includes(url.protocol))
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`)
  return raw
}

function readRoles(env: Env, argv: readonly string[]): Role[] {
  const flag = argv.findIndex((arg) => arg === '--role' || arg.startsWith('--role='))
  const fromFlag =
    flag === -1 ? undefined : argv[flag]?.includes('=') ? argv[flag]?.split('=')[1] : argv[flag + 1]
  const raw = (fromFlag ?? env.EPHEMAIL_ROLES ?? ROLES.join(',')).trim()
  const roles = raw
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean)
  for (const role of roles)
    if (!ROLES.includes(role as Role))
      throw new ConfigError(
        `role "${role}" (from ${fromFlag ? '--role' : 'EPHEMAIL_ROLES'}) is not one of ${ROLES.join(', ')}`,
      )
  if (roles.length === 0) throw new ConfigError('EPHEMAIL_ROLES names no role')
  return [...new Set(roles)] as Role[]
}

function readExtractRules(env: Env): string {
  const raw = env.EPHEMAIL_EXTRACT_RULES?.trim() || '[]'
  try {
    parseExtractionRules(raw)
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_EXTRACT_RULES ${(error as Error).message}`)
  }
  return raw
}

function readRedisPrefix(env: Env): string {
  const raw = env.EPHEMAIL_REDIS_PREFIX?.trim() || 'ephemail'
  if (!/^[\w.-]{1,64}$/.test(raw))
    throw new ConfigError(`EPHEMAIL_REDIS_PREFIX="${raw}" may hold only letters, digits, _ . - (at most 64)`)
  return raw
}

function readAllowCidrs(env: Env): string[] {
  try {
    return parseAllowedCidrs(env.EPHEMAIL_WEBHOOK_ALLOW_CIDRS ?? '')
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_WEBHOOK_ALLOW_CIDRS ${(error as Error).message}`)
  }
}

function readCorsOrigins(env: Env): '*' | string[] {
  const raw = env.EPHEMAIL_CORS_ORIGINS?.trim() ?? ''
  if (raw === '') return []
  if (raw === '*') return '*'
  return raw.split(',').map((entry) => {
    const value = entry.trim()
    let origin: string
    try {
      origin = new URL(value).origin
    } catch {
      throw new ConfigError(
        `EPHEMAIL_CORS_ORIGINS: "${value}" is not an origin such as https://app.example.com`,
      )
    }
    if (origin !== value.replace(/\/$/, ''))
      throw new ConfigError(
        `EPHEMAIL_CORS_ORIGINS: "${value}" is not a bare origin (scheme, host and port only)`,
      )
    return origin
  })
}

function readAuthStyles(env: Env): AuthStyle[] {
  const raw = env.EPHEMAIL_AUTH?.trim() || 'bearer'
  const known = AUTH_STYLES.join(', ')
  const styles = raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
  if (styles.length === 0) throw new ConfigError(`EPHEMAIL_AUTH names no credential style; known: ${known}`)
  for (const style of styles) {
    if (style === 'access-token')
      throw new ConfigError(
        `EPHEMAIL_AUTH: "access-token" is always on (event stream and WebSocket only); list among ${known}`,
      )
    if (!(AUTH_STYLES as readonly string[]).includes(style))
      throw new ConfigError(`EPHEMAIL_AUTH: "${style}" is not a credential style; known: ${known}`)
  }
  return [...new Set(styles)] as AuthStyle[]
}

/** `name` or `name:/prefix`, comma-separated; a name at most once. */
function readCompat(env: Env): { name: CompatName; prefix: string }[] {
  const known = Object.keys(COMPAT_APIS).join(', ')
  const entries = (env.EPHEMAIL_COMPAT ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  const seen = new Set<string>()
  return entries.map((entry) => {
    const colon = entry.indexOf(':')
    const name = (colon === -1 ? entry : entry.slice(0, colon)).toLowerCase()
    if (!Object.hasOwn(COMPAT_APIS, name))
      throw new ConfigError(`EPHEMAIL_COMPAT: "${name}" is not a compatibility layer; known: ${known}`)
    if (seen.has(name)) throw new ConfigError(`EPHEMAIL_COMPAT names "${name}" twice`)
    seen.add(name)
    if (colon === -1) return { name: name as CompatName, prefix: COMPAT_APIS[name as CompatName] }
    const prefix = entry.slice(colon + 1).replace(/\/+$/, '')
    if (prefix !== '' && !/^(?:\/[A-Za-z0-9._~-]+)+$/.test(prefix))
      throw new ConfigError(
        `EPHEMAIL_COMPAT: "${entry.slice(colon + 1)}" is not a path prefix such as /tempmailg (or / for the root)`,
      )
    return { name: name as CompatName, prefix }
  })
}

function readTrustedProxies(env: Env): string[] {
  try {
    return parseTrustedProxies(env.EPHEMAIL_TRUSTED_PROXIES ?? '')
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_TRUSTED_PROXIES ${(error as Error).message}`)
  }
}

function readPlans(env: Env): Readonly<Record<string, Plan>> {
  try {
    return parsePlans(env.EPHEMAIL_RATE_PLANS ?? '')
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_RATE_PLANS ${(error as Error).message}`)
  }
}

function readSmtpTls(env: Env): { cert: string; key: string } | null {
  const certPath = env.EPHEMAIL_SMTP_TLS_CERT?.trim()
  const keyPath = env.EPHEMAIL_SMTP_TLS_KEY?.trim()
  if (!certPath && !keyPath) return null
  if (!certPath || !keyPath)
    throw new ConfigError('EPHEMAIL_SMTP_TLS_CERT and EPHEMAIL_SMTP_TLS_KEY go together: set both or neither')
  const read = (name: string, path: string, marker: RegExp) => {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new ConfigError(`${name}=${path} cannot be read: ${(error as Error).message}`)
    }
    if (!marker.test(text)) throw new ConfigError(`${name}=${path} is not a PEM file of the expected kind`)
    return text
  }
  return {
    cert: read('EPHEMAIL_SMTP_TLS_CERT', certPath, /-----BEGIN CERTIFICATE-----/),
    key: read('EPHEMAIL_SMTP_TLS_KEY', keyPath, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  }
}

function readSmtpServer(env: Env): SmtpServer {
  const raw = env.EPHEMAIL_SMTP_SERVER?.trim() || 'smtp-server'
  if (!(SMTP_SERVERS as readonly string[]).includes(raw))
    throw new ConfigError(`EPHEMAIL_SMTP_SERVER="${raw}" is not one of ${SMTP_SERVERS.join(', ')}`)
  return raw as SmtpServer
}

function readMxHosts(env: Env, smtpHostname: string): string[] {
  const raw = env.EPHEMAIL_MX_HOSTS?.trim()
  if (!raw) return [smtpHostname.toLowerCase().replace(/\.$/, '')]
  const hosts = raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\.$/, ''))
    .filter(Boolean)
  for (const host of hosts)
    if (!isValidDomainName(host)) throw new ConfigError(`EPHEMAIL_MX_HOSTS: "${host}" is not a host name`)
  if (hosts.length === 0) throw new ConfigError('EPHEMAIL_MX_HOSTS names no host')
  return [...new Set(hosts)]
}

function readDnsServers(env: Env): string[] {
  const raw = env.EPHEMAIL_DOMAIN_DNS_SERVERS?.trim() ?? ''
  if (raw === '') return []
  return raw.split(',').map((entry) => {
    const value = entry.trim()
    // 192.0.2.1, 192.0.2.1:5353, 2001:db8::1, [2001:db8::1]:5353: what Resolver.setServers takes.
    const match = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(value)
    const host = match ? match[1] : value
    const port = match?.[2] === undefined ? 53 : Number(match[2])
    if (!isIP(host ?? '') || port < 1 || port > 65535)
      throw new ConfigError(
        `EPHEMAIL_DOMAIN_DNS_SERVERS: "${value}" is not an IP address with an optional port (192.0.2.53:53)`,
      )
    return value
  })
}

// --- IMAP poll source (plugins/ingest/imap) ---

export interface ImapConfig {
  /** The catch-all mailboxes polled (EPHEMAIL_IMAP_URL); empty unless EPHEMAIL_INGEST includes imap. */
  readonly accounts: readonly ImapAccount[]
  /** What happens on the server to a stored message (EPHEMAIL_IMAP_AFTER, default delete). */
  readonly after: ImapAfter
  /** Rescan interval: the only trigger without IDLE, the safety net with it. */
  readonly pollSeconds: number
  /** Wait for new mail with IDLE where the server offers it (EPHEMAIL_IMAP_IDLE, default true). */
  readonly idle: boolean
  /** PEM of a CA or self-signed server certificate to trust besides the system's (EPHEMAIL_IMAP_TLS_CA). */
  readonly tlsCa: string | null
}

function readImap(env: Env, sources: readonly string[]): ImapConfig {
  let accounts: ImapAccount[]
  try {
    accounts = parseImapUrls(env.EPHEMAIL_IMAP_URL ?? '')
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_IMAP_URL: ${(error as Error).message}`)
  }
  const on = sources.includes('imap')
  if (on && accounts.length === 0)
    throw new ConfigError(
      'EPHEMAIL_IMAP_URL must name a mailbox (imap://USER:PASS@HOST/MAILBOX) when EPHEMAIL_INGEST includes imap',
    )
  let after: ImapAfter
  try {
    after = parseImapAfter(env.EPHEMAIL_IMAP_AFTER ?? '')
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_IMAP_AFTER: ${(error as Error).message}`)
  }
  if (after.action === 'move')
    for (const account of accounts)
      if (account.mailbox === after.folder)
        throw new ConfigError(
          `EPHEMAIL_IMAP_AFTER=move:${after.folder} is the mailbox ${account.name} polls: nothing would ever leave it`,
        )
  const caPath = env.EPHEMAIL_IMAP_TLS_CA?.trim()
  let tlsCa: string | null = null
  if (caPath) {
    try {
      tlsCa = readFileSync(caPath, 'utf8')
    } catch (error) {
      throw new ConfigError(`EPHEMAIL_IMAP_TLS_CA=${caPath} cannot be read: ${(error as Error).message}`)
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(tlsCa))
      throw new ConfigError(`EPHEMAIL_IMAP_TLS_CA=${caPath} is not a PEM certificate`)
  }
  return {
    // Off: no account is kept, so nothing polls and nothing is reported.
    accounts: on ? accounts : [],
    after,
    pollSeconds: readInteger(env, 'EPHEMAIL_IMAP_POLL_SECONDS', 30, 1, 3600),
    idle: readBoolean(env, 'EPHEMAIL_IMAP_IDLE', true),
    tlsCa,
  }
}

// --- end of the IMAP poll source ---

const DAY = 86_400

/** Reads every setting; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env, argv: readonly string[] = process.argv.slice(2)): Config {
  let domains: ReceivingDomain[]
  try {
    domains = parseDomainList(env.EPHEMAIL_DOMAINS ?? 'ephemail.test')
  } catch (error) {
    throw new ConfigError(`EPHEMAIL_DOMAINS ${(error as Error).message}`)
  }
  const minSeconds = readInteger(env, 'EPHEMAIL_TTL_MIN_SECONDS', 60, 1, 365 * DAY)
  const maxSeconds = readInteger(env, 'EPHEMAIL_TTL_MAX_SECONDS', 7 * DAY, 1, 365 * DAY)
  const defaultSeconds = readInteger(env, 'EPHEMAIL_TTL_DEFAULT_SECONDS', 600, 1, 365 * DAY)
  if (minSeconds > maxSeconds)
    throw new ConfigError(
      `EPHEMAIL_TTL_MIN_SECONDS=${minSeconds} is above EPHEMAIL_TTL_MAX_SECONDS=${maxSeconds}`,
    )
  if (defaultSeconds < minSeconds || defaultSeconds > maxSeconds)
    throw new ConfigError(
      `EPHEMAIL_TTL_DEFAULT_SECONDS=${defaultSeconds} is outside ${minSeconds}..${maxSeconds}`,
    )
  const adminKey = env.EPHEMAIL_ADMIN_KEY?.trim() || null
  if (adminKey !== null && adminKey.length < 16)
    throw new ConfigError('EPHEMAIL_ADMIN_KEY must be at least 16 characters (it guards every mailbox)')

  const ingest = readIngestSources(env)
  const maxMessageBytes = readInteger(
    env,
    'EPHEMAIL_MAX_MESSAGE_BYTES',
    10 * 1024 * 1024,
    1024,
    100 * 1024 * 1024,
  )
  const smtpHostname = env.EPHEMAIL_SMTP_HOSTNAME?.trim() || (domains[0] as ReceivingDomain).name
  const smtpTls = readSmtpTls(env)
  const smtpsRaw = env.EPHEMAIL_SMTPS_PORT?.trim()
  if (smtpsRaw && !smtpTls)
    throw new ConfigError('EPHEMAIL_SMTPS_PORT needs EPHEMAIL_SMTP_TLS_CERT and EPHEMAIL_SMTP_TLS_KEY')
  const config: Config = {
    roles: readRoles(env, argv),
    host: env.EPHEMAIL_HOST?.trim() || '0.0.0.0',
    httpPort: readInteger(env, 'EPHEMAIL_HTTP_PORT', 3000, 0, 65535),
    smtpPort: readInteger(env, 'EPHEMAIL_SMTP_PORT', 2525, 0, 65535),
    smtpHostname,
    smtpServer: readSmtpServer(env),
    smtpTls,
    smtpsPort: smtpsRaw ? readInteger(env, 'EPHEMAIL_SMTPS_PORT', 465, 0, 65535) : null,
    dataDir: env.EPHEMAIL_DATA_DIR?.trim() || './.data',
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: readRedisPrefix(env),
    domains,
    domainChecks: {
      mxHosts: readMxHosts(env, smtpHostname),
      recheckSeconds: readInteger(env, 'EPHEMAIL_DOMAIN_RECHECK_SECONDS', 3600, 60, 7 * DAY),
      dnsServers: readDnsServers(env),
    },
    adminKey,
    anonymous: readBoolean(env, 'EPHEMAIL_ANONYMOUS', true),
    authStyles: readAuthStyles(env),
    ingest,
    inbound: readInbound(env, ingest, maxMessageBytes),
    imap: readImap(env, ingest),
    compat: readCompat(env),
    ttl: { defaultSeconds, minSeconds, maxSeconds },
    limits: {
      maxMessageBytes,
      maxRecipients: readInteger(env, 'EPHEMAIL_MAX_RECIPIENTS', 50, 1, 1000),
      smtpMaxClients: readInteger(env, 'EPHEMAIL_SMTP_MAX_CLIENTS', 1000, 1, 100_000),
      smtpMaxClientsPerAddress: readInteger(env, 'EPHEMAIL_SMTP_MAX_CLIENTS_PER_IP', 50, 1, 100_000),
      smtpSocketTimeoutMs: readInteger(env, 'EPHEMAIL_SMTP_SOCKET_TIMEOUT_MS', 60_000, 100, 3_600_000),
      smtpSessionTimeoutMs: readInteger(env, 'EPHEMAIL_SMTP_SESSION_TIMEOUT_MS', 300_000, 1000, 86_400_000),
      httpMaxBodyBytes: readInteger(env, 'EPHEMAIL_HTTP_MAX_BODY_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
      smtpConnectionsPerMinutePerAddress: readInteger(
        env,
        'EPHEMAIL_SMTP_CONNECTIONS_PER_MINUTE_PER_IP',
        120,
        0,
        10_000_000,
      ),
      smtpMessagesPerHourPerAddress: readInteger(
        env,
        'EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP',
        2000,
        0,
        10_000_000,
      ),
    },
    trustedProxies: readTrustedProxies(env),
    plans: readPlans(env),
    corsOrigins: readCorsOrigins(env),
    sweepIntervalMs: readInteger(env, 'EPHEMAIL_SWEEP_INTERVAL_MS', 30_000, 100, 3_600_000),
    databasePoolSize: readInteger(env, 'EPHEMAIL_DB_POOL_SIZE', 10, 1, 100),
    worker: {
      concurrency: readInteger(env, 'EPHEMAIL_WORKER_CONCURRENCY', 8, 1, 256),
      attempts: readInteger(env, 'EPHEMAIL_JOB_ATTEMPTS', 5, 1, 50),
      dnsTimeoutMs: readInteger(env, 'EPHEMAIL_DNS_TIMEOUT_MS', 3000, 50, 60_000),
      extractRules: readExtractRules(env),
    },
    live: {
      heartbeatMs: readInteger(env, 'EPHEMAIL_SSE_HEARTBEAT_MS', 15_000, 100, 300_000),
      maxWebSocketSubscriptions: readInteger(env, 'EPHEMAIL_WS_MAX_SUBSCRIPTIONS', 100, 1, 10_000),
      maxBufferedBytes: readInteger(
        env,
        'EPHEMAIL_STREAM_MAX_BUFFERED_BYTES',
        1024 * 1024,
        1024,
        64 * 1024 * 1024,
      ),
    },
    webhooks: {
      attempts: readInteger(env, 'EPHEMAIL_WEBHOOK_ATTEMPTS', 16, 1, 100),
      backoffMs: readInteger(env, 'EPHEMAIL_WEBHOOK_BACKOFF_MS', 1000, 10, 3_600_000),
      backoffCapMs: readInteger(env, 'EPHEMAIL_WEBHOOK_BACKOFF_CAP_MS', 10 * 60_000, 10, 86_400_000),
      timeoutMs: readInteger(env, 'EPHEMAIL_WEBHOOK_TIMEOUT_MS', 5000, 100, 120_000),
      concurrencyPerEndpoint: readInteger(env, 'EPHEMAIL_WEBHOOK_CONCURRENCY_PER_ENDPOINT', 4, 1, 1000),
      concurrency: readInteger(env, 'EPHEMAIL_WEBHOOK_CONCURRENCY', 32, 1, 1000),
      allowCidrs: readAllowCidrs(env),
      maxPerMailbox: readInteger(env, 'EPHEMAIL_WEBHOOK_MAX_PER_MAILBOX', 5, 1, 1000),
    },
  }
  return deepFreeze(config)
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
