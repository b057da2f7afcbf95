// SMTP ingest (smtp-server): accepts RCPT only for live mailboxes and says 250 only after the funnel has stored the message.

import type { AddressInfo } from 'node:net'
import {
  SMTPServer,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server'
import type { IngestFunnel, IngestSource, IngestSourceFactory } from '#contracts/ingest.ts'
import type { RateLimiter } from '#contracts/rate-limit.ts'
import { loggableError } from '#lib/loggable-error.ts'
import {
  HOUR_MS,
  MAX_COMMAND_LINE_OCTETS,
  MAX_REFUSED_RECIPIENTS,
  MAX_TEXT_LINE_OCTETS,
  MINUTE_MS,
  RCPT_COMMANDS_PER_RECIPIENT,
  RCPT_REPLIES,
} from './policy.ts'

export { MAX_COMMAND_LINE_OCTETS, MAX_REFUSED_RECIPIENTS, MAX_TEXT_LINE_OCTETS }

export interface SmtpIngestOptions {
  funnel: IngestFunnel
  host: string
  port: number
  /** Name in the greeting and EHLO reply. */
  hostname: string
  maxMessageBytes: number
  maxRecipients: number
  maxClients: number
  /** Connections at once from one client address: one host cannot take every slot of maxClients. */
  maxClientsPerAddress: number
  socketTimeoutMs: number
  sessionTimeoutMs: number
  /** A certificate and key (PEM): STARTTLS is offered on `port`, and `implicitTlsPort` speaks TLS at once. */
  tls?: { cert: string; key: string } | null
  /** Port of the implicit-TLS listener (as on 465); only with `tls`. */
  implicitTlsPort?: number | null
  /** Counters for the per-address rates below (shared across processes on Redis); none: rates unlimited. */
  limiter?: RateLimiter | undefined
  /** Connections one client address may open per minute (0: no limit), refused with 421 at the greeting. */
  connectionsPerMinutePerAddress?: number
  /** Messages one client address may begin (MAIL FROM) per hour (0: no limit), refused with 421 there. */
  messagesPerHourPerAddress?: number
}

/** An Error carrying the SMTP reply smtp-server should send. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code })
}

type MessageRead = { raw: Uint8Array } | { refused: 'too-large' | 'line-too-long' }

/**
 * Reads the DATA stream. Past `maxBytes` it stops keeping anything and calls `onOversize` at once
 * (the session is answered 552 and closed: reading a 60 MB body to its end only to refuse it would
 * let one client pin that much memory and time). Lines are measured on the way (native indexOf, no
 * per-byte JavaScript loop).
 */
async function readMessage(
  stream: SMTPServerDataStream,
  maxBytes: number,
  onOversize: () => void,
): Promise<MessageRead> {
  const chunks: Buffer[] = []
  let size = 0
  let lineLength = 0
  let longestLine = 0
  let oversize = false
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length
    if (oversize) continue
    if (size > maxBytes) {
      oversize = true
      chunks.length = 0
      onOversize()
      continue
    }
    chunks.push(chunk)
    let from = 0
    for (let newline = chunk.indexOf(10, from); newline !== -1; newline = chunk.indexOf(10, from)) {
      lineLength += newline - from
      // CR before the LF belongs to the line ending, not the line.
      const ending = newline > 0 ? chunk[newline - 1] === 13 : lineLength > 0
      longestLine = Math.max(longestLine, lineLength - (ending ? 1 : 0))
      lineLength = 0
      from = newline + 1
    }
    lineLength += chunk.length - from
  }
  longestLine = Math.max(longestLine, lineLength)
  if (oversize || stream.sizeExceeded) return { refused: 'too-large' }
  if (longestLine > MAX_TEXT_LINE_OCTETS) return { refused: 'line-too-long' }
  return { raw: Buffer.concat(chunks, size) }
}

