// Which server and credential a command uses: --url/--key, then EPHEMAIL_URL/EPHEMAIL_KEY, then a remembered mailbox token.

import { createClient, type EphemailClient } from '#client/index.ts'
import packageJson from '../../package.json' with { type: 'json' }
import { UsageError } from './args.ts'
import type { CliIo } from './command.ts'
import { createTokenStore, stateDirectory, type TokenStore } from './token-store.ts'

export const DEFAULT_URL = 'http://127.0.0.1:3000'

export interface Connection {
  /** Base URL without a trailing slash (the token store's key). */
  readonly url: string
  /** The key from --key or EPHEMAIL_KEY; null: anonymous, or a remembered token per mailbox. */
  readonly key: string | null
  readonly tokens: TokenStore
}

export function resolveConnection(values: Readonly<Record<string, unknown>>, io: CliIo): Connection {
  const raw = (values.url as string | undefined) ?? io.env.EPHEMAIL_URL?.trim() ?? ''
  const from = values.url === undefined && raw !== '' ? 'EPHEMAIL_URL' : '--url'
  return {
    url: raw === '' ? DEFAULT_URL : normaliseUrl(raw, from),
    key: (values.key as string | undefined)?.trim() || io.env.EPHEMAIL_KEY?.trim() || null,
    tokens: createTokenStore(stateDirectory(io.env)),
  }
}

function normaliseUrl(raw: string, from: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`${from} "${raw}" is not a URL such as ${DEFAULT_URL}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${from} "${raw}" must start with http:// or https://`)
  return url.toString().replace(/\/+$/, '')
}

/**
 * The credential for one mailbox: an explicit key wins (it may be an admin or API key that owns
 * the mailbox); otherwise the token remembered when this CLI created it; otherwise none.
 */
export async function credentialFor(connection: Connection, address: string): Promise<string | null> {
  if (connection.key) return connection.key
  return (await connection.tokens.find(connection.url, address))?.token ?? null
}

/** A client of the connection's server with its key (mailbox tokens are passed per call). */
export function openClient(connection: Connection): EphemailClient {
  return createClient({
    baseUrl: connection.url,
    ...(connection.key ? { key: connection.key } : {}),
    headers: { 'user-agent': `ephemail-cli/${packageJson.version}` },
  })
}

/** The per-call credential for one mailbox's calls, in the client's terms. */
export async function callOptionsFor(connection: Connection, address: string): Promise<{ token?: string }> {
  const credential = await credentialFor(connection, address)
  return credential ? { token: credential } : {}
}
