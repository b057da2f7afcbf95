// SMTP ingest (smtp-server): accepts RCPT only for live mailboxes and says 250 only after the funnel has stored the message.

import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import type { IngestFunnel, IngestSource, IngestSourceFactory, RecipientVerdict } from '#contracts/ingest.ts'

export interface SmtpIngestOptions {
  funnel: IngestFunnel
  host: string
  port: number
  /** Name in the greeting and EHLO reply. */
  hostname: string
  maxMessageBytes: number
  maxRecipients: number
  maxClients: number
  socketTimeoutMs: number
  sessionTimeoutMs: number
}

/** An Error carrying the SMTP reply smtp-server should send. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code })
}

const RCPT_REPLIES: Record<Exclude<RecipientVerdict, { accepted: true }>['reason'], [number, string]> = {
  'invalid-address': [553, '5.1.3 Recipient address is not a valid mailbox address'],
  'unknown-domain': [550, '5.1.2 This server does not receive mail for that domain'],
  'no-such-mailbox': [550, '5.1.1 No such mailbox here (it may have expired)'],
}

/**
 * Reads the DATA stream; resolves with null when the message went over `maxBytes`.
 * Past the limit the rest is read and dropped, not kept: smtp-server passes the data on
 * until the final dot, and holding it would let one client pin any amount of memory.
 */
async function readMessage(stream: SMTPServerDataStream, maxBytes: number): Promise<Uint8Array | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    if (size <= maxBytes) chunks.push(chunk as Buffer)
    else chunks.length = 0
  }
  if (size > maxBytes || stream.sizeExceeded) return null
  return Buffer.concat(chunks, size)
}

export function createSmtpIngest(options: SmtpIngestOptions) {
  const { funnel } = options
  const deadlines = new Map<string, ReturnType<typeof setTimeout>>()

  const server: SMTPServer = new SMTPServer({
    name: options.hostname,
    banner: 'Ephemail ready',
    size: options.maxMessageBytes,
    rejectOversized: true,
    maxRecipients: options.maxRecipients,
    maxClients: options.maxClients,
    socketTimeout: options.socketTimeoutMs,
    closeTimeout: 5_000,
    authOptional: true,
    // No certificate is configured and no one logs in to deliver mail here.
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    // There is no DNS on many hosts this runs on; a PTR lookup would only add latency.
    disableReverseLookup: true,
    logger: false,

    onConnect(session, callback) {
      // socketTimeout only catches idle clients; this deadline catches slow-drip ones too.
      const timer = setTimeout(() => {
        for (const connection of (server as unknown as { connections: Set<SmtpConnection> }).connections) {
          if (connection.id !== session.id) continue
          connection.send(421, '4.4.2 Session time limit exceeded, closing connection')
          connection.close()
        }
      }, options.sessionTimeoutMs)
      timer.unref?.()
      deadlines.set(session.id, timer)
      callback()
    },

    onClose(session) {
      clearTimeout(deadlines.get(session.id))
      deadlines.delete(session.id)
    },

    onRcptTo(address, _session, callback) {
      funnel.checkRecipient(address.address).then(
        (verdict) => {
          if (verdict.accepted) return callback()
          const [code, message] = RCPT_REPLIES[verdict.reason]
          callback(smtpError(code, message))
        },
        () => callback(smtpError(451, '4.3.0 Temporary lookup failure, try again later')),
      )
    },

    onData(stream, session, callback) {
      readMessage(stream, options.maxMessageBytes).then(
        async (raw) => {
          if (raw === null) return callback(smtpError(552, '5.3.4 Message exceeds the size limit'))
          try {
            const result = await funnel.ingestMessage({ raw, envelope: envelopeOf(session) })
            if (result.stored.length === 0)
              return callback(smtpError(550, '5.1.1 None of the recipients has a mailbox here any more'))
            callback(null, `2.0.0 Stored as ${result.stored.map((stored) => stored.messageId).join(', ')}`)
          } catch (error) {
            console.error('smtp: storing a message failed', error)
            callback(smtpError(451, '4.3.0 Could not store the message, try again later'))
          }
        },
        // The client went away mid-DATA: nothing was acknowledged, so nothing is lost.
        (error) =>
          callback(smtpError(451, `4.4.2 Message not received in full: ${(error as Error).message}`)),
      )
    },
  })

  server.on('error', (error) => console.error('smtp server error', error))

  return {
    name: 'smtp',
    start() {
      return new Promise<void>((resolve, reject) => {
        server.server.once('error', reject)
        server.listen(options.port, options.host, () => {
          server.server.off('error', reject)
          resolve()
        })
      })
    },
    stop() {
      for (const timer of deadlines.values()) clearTimeout(timer)
      deadlines.clear()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
    /** The port actually bound (useful when asked for port 0). */
    port(): number {
      return (server.server.address() as AddressInfo).port
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
export const create: IngestSourceFactory<Omit<SmtpIngestOptions, 'funnel'>> = (options, { funnel }) =>
  createSmtpIngest({ ...options, funnel })
