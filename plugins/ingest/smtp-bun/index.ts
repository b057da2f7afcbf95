// SMTP ingest on Bun.listen: the smtp-server listener's replies and limits, one write per batch of pipelined commands.

import type { Socket, SocketHandler, TCPSocketListener } from 'bun'
import type { IngestSource, IngestSourceFactory } from '#contracts/ingest.ts'
import type { RateLimiter } from '#contracts/rate-limit.ts'
import { loggableError } from '#lib/loggable-error.ts'
import type { SmtpIngestOptions } from '../smtp/index.ts'
import {
  HOUR_MS,
  MAX_COMMAND_LINE_OCTETS,
  MAX_REFUSED_RECIPIENTS,
  MAX_TEXT_LINE_OCTETS,
  MINUTE_MS,
  RCPT_COMMANDS_PER_RECIPIENT,
  RCPT_REPLIES,
} from '../smtp/policy.ts'
import {
  type AddressCommand,
  HTTP_REQUEST_LINE,
  invalidParameter,
  isAcceptableHeloHostname,
  MAIL_VALUE_PARAMS,
  parseAddressCommand,
  RCPT_VALUE_PARAMS,
  refuseMailParameters,
} from './commands.ts'
import { DataReader } from './data-reader.ts'

export type SmtpBunIngestOptions = SmtpIngestOptions

/** The greeting waits this long: a client that talks first is a spammer's blind sender (421). */
const EARLY_TALKER_WAIT_MS = 100
/** Unknown commands before the session is closed with 421. */
const MAX_UNRECOGNIZED_COMMANDS = 10
/** How long a closed session waits for the client to close its side. */
const HALF_CLOSE_MS = 5_000
/** How long stop() lets open sessions finish before it closes them with 421. */
const CLOSE_GRACE_MS = 5_000
const LF = 10
const CR = 13

interface Session {
  socket: Socket<Session>
  readonly remoteAddress: string
  secure: boolean
  /** Greeted: commands are taken (before: the client talks too soon). */
  ready: boolean
  closing: boolean
  closed: boolean
  /** Between STARTTLS and the end of the handshake: nothing is read or written. */
  upgrading: boolean
  admitted: boolean
  helo: string | null
  mailFrom: AddressCommand | null
  rcptTo: AddressCommand[]
  rcptCommands: number
  refusedRecipients: number
  unrecognized: number
  inData: boolean
  /** Bytes of a command line whose LF has not come yet. */
  partial: Buffer | null
  /** Input that arrived while an asynchronous step (a lookup, a store) was running. */
  queued: Buffer[]
  /** An asynchronous step runs: input waits, and the idle timeout does not count (the client waits for us). */
  busy: boolean
  /** Replies of the current batch, written once when the batch is done. */
  out: string
  /** What the socket did not take yet (written on drain). */
  unsent: Uint8Array | null
  lastActivity: number
  idleTimer: ReturnType<typeof setTimeout> | null
  deadline: ReturnType<typeof setTimeout> | null
  reader: DataReader | null
}

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** The address as smtp-server reports it: IPv4 peers of a dual-stack listener without their ::ffff: prefix. */
const normalizeAddress = (address: string) => address.replace(/^::ffff:/i, '').toLowerCase()