export function createSmtpIngest(options: SmtpIngestOptions) {
  const { funnel } = options
  const deadlines = new Map<string, ReturnType<typeof setTimeout>>()
  /** Open sessions per client address (only those let in, so refusals never unbalance the count). */
  const perAddress = new Map<string, number>()
  const admitted = new Map<string, string>()
  /** RCPT commands of the session's current transaction, and refused RCPTs of the whole session. */
  const rcptCounts = new Map<string, { commands: number; refused: number }>()
  const maxRcptCommands = options.maxRecipients * RCPT_COMMANDS_PER_RECIPIENT
  const limiter = options.limiter

  /**
   * Counts one hit on `key`; resolves with the seconds until its window ends when that hit is over
   * `limit`, else 0. A counter that cannot be reached lets the client in: a rate limit is not worth
   * refusing mail over (the per-address connection cap still holds).
   */
  async function overRate(key: string, windowMs: number, limit: number): Promise<number> {
    try {
      const { count, resetAt } = await (limiter as RateLimiter).hit(key, windowMs)
      return count > limit ? Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) : 0
    } catch (error) {
      console.error(`smtp: rate limiter failed, letting the client in: ${loggableError(error)}`)
      return 0
    }
  }

  function connectionOf(sessionId: string): SmtpConnection | undefined {
    for (const server of servers)
      for (const connection of (server as unknown as { connections: Set<SmtpConnection> }).connections)
        if (connection.id === sessionId) return connection
    return undefined
  }

  /** Answers now and closes: for limits that make reading on pointless. */
  function hangUp(sessionId: string, code: number, message: string) {
    const connection = connectionOf(sessionId)
    if (!connection) return
    connection.send(code, message)
    connection.close()
  }

  const tls = options.tls ?? null
  const handlers: SMTPServerOptions = {
    name: options.hostname,
    banner: 'Ephemail ready',
    size: options.maxMessageBytes,
    rejectOversized: true,
    maxCommandLength: MAX_COMMAND_LINE_OCTETS,
    maxRecipients: options.maxRecipients,
    maxClients: options.maxClients,
    socketTimeout: options.socketTimeoutMs,
    closeTimeout: 5_000,
    authOptional: true,
    // No one logs in to deliver mail here; STARTTLS only with a configured certificate.
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !tls,
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
    // There is no DNS on many hosts this runs on; a PTR lookup would only add latency.
    disableReverseLookup: true,
    logger: false,

    onConnect(session, callback) {
      const address = session.remoteAddress ?? ''
      const open = perAddress.get(address) ?? 0
      if (open >= options.maxClientsPerAddress)
        return callback(
          smtpError(
            421,
            `4.7.0 Too many connections from ${address} (at most ${options.maxClientsPerAddress})`,
          ),
        )
      perAddress.set(address, open + 1)
      admitted.set(session.id, address)
      // socketTimeout only catches idle clients; this deadline catches slow-drip ones too.
      const timer = setTimeout(
        () => hangUp(session.id, 421, '4.4.2 Session time limit exceeded, closing connection'),
        options.sessionTimeoutMs,
      )
      timer.unref?.()
      deadlines.set(session.id, timer)
      // Admitted first, so onClose balances the count whether or not the rate lets it through.
      const perMinute = options.connectionsPerMinutePerAddress ?? 0
      if (!limiter || perMinute === 0) return callback()
      overRate(`smtp-connect:${address}`, MINUTE_MS, perMinute).then((over) =>
        callback(
          over
            ? smtpError(
                421,
                `4.7.0 Too many connections from ${address}: at most ${perMinute} per minute; try again in ${over} seconds`,
              )
            : undefined,
        ),
      )
    },

    onClose(session) {
      clearTimeout(deadlines.get(session.id))
      deadlines.delete(session.id)
      rcptCounts.delete(session.id)
      const address = admitted.get(session.id)
      if (address === undefined) return
      admitted.delete(session.id)
      const open = (perAddress.get(address) ?? 1) - 1
      if (open > 0) perAddress.set(address, open)
      else perAddress.delete(address)
    },

    onMailFrom(_address, session, callback) {
      const counts = rcptCounts.get(session.id)
      rcptCounts.set(session.id, { commands: 0, refused: counts?.refused ?? 0 })
      // Counted when a message begins, before any of it is sent: a 421 here loses nothing (nothing was
      // acknowledged, the sender queues and retries) and costs the server no DATA to read and drop.
      const perHour = options.messagesPerHourPerAddress ?? 0
      if (!limiter || perHour === 0) return callback()
      const address = session.remoteAddress ?? ''
      overRate(`smtp-message:${address}`, HOUR_MS, perHour).then((over) => {
        if (!over) return callback()
        callback(
          smtpError(
            421,
            `4.7.0 Too many messages from ${address}: at most ${perHour} per hour; try again in ${over} seconds`,
          ),
        )
        connectionOf(session.id)?.close()
      })
    },

    onRcptTo(address, session, callback) {
      const counts = rcptCounts.get(session.id) ?? { commands: 0, refused: 0 }
      rcptCounts.set(session.id, counts)
      counts.commands++
      if (counts.commands > maxRcptCommands)
        return callback(
          smtpError(452, `4.5.3 Too many RCPT commands (at most ${maxRcptCommands} per message)`),
        )
      funnel.checkRecipient(address.address).then(
        (verdict) => {
          if (verdict.accepted) return callback()
          const [code, message] = RCPT_REPLIES[verdict.reason]
          callback(smtpError(code, message))
          if (verdict.reason !== 'mailbox-full' && ++counts.refused >= MAX_REFUSED_RECIPIENTS)
            hangUp(session.id, 421, '4.7.0 Too many unknown recipients, closing connection')
        },
        () => callback(smtpError(451, '4.3.0 Temporary lookup failure, try again later')),
      )
    },

    onData(stream, session, callback) {
      const oversize = () =>
        hangUp(session.id, 552, '5.3.4 Message exceeds the size limit, closing connection')
      readMessage(stream, options.maxMessageBytes, oversize).then(
        async (read) => {
          if ('refused' in read)
            return callback(
              read.refused === 'too-large'
                ? smtpError(552, '5.3.4 Message exceeds the size limit')
                : smtpError(
                    552,
                    `5.3.4 A line of the message is longer than ${MAX_TEXT_LINE_OCTETS} octets (RFC 5322 2.1.1)`,
                  ),
            )
          const { raw } = read
          try {
            const result = await funnel.ingestMessage({ raw, envelope: envelopeOf(session), source: 'smtp' })
            if (result.stored.length === 0)
              return callback(smtpError(550, '5.1.1 None of the recipients has a mailbox here any more'))
            callback(null, `2.0.0 Stored as ${result.stored.map((stored) => stored.messageId).join(', ')}`)
          } catch (error) {
            console.error(`smtp: storing a message failed: ${loggableError(error)}`)
            callback(smtpError(451, '4.3.0 Could not store the message, try again later'))
          }
        },
        // The client went away mid-DATA: nothing was acknowledged, so nothing is lost.
        (error) =>
          callback(smtpError(451, `4.4.2 Message not received in full: ${(error as Error).message}`)),
      )
    },
  }

  const plain = new SMTPServer(handlers)
  // Implicit TLS (as on port 465): the same handlers on a listener that speaks TLS from the first byte.
  const implicit =
    tls && options.implicitTlsPort != null ? new SMTPServer({ ...handlers, secure: true }) : null
  const servers = implicit ? [plain, implicit] : [plain]

  for (const server of servers)
    server.on('error', (error) => console.error(`smtp server error: ${loggableError(error)}`))

  const listen = (server: SMTPServer, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.server.once('error', reject)
      server.listen(port, options.host, () => {
        server.server.off('error', reject)
        resolve()
      })
    })

  return {
    name: 'smtp',
    async start() {
      await listen(plain, options.port)
      if (implicit) await listen(implicit, options.implicitTlsPort as number)
    },
    async stop() {
      for (const timer of deadlines.values()) clearTimeout(timer)
      deadlines.clear()
      await Promise.all(
        servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      )
    },
    /** The port actually bound (useful when asked for port 0). */
    port(): number {
      return (plain.server.address() as AddressInfo).port
    },
    /** The implicit-TLS port actually bound, or null without one. */
    tlsPort(): number | null {
      return implicit ? (implicit.server.address() as AddressInfo).port : null
    },
  } satisfies IngestSource
}

interface SmtpConnection {
  id: string
  send(code: number, message: string): void
  close(): void
}

function envelopeOf(session: SMTPServerSession) {
  const mailFrom = session.envelope.mailFrom
  return {
    mailFrom: mailFrom ? mailFrom.address : null,
    rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
    remoteAddress: session.remoteAddress ?? null,
    helo: session.hostNameAppearsAs ?? null,
    source: 'smtp',
  }
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'smtp'
export const create: IngestSourceFactory<Omit<SmtpIngestOptions, 'funnel' | 'limiter'>> = (
  options,
  { funnel, limiter },
) => createSmtpIngest({ ...options, funnel, limiter })
