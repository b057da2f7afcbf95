// Test helper: a bare SMTP client over TCP that writes exactly what a test says and reads
// whole replies (multi-line ones too), so tests can assert every code the server sends.

import { connect, type Socket } from 'node:net'

export interface SmtpReply {
  code: number
  /** The RFC 3463 enhanced status code that opens the last line's text, or null when there is none. */
  enhanced: string | null
  /** Text of the last line after the code and the enhanced code. */
  text: string
  /** Every line of the reply as received, e.g. ['250-ephemail.test ...', '250 SIZE 20000']. */
  lines: string[]
}

const REPLY_LINE = /^(\d{3})([ -])(.*)$|^(\d{3})$/
const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) (.*)$/

function parseReply(lines: string[]): SmtpReply {
  const last = lines[lines.length - 1] as string
  const match = REPLY_LINE.exec(last)
  if (!match) throw new Error(`not an SMTP reply line: ${JSON.stringify(last)}`)
  const code = Number(match[1] ?? match[4])
  const rest = match[3] ?? ''
  const enhanced = ENHANCED.exec(rest)
  return {
    code,
    enhanced: enhanced ? (enhanced[1] as string) : null,
    text: enhanced ? (enhanced[2] as string) : rest,
    lines,
  }
}

const REPLY_TIMEOUT_MS = 5_000

export class SmtpTestClient {
  /** Everything said on the connection ("C: ..." and "S: ..."), shown when a wait fails. */
  readonly transcript: string[] = []
  private partial = ''
  private readonly lines: string[] = []
  private wake: (() => void) | null = null
  private closedFlag = false
  private readonly closedPromise: Promise<void>

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\r\n')
      this.partial = parts.pop() as string
      for (const line of parts) {
        this.lines.push(line)
        this.transcript.push(`S: ${line}`)
      }
      this.wake?.()
    })
    // A write racing the server's close may fail (EPIPE, ECONNRESET); the test then sees the close.
    socket.on('error', (error) => this.transcript.push(`!: ${error.message}`))
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true
        this.wake?.()
        resolve()
      }),
    )
  }

  /**
   * Opens the TCP connection; reads nothing, so a test can talk before the greeting. `localAddress`
   * (another 127.x address) makes the client look like a different host to per-address limits.
   */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<SmtpTestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new SmtpTestClient(socket))
      })
    })
  }

  /** True once the socket closed (either side). */
  get closed(): boolean {
    return this.closedFlag
  }

  /** Complete reply lines received and not read yet. */
  get unreadLines(): number {
    return this.lines.length
  }

  /** Sends one command line (CRLF added). */
  send(line: string): void {
    this.transcript.push(`C: ${line}`)
    this.socket.write(`${line}\r\n`)
  }

  /** Sends bytes as they are (message bodies, pipelined command groups). */
  write(data: string | Uint8Array, note = `<${data.length} bytes>`): void {
    this.transcript.push(`C: ${note}`)
    this.socket.write(data)
  }

  /** Waits for the next complete reply; fails if the connection closes or nothing comes in time. */
  async readReply(timeoutMs = REPLY_TIMEOUT_MS): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs
    const lines: string[] = []
    for (;;) {
      const line = this.lines.shift()
      if (line !== undefined) {
        lines.push(line)
        if (!/^\d{3}-/.test(line)) return parseReply(lines)
        continue
      }
      if (this.closedFlag) throw new Error(`connection closed while waiting for a reply\n${this.dump()}`)
      await this.waitForInput(deadline)
    }
  }

  /** Sends a command and reads its reply. */
  async command(line: string, timeoutMs?: number): Promise<SmtpReply> {
    this.send(line)
    return this.readReply(timeoutMs)
  }

  /** Resolves when the socket has closed; fails after timeoutMs. */
  async waitClosed(timeoutMs = REPLY_TIMEOUT_MS): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`connection still open after ${timeoutMs} ms\n${this.dump()}`)),
        timeoutMs,
      )
    })
    try {
      await Promise.race([this.closedPromise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Drops the connection without QUIT (a client that vanishes). */
  async abort(): Promise<void> {
    this.socket.destroy()
    await this.closedPromise
  }

  dump(): string {
    return this.transcript.join('\n')
  }

  private waitForInput(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.wake = null
          reject(new Error(`no complete SMTP reply in time\n${this.dump()}`))
        },
        Math.max(0, deadline - Date.now()),
      )
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
    })
  }
}

/** Dot-stuffs a message and appends the end-of-data line, as a client does after 354. */
export function dataPayload(message: string): string {
  const body = message.endsWith('\r\n') ? message : `${message}\r\n`
  return `${body.replace(/^\./gm, '..')}.\r\n`
}
