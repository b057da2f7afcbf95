// The DATA phase of the Bun SMTP front end: finds CRLF.CRLF across chunks without re-scanning, undoes dot-stuffing
// in one pass into a reused buffer, measures the longest line and stops at the size limit without keeping more.

const LF = 10
const CR = 13
const DOT = 46

export type DataProgress =
  /** The chunk is consumed and the message goes on. */
  | { state: 'more' }
  /** The end-of-data line was found; `rest` holds the bytes after it (pipelined commands). */
  | { state: 'done'; raw: Uint8Array; longestLine: number; rest: Uint8Array }
  /** The message went past the limit: nothing more is kept and the session should be closed. */
  | { state: 'oversize' }

const MORE: DataProgress = { state: 'more' }
const OVERSIZE: DataProgress = { state: 'oversize' }
const INITIAL_CAPACITY = 64 * 1024

/**
 * One per session, reused message after message. The rules are smtp-server's: a dot that opens a line
 * (after any LF, or at the start of DATA) and is followed by another dot is removed; the message ends at
 * CR LF "." CR LF (or "." CR LF as the very first line); every other dot stays. The content kept is the
 * unstuffed bytes, the CR LF before the final dot included.
 */
export class DataReader {
  private buffer: Uint8Array
  private length = 0
  /** The next byte opens a line. */
  private lineStart = true
  /** The line about to open was ended by CR LF (or is the first line): "." CR LF there ends the message. */
  private afterCrlf = true
  /** A line-opening "." or "." CR cut off by the end of a chunk: judged with the next chunk (rare). */
  private carry: Uint8Array | null = null
  /** Octets of the current line so far. */
  private lineLength = 0
  private longestLine = 0
  /** The last byte seen was CR (a CR LF split across chunks). */
  private lastWasCr = false

  constructor(private readonly maxBytes: number) {
    this.buffer = new Uint8Array(Math.min(maxBytes, INITIAL_CAPACITY))
  }

  /** Starts a message; `expectedBytes` (MAIL FROM's SIZE) sizes the buffer once instead of growing it. */
  begin(expectedBytes = 0): void {
    this.length = 0
    this.lineStart = true
    this.afterCrlf = true
    this.carry = null
    this.lineLength = 0
    this.longestLine = 0
    this.lastWasCr = false
    const wanted = Math.min(this.maxBytes, expectedBytes)
    if (wanted > this.buffer.length) this.buffer = new Uint8Array(wanted)
  }

  /** Keeps `chunk[from, to)`; false when that would pass the size limit. */
  private keep(chunk: Uint8Array, from: number, to: number): boolean {
    const count = to - from
    if (count <= 0) return true
    const needed = this.length + count
    if (needed > this.maxBytes) return false
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.min(this.maxBytes, Math.max(needed, this.buffer.length * 2)))
      grown.set(this.buffer.subarray(0, this.length))
      this.buffer = grown
    }
    this.buffer.set(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to), this.length)
    this.length = needed
    return true
  }

  /** Feeds the next bytes of the message. */
  feed(input: Uint8Array): DataProgress {
    let chunk = input
    if (this.carry) {
      const joined = new Uint8Array(this.carry.length + input.length)
      joined.set(this.carry)
      joined.set(input, this.carry.length)
      chunk = joined
      this.carry = null
    }
    const end = chunk.length
    let i = 0
    /** Start of the bytes to keep not copied yet: copies happen per chunk and per stuffed dot, not per line. */
    let copyFrom = 0
    while (i < end) {
      if (this.lineStart) {
        this.lineStart = false
        if (chunk[i] === DOT) {
          const next = i + 1 < end ? chunk[i + 1] : -1
          const afterNext = i + 2 < end ? chunk[i + 2] : -1
          if (next === -1 || (next === CR && this.afterCrlf && afterNext === -1)) {
            // Cut off where the dot cannot be judged yet: keep what came before, judge it with the next chunk.
            if (!this.keep(chunk, copyFrom, i)) return OVERSIZE
            this.carry = chunk.slice(i)
            this.lineStart = true
            return MORE
          }
          if (next === DOT) {
            // Dot-stuffing: the first dot goes; the second is content.
            if (!this.keep(chunk, copyFrom, i)) return OVERSIZE
            copyFrom = i + 1
            i++
          } else if (next === CR && this.afterCrlf && afterNext === LF) {
            if (!this.keep(chunk, copyFrom, i)) return OVERSIZE
            const raw = this.buffer.slice(0, this.length)
            return { state: 'done', raw, longestLine: this.longestLine, rest: chunk.subarray(i + 3) }
          }
        }
      }
      // Inside a line: jump to its LF natively.
      const lf = chunk.indexOf(LF, i)
      if (lf === -1) {
        this.lineLength += end - i
        this.lastWasCr = chunk[end - 1] === CR
        break
      }
      const crlf = lf > i ? chunk[lf - 1] === CR : this.lastWasCr
      const length = this.lineLength + (lf - i) - (crlf ? 1 : 0)
      if (length > this.longestLine) this.longestLine = length
      this.lineLength = 0
      this.lastWasCr = false
      this.afterCrlf = crlf
      this.lineStart = true
      i = lf + 1
    }
    if (!this.keep(chunk, copyFrom, end)) return OVERSIZE
    return MORE
  }
}