export function createSmtpBunIngest(options: SmtpBunIngestOptions & { limiter?: RateLimiter | undefined }) {
  const { funnel, limiter } = options
  const name = options.hostname
  const tls = options.tls ?? null
  const maxRcptCommands = options.maxRecipients * RCPT_COMMANDS_PER_RECIPIENT
  const sessions = new Set<Session>()
  const perAddress = new Map<string, number>()
  let listeners: TCPSocketListener<Session>[] = []
  let plainListener: TCPSocketListener<Session> | null = null
  let implicitListener: TCPSocketListener<Session> | null = null
  let stopping = false

  // ---- output: replies gathered per batch, one write; what the socket does not take waits for drain

  function reply(session: Session, code: number, text: string): void {
    if (session.closing) return
    session.out += `${code} ${text}\r\n`
    if (code === 421) close(session)
  }

  function flush(session: Session): void {
    if (!session.out || session.upgrading || session.closed) return
    const out = session.out
    session.out = ''
    session.lastActivity = performance.now()
    if (session.unsent) {
      session.unsent = concat(session.unsent, Buffer.from(out))
      return
    }
    const written = session.socket.write(out)
    if (written < out.length) {
      const bytes = Buffer.from(out)
      if (written < bytes.length) session.unsent = bytes.subarray(Math.max(0, written))
    }
    if (session.unsent && !session.closing) session.socket.pause()
  }

  function drain(session: Session): void {
    const unsent = session.unsent
    if (!unsent) return
    const written = session.socket.write(unsent)
    session.unsent = written < unsent.length ? unsent.subarray(Math.max(0, written)) : null
    if (session.unsent) return
    if (session.closing) session.socket.end()
    else session.socket.resume()
  }

  /** Ends the session once its replies are out; a client that never closes its side is cut off later. */
  function close(session: Session): void {
    if (session.closing) return
    session.closing = true
    flush(session)
    if (!session.unsent && !session.upgrading) session.socket.end()
    clearTimers(session)
    session.idleTimer = setTimeout(
      () => session.socket.terminate(),
      Math.min(options.socketTimeoutMs, HALF_CLOSE_MS),
    )
    session.idleTimer.unref?.()
  }

  function clearTimers(session: Session): void {
    if (session.idleTimer) clearTimeout(session.idleTimer)
    if (session.deadline) clearTimeout(session.deadline)
    session.idleTimer = null
    session.deadline = null
  }

  // ---- timers: idle (reset by any byte either way, paused while the client waits for us) and the whole-session deadline

  function armIdle(session: Session, delay = options.socketTimeoutMs): void {
    session.idleTimer = setTimeout(() => onIdle(session), delay)
    session.idleTimer.unref?.()
  }

  function onIdle(session: Session): void {
    if (session.closing) return
    const idle = performance.now() - session.lastActivity
    if (session.busy || session.upgrading || idle < options.socketTimeoutMs) {
      armIdle(session, session.busy ? options.socketTimeoutMs : Math.max(1, options.socketTimeoutMs - idle))
      return
    }
    reply(session, 421, 'Timeout - closing connection')
    flush(session)
  }

  // ---- connection admission: maxClients at once, per address, per-minute rate, early talkers

  async function overRate(key: string, windowMs: number, limit: number): Promise<number> {
    try {
      const { count, resetAt } = await (limiter as RateLimiter).hit(key, windowMs)
      return count > limit ? Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) : 0
    } catch (error) {
      console.error(`smtp: rate limiter failed, letting the client in: ${loggableError(error)}`)
      return 0
    }
  }

  function open(socket: Socket<Session>, secure: boolean): Session {
    const session: Session = {
      socket,
      remoteAddress: normalizeAddress(socket.remoteAddress ?? ''),
      secure,
      ready: false,
      closing: false,
      closed: false,
      upgrading: false,
      admitted: false,
      helo: null,
      mailFrom: null,
      rcptTo: [],
      rcptCommands: 0,
      refusedRecipients: 0,
      unrecognized: 0,
      inData: false,
      partial: null,
      queued: [],
      busy: false,
      out: '',
      unsent: null,
      lastActivity: performance.now(),
      idleTimer: null,
      deadline: null,
      reader: null,
    }
    socket.data = session
    socket.setNoDelay?.(true)
    sessions.add(session)
    armIdle(session)
    if (sessions.size > options.maxClients) {
      reply(session, 421, `${name} Too many connected clients, try again in a moment`)
      return session
    }
    const greet = setTimeout(() => admit(session), EARLY_TALKER_WAIT_MS)
    greet.unref?.()
    return session
  }

  function admit(session: Session): void {
    if (session.closing) return
    const address = session.remoteAddress
    const open = perAddress.get(address) ?? 0
    if (open >= options.maxClientsPerAddress) {
      reply(
        session,
        421,
        `4.7.0 Too many connections from ${address} (at most ${options.maxClientsPerAddress})`,
      )
      flush(session)
      return
    }
    perAddress.set(address, open + 1)
    session.admitted = true
    // The idle timeout only catches idle clients; this deadline catches slow-drip ones too.
    session.deadline = setTimeout(() => {
      reply(session, 421, '4.4.2 Session time limit exceeded, closing connection')
      flush(session)
    }, options.sessionTimeoutMs)
    session.deadline.unref?.()
    const perMinute = options.connectionsPerMinutePerAddress ?? 0
    if (!limiter || perMinute === 0) {
      greet(session)
      return
    }
    overRate(`smtp-connect:${address}`, MINUTE_MS, perMinute).then((over) => {
      if (!over) return greet(session)
      reply(
        session,
        421,
        `4.7.0 Too many connections from ${address}: at most ${perMinute} per minute; try again in ${over} seconds`,
      )
      flush(session)
    })
  }

  function greet(session: Session): void {
    if (session.closing) return
    session.ready = true
    reply(session, 220, `${name} ESMTP Ephemail ready`)
    flush(session)
  }

  function onClose(session: Session): void {
    if (session.closed) return
    session.closed = true
    session.closing = true
    clearTimers(session)
    sessions.delete(session)
    if (!session.admitted) return
    const left = (perAddress.get(session.remoteAddress) ?? 1) - 1
    if (left > 0) perAddress.set(session.remoteAddress, left)
    else perAddress.delete(session.remoteAddress)
  }

  // ---- input: command lines and DATA, parsed chunk by chunk; an asynchronous step holds the rest back

  function onData(session: Session, chunk: Buffer): void {
    if (session.closing || session.upgrading) return
    session.lastActivity = performance.now()
    if (session.busy) {
      session.queued.push(chunk)
      return
    }
    let rest: Buffer | null = consume(session, chunk)
    while (!session.busy && !session.closing && !session.upgrading) {
      if (rest && rest.length > 0) rest = consume(session, rest)
      else if (session.queued.length > 0) rest = consume(session, session.queued.shift() as Buffer)
      else break
    }
    if (session.busy && rest && rest.length > 0) session.queued.unshift(rest)
    flush(session)
  }

  /** Runs an asynchronous step: input waits until it is done, then the rest is parsed. */
  function wait(session: Session, step: Promise<void>): void {
    session.busy = true
    step.then(
      () => resume(session),
      (error) => {
        console.error(`smtp: a command failed: ${loggableError(error)}`)
        reply(session, 451, 'Error: internal server error')
        resume(session)
      },
    )
  }

  function resume(session: Session): void {
    session.busy = false
    if (session.closing || session.upgrading) {
      flush(session)
      return
    }
    const next = session.queued.shift()
    if (next) onData(session, next)
    else flush(session)
  }

  /** Parses `chunk`; returns what is left when an asynchronous step began, else null. */
  function consume(session: Session, input: Buffer): Buffer | null {
    let chunk = input
    let at = 0
    for (;;) {
      if (session.closing || session.upgrading) return null
      if (session.inData) {
        const reader = session.reader as DataReader
        const progress = reader.feed(at === 0 ? chunk : chunk.subarray(at))
        if (progress.state === 'more') return null
        if (progress.state === 'oversize') {
          // Reading on to the end of an oversize message only to refuse it would let one client pin that much.
          reply(session, 552, '5.3.4 Message exceeds the size limit, closing connection')
          close(session)
          return null
        }
        session.inData = false
        wait(session, deliver(session, progress.raw, progress.longestLine))
        return toBuffer(progress.rest)
      }
      if (session.partial) {
        chunk = Buffer.concat([session.partial, at === 0 ? chunk : chunk.subarray(at)])
        session.partial = null
        at = 0
      }
      const lf = chunk.indexOf(LF, at)
      if (lf === -1) {
        if (chunk.length - at > MAX_COMMAND_LINE_OCTETS) {
          reply(session, 421, 'Error: Command line too long')
          return null
        }
        if (at < chunk.length) session.partial = Buffer.from(chunk.subarray(at))
        return null
      }
      const end = lf > at && chunk[lf - 1] === CR ? lf - 1 : lf
      if (end - at > MAX_COMMAND_LINE_OCTETS) {
        reply(session, 421, 'Error: Command line too long')
        return null
      }
      const line = chunk.toString('utf8', at, end)
      at = lf + 1
      const step = command(session, line)
      if (step) {
        wait(session, step)
        return chunk.subarray(at)
      }
    }
  }

  // ---- commands: smtp-server's checks in its order, then Ephemail's policy

  function resetTransaction(session: Session): void {
    session.mailFrom = null
    session.rcptTo = []
  }

  function command(session: Session, line: string): Promise<void> | undefined {
    if (stopping) return void reply(session, 421, 'Server shutting down')
    // Spammers' blind senders talk before the greeting.
    if (!session.ready) return void reply(session, 421, `${name} You talk too soon`)
    // A web page making a browser speak SMTP.
    if (HTTP_REQUEST_LINE.test(line)) return void reply(session, 421, 'HTTP requests not allowed')
    const space = line.indexOf(' ')
    const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase()
    switch (verb) {
      case 'MAIL':
      case 'RCPT':
      case 'DATA':
        if (!session.helo) return void reply(session, 503, 'Error: send HELO/EHLO first')
        if (verb === 'MAIL') return mail(session, line)
        if (verb === 'RCPT') return rcpt(session, line)
        return data(session)
      case 'EHLO':
      case 'HELO':
        return hello(session, verb, line)
      case 'QUIT':
        reply(session, 221, 'Bye')
        return void close(session)
      case 'NOOP':
        return void reply(session, 250, 'OK')
      case 'RSET':
        resetTransaction(session)
        return void reply(session, 250, 'Flushed')
      case 'HELP':
        return void reply(session, 214, 'See https://tools.ietf.org/html/rfc5321 for details')
      case 'VRFY':
        // Nothing is verified: whether a mailbox exists is not for strangers to ask.
        if (!line.trim().split(/\s+/)[1]) return void reply(session, 501, 'Error: Syntax: VRFY address')
        return void reply(session, 252, 'Try to send something. No promises though')
      case 'XCLIENT':
      case 'XFORWARD':
        return void reply(session, 550, 'Error: Not allowed')
      case 'STARTTLS':
        if (tls) return startTls(session, line)
        break
      case 'WIZ':
        if (!line.trim().split(/\s+/)[1]) return void reply(session, 500, 'You are no wizard!')
        return void reply(session, 200, 'Please pass, oh mighty wizard')
      case 'SHELL':
        return void reply(session, 500, 'Mere mortals must not mutter that mantra')
      case 'KILL':
        return void reply(session, 500, 'Can not kill Mom')
    }
    if (++session.unrecognized >= MAX_UNRECOGNIZED_COMMANDS)
      return void reply(session, 421, 'Error: too many unrecognized commands')
    reply(session, 500, 'Error: command not recognized')
  }

  function hello(session: Session, verb: 'EHLO' | 'HELO', line: string): undefined {
    const parts = line.trim().split(/\s+/)
    const hostname = parts[1] ?? ''
    if (parts.length !== 2)
      return void reply(
        session,
        501,
        verb === 'EHLO' ? 'Error: syntax: EHLO hostname' : 'Error: Syntax: HELO hostname',
      )
    if (!isAcceptableHeloHostname(hostname)) return void reply(session, 501, 'Error: Bad hostname syntax')
    session.helo = hostname.toLowerCase()
    resetTransaction(session)
    const greeting = `${name} Nice to meet you, [${session.remoteAddress}]`
    if (verb === 'HELO') return void reply(session, 250, greeting)
    const features = [greeting, 'PIPELINING', '8BITMIME', 'SMTPUTF8']
    if (tls && !session.secure) features.push('STARTTLS')
    features.push(`SIZE ${options.maxMessageBytes}`)
    const last = features.length - 1
    for (let i = 0; i < last; i++) session.out += `250-${features[i]}\r\n`
    session.out += `250 ${features[last]}\r\n`
  }

  function mail(session: Session, line: string): Promise<void> | undefined {
    const parsed = parseAddressCommand('MAIL FROM', line)
    if (!parsed) return void reply(session, 501, 'Error: Bad sender address syntax')
    const invalid = invalidParameter(parsed, MAIL_VALUE_PARAMS)
    if (invalid) return void reply(session, 501, invalid)
    if (session.mailFrom) return void reply(session, 503, 'Error: nested MAIL command')
    const refused = refuseMailParameters(parsed.args, options.maxMessageBytes, session.secure)
    if (refused) return void reply(session, refused[0], refused[1])
    session.rcptCommands = 0
    // Counted when a message begins, before any of it is sent: a 421 here loses nothing (nothing was
    // acknowledged, the sender queues and retries) and costs the server no DATA to read and drop.
    const perHour = options.messagesPerHourPerAddress ?? 0
    const accept = () => {
      session.mailFrom = parsed
      reply(session, 250, 'Accepted')
    }
    if (!limiter || perHour === 0) return void accept()
    const address = session.remoteAddress
    return overRate(`smtp-message:${address}`, HOUR_MS, perHour).then((over) => {
      if (!over) return accept()
      reply(
        session,
        421,
        `4.7.0 Too many messages from ${address}: at most ${perHour} per hour; try again in ${over} seconds`,
      )
    })
  }

  function rcpt(session: Session, line: string): Promise<void> | undefined {
    const parsed = parseAddressCommand('RCPT TO', line)
    if (!parsed?.address) return void reply(session, 501, 'Error: Bad recipient address syntax')
    const invalid = invalidParameter(parsed, RCPT_VALUE_PARAMS)
    if (invalid) return void reply(session, 501, invalid)
    if (!session.mailFrom) return void reply(session, 503, 'Error: need MAIL command')
    const key = parsed.address.toLowerCase()
    const known = session.rcptTo.findIndex((recipient) => recipient.address.toLowerCase() === key)
    if (session.rcptTo.length >= options.maxRecipients && known === -1)
      return void reply(session, 452, 'Error: too many recipients')
    if (++session.rcptCommands > maxRcptCommands)
      return void reply(session, 452, `4.5.3 Too many RCPT commands (at most ${maxRcptCommands} per message)`)
    return funnel.checkRecipient(parsed.address).then(
      (verdict) => {
        if (verdict.accepted) {
          // A repeated address replaces itself, as smtp-server does.
          const again = session.rcptTo.findIndex((recipient) => recipient.address.toLowerCase() === key)
          if (again === -1) session.rcptTo.push(parsed)
          else session.rcptTo[again] = parsed
          return reply(session, 250, 'Accepted')
        }
        const [code, text] = RCPT_REPLIES[verdict.reason]
        reply(session, code, text)
        if (verdict.reason !== 'mailbox-full' && ++session.refusedRecipients >= MAX_REFUSED_RECIPIENTS)
          reply(session, 421, '4.7.0 Too many unknown recipients, closing connection')
      },
      () => reply(session, 451, '4.3.0 Temporary lookup failure, try again later'),
    )
  }

  function data(session: Session): undefined {
    if (session.rcptTo.length === 0) return void reply(session, 503, 'Error: need RCPT command')
    session.reader ??= new DataReader(options.maxMessageBytes)
    const declared = session.mailFrom?.args?.SIZE
    session.reader.begin(typeof declared === 'string' ? Number(declared) : 0)
    session.inData = true
    reply(session, 354, 'End data with <CR><LF>.<CR><LF>')
  }

  /** The message is in: refuse it for its lines, or store it and say 250 only once the funnel has. */
  async function deliver(session: Session, raw: Uint8Array, longestLine: number): Promise<void> {
    const mailFrom = session.mailFrom as AddressCommand
    const rcptTo = session.rcptTo.map((recipient) => recipient.address)
    resetTransaction(session)
    session.unrecognized = 0
    if (longestLine > MAX_TEXT_LINE_OCTETS)
      return reply(
        session,
        552,
        `5.3.4 A line of the message is longer than ${MAX_TEXT_LINE_OCTETS} octets (RFC 5322 2.1.1)`,
      )
    try {
      const result = await funnel.ingestMessage({
        raw,
        envelope: {
          mailFrom: mailFrom.address,
          rcptTo,
          remoteAddress: session.remoteAddress,
          helo: session.helo,
          source: 'smtp',
        },
        source: 'smtp',
      })
      if (result.stored.length === 0)
        return reply(session, 550, '5.1.1 None of the recipients has a mailbox here any more')
      reply(session, 250, `2.0.0 Stored as ${result.stored.map((stored) => stored.messageId).join(', ')}`)
    } catch (error) {
      console.error(`smtp: storing a message failed: ${loggableError(error)}`)
      reply(session, 451, '4.3.0 Could not store the message, try again later')
    }
  }

  // ---- STARTTLS (RFC 3207): Bun's in-place upgrade; whatever was pipelined after the command is dropped

  function startTls(session: Session, line: string): undefined {
    if (line.trim().split(/\s+/).length > 1) return void reply(session, 501, 'Error: syntax: STARTTLS')
    if (session.secure) return void reply(session, 503, 'Error: TLS already active')
    reply(session, 220, 'Ready to start TLS')
    flush(session)
    session.partial = null
    session.queued = []
    const upgrade = () => {
      session.upgrading = true
      const [, secure] = (
        session.socket as unknown as {
          upgradeTLS(options: object): [Socket<Session>, Socket<Session>]
        }
      ).upgradeTLS({
        isServer: true,
        tls: { cert: tls?.cert, key: tls?.key },
        data: session,
        socket: handlers,
      })
      session.socket = secure
    }
    // The 220 must be on the wire before the handshake begins.
    if (session.unsent) {
      session.upgrading = true
      const waitForDrain = setInterval(() => {
        if (session.closed) return clearInterval(waitForDrain)
        if (session.unsent) return drain(session)
        clearInterval(waitForDrain)
        upgrade()
      }, 5)
    } else upgrade()
  }

  function onHandshake(socket: Socket<Session>, success: boolean): void {
    const session = socket.data
    if (!session || session.closed) return
    if (!success) return void socket.terminate()
    if (session.upgrading) {
      // RFC 3207 §4.2: nothing learnt before the handshake carries over.
      session.upgrading = false
      session.secure = true
      session.helo = null
      resetTransaction(session)
      session.lastActivity = performance.now()
    }
  }

  const handlers: SocketHandler<Session> = {
    open(socket) {
      // The TLS socket of a STARTTLS upgrade opens with the session it continues.
      if (!socket.data) open(socket, false)
    },
    handshake(socket, success) {
      const session = socket.data
      if (session?.upgrading) return onHandshake(socket, success)
      if (!success) return void socket.terminate()
    },
    data(socket, chunk) {
      const session = socket.data
      // The raw socket under a STARTTLS session still reports the encrypted bytes: they are not ours.
      if (session && socket === session.socket) onData(session, chunk)
    },
    drain(socket) {
      const session = socket.data
      if (session && socket === session.socket) drain(session)
    },
    close(socket) {
      const session = socket.data
      if (session) onClose(session)
    },
    error() {
      // The close that follows cleans up; a client going away is not the server's error.
    },
  }

  // Implicit TLS (as on port 465): the session starts once the handshake is done.
  const implicitHandlers: SocketHandler<Session> = {
    ...handlers,
    open() {},
    handshake(socket, success) {
      if (!success) return void socket.terminate()
      if (!socket.data) open(socket, true)
    },
  }

  return {
    name: 'smtp-bun',
    async start() {
      plainListener = Bun.listen<Session>({
        hostname: options.host,
        port: options.port,
        socket: handlers,
      })
      listeners = [plainListener]
      if (tls && options.implicitTlsPort != null) {
        implicitListener = Bun.listen<Session>({
          hostname: options.host,
          port: options.implicitTlsPort,
          tls: { cert: tls.cert, key: tls.key },
          socket: implicitHandlers,
        })
        listeners.push(implicitListener)
      }
    },
    async stop() {
      stopping = true
      for (const listener of listeners) listener.stop(false)
      // Sessions get a grace period to finish, as smtp-server's closeTimeout gives them.
      const until = performance.now() + CLOSE_GRACE_MS
      while (sessions.size > 0 && performance.now() < until) await Bun.sleep(20)
      for (const session of sessions) {
        reply(session, 421, 'Server shutting down')
        flush(session)
        session.socket.terminate()
        onClose(session)
      }
    },
    port(): number {
      return plainListener?.port ?? 0
    },
    tlsPort(): number | null {
      return implicitListener?.port ?? null
    },
  } satisfies IngestSource
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a)
  joined.set(b, a.length)
  return joined
}

/** Uniform plugin exports (ARCHITECTURE.md): the registry creates every plugin through `name` and `create`. */
export const name = 'smtp-bun'
export const create: IngestSourceFactory<Omit<SmtpBunIngestOptions, 'funnel' | 'limiter'>> = (
  options,
  { funnel, limiter },
) => createSmtpBunIngest({ ...options, funnel, limiter })
