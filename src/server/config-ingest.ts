// Settings of the ingest sources (EPHEMAIL_INGEST and the HTTP inbound adapters), read by loadConfig in config.ts.

import { ConfigError } from './config.ts'

type Env = Record<string, string | undefined>

/** Sources EPHEMAIL_INGEST may turn on (plugins/ingest). */
export const INGEST_SOURCES = ['smtp', 'http', 'imap'] as const
export type IngestSourceName = (typeof INGEST_SOURCES)[number]

export interface InboundConfig {
  /** Shared secret of `POST /v1/inbound` and the Cloudflare worker (Bearer); required with `http` on. */
  readonly secret: string | null
  /** Mailgun's HTTP webhook signing key: verifies timestamp/token/signature of /v1/inbound/mailgun. */
  readonly mailgunSigningKey: string | null
  /** SendGrid's signed-webhook public key (base64 DER, P-256): /v1/inbound/sendgrid then needs a valid signature. */
  readonly sendgridPublicKey: string | null
  /** Basic credentials Postmark puts in the webhook URL (https://USER:PASS@host/v1/inbound/postmark). */
  readonly postmark: { readonly user: string; readonly password: string } | null
  /** Largest request body of the inbound routes: a message of the size limit as base64 inside JSON or a form. */
  readonly maxBodyBytes: number
}

/** Shortest shared secret accepted: it is the only thing between the internet and the funnel. */
const MIN_SECRET_LENGTH = 16

export function readIngestSources(env: Env): IngestSourceName[] {
  const raw = env.EPHEMAIL_INGEST?.trim() || 'smtp'
  const known = INGEST_SOURCES.join(', ')
  const sources = raw
    .split(',')
    .map((source) => source.trim())
    .filter(Boolean)
  if (sources.length === 0) throw new ConfigError(`EPHEMAIL_INGEST names no source; known: ${known}`)
  for (const source of sources)
    if (!(INGEST_SOURCES as readonly string[]).includes(source))
      throw new ConfigError(`EPHEMAIL_INGEST: "${source}" is not an ingest source; known: ${known}`)
  return [...new Set(sources)] as IngestSourceName[]
}

export function readInbound(env: Env, sources: readonly string[], maxMessageBytes: number): InboundConfig {
  const secret = env.EPHEMAIL_INBOUND_SECRET?.trim() || null
  if (sources.includes('http') && secret === null)
    throw new ConfigError('EPHEMAIL_INBOUND_SECRET must be set when EPHEMAIL_INGEST includes http')
  if (secret !== null && secret.length < MIN_SECRET_LENGTH)
    throw new ConfigError(`EPHEMAIL_INBOUND_SECRET must be at least ${MIN_SECRET_LENGTH} characters`)
  const sendgridPublicKey = env.EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY?.trim() || null
  if (sendgridPublicKey !== null && !/^[A-Za-z0-9+/=\s]+$/.test(sendgridPublicKey))
    throw new ConfigError('EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY is not base64 (paste the key SendGrid shows)')
  const user = env.EPHEMAIL_INBOUND_POSTMARK_USER?.trim() || null
  const password = env.EPHEMAIL_INBOUND_POSTMARK_PASSWORD?.trim() || null
  if ((user === null) !== (password === null))
    throw new ConfigError(
      'EPHEMAIL_INBOUND_POSTMARK_USER and EPHEMAIL_INBOUND_POSTMARK_PASSWORD are set together or not at all',
    )
  return {
    secret,
    mailgunSigningKey: env.EPHEMAIL_INBOUND_MAILGUN_SIGNING_KEY?.trim() || null,
    sendgridPublicKey: sendgridPublicKey?.replace(/\s+/g, '') ?? null,
    postmark: user !== null && password !== null ? { user, password } : null,
    // base64 is 4/3 of the bytes, plus the form or JSON around it (Postmark sends text, HTML and parts).
    maxBodyBytes: Math.ceil((maxMessageBytes * 4) / 3) * 2 + 64 * 1024,
  }
}
