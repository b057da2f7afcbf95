// Parsing and sanitising of large messages on a worker thread, so that no message holds the event loop SMTP replies and API requests share.

import { type ParsedMail, parseMail } from '#lib/mail.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'

/**
 * Inputs smaller than this are handled on the calling thread: parsing or sanitising 64 KiB takes at
 * most ~10 ms even for hostile shapes (bench/hostile-message.ts), less than a trip to the thread and back
 * costs a typical message. Larger ones (a 10 MB message parses in ~150 ms, 5 MB of HTML sanitises in
 * ~550 ms) go to the thread.
 */
export const OFFLOAD_MIN_BYTES = 64 * 1024
/**
 * A smaller message with more MIME delimiter lines than this is parsed on the thread too: 3,000 parts in
 * 40 KB took postal-mime 20-27 ms, and with extraction and sanitising after it held the loop for up to
 * 56 ms (bench/fuzz-corpus.ts --concurrency 1). Real mail has a handful of parts.
 */
export const OFFLOAD_MIN_PARTS = 200
const DELIMITER_START = Buffer.from('\n--')

/**
 * Whether a message has more than OFFLOAD_MIN_PARTS delimiter-like lines (`\n--`): a native search, a
 * few microseconds for tens of kilobytes, and it stops counting at the limit.
 */
export function hasManyParts(raw: Uint8Array, limit = OFFLOAD_MIN_PARTS): boolean {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  let count = 0
  for (let at = bytes.indexOf(DELIMITER_START); at !== -1; at = bytes.indexOf(DELIMITER_START, at + 3))
    if (++count > limit) return true
  return false
}
/**
 * A task on the thread that runs longer than this is given up: the thread is ended (JavaScript cannot
 * be interrupted any other way) and replaced, and the stage fails with a reason. It bounds how long one
 * message can hold the large-message lane; a 10 MB message needs under a second.
 */
export const OFFLOAD_TIMEOUT_MS = 10_000

/** The CPU-heavy steps of a message, wherever they run. */
export interface MailWork {
  /** Rejects for input past the parser's limits, or when the thread gave up (see OFFLOAD_TIMEOUT_MS). */
  parse(raw: Uint8Array): Promise<ParsedMail>
  sanitize(html: string): Promise<string>
  close(): Promise<void>
}

/** Everything on the calling thread: for tools and tests about other steps. */
export const inThreadMailWork: MailWork = {
  parse: parseMail,
  sanitize: async (html) => sanitizeHtml(html),
  close: async () => {},
}

export type OffloadTask = { kind: 'parse'; input: Uint8Array } | { kind: 'sanitize'; input: string }
export type OffloadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

interface Pending {
  id: number
  task: OffloadTask
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

export class OffloadTimeoutError extends Error {
  override name = 'OffloadTimeoutError'
}

/**
 * One thread, started on first use, one task at a time: the deadline then belongs to exactly one task,
 * and a thread ended for it takes no innocent task down with it (the queue moves to the new thread).
 */
export function createMailOffload({
  minBytes = OFFLOAD_MIN_BYTES,
  timeoutMs = OFFLOAD_TIMEOUT_MS,
}: {
  minBytes?: number
  timeoutMs?: number
} = {}): MailWork {
  let thread: Worker | null = null
  let running: (Pending & { timer: ReturnType<typeof setTimeout> }) | null = null
  const waiting: Pending[] = []
  let nextId = 1
  let closed = false

  function startThread(): Worker {
    const worker = new Worker(new URL('./mail-offload-thread.ts', import.meta.url).href)
    worker.onmessage = (event: MessageEvent<OffloadReply>) => {
      const reply = event.data
      if (!running || running.id !== reply.id) return
      const done = running
      clearTimeout(done.timer)
      running = null
      if (reply.ok) done.resolve(reply.value)
      else done.reject(new Error(reply.error))
      runNext()
    }
    worker.onerror = (event) => {
      // The thread died (out of memory, a crash in a library): fail the task it had, go on with a new one.
      const done = running
      running = null
      thread = null
      worker.terminate()
      if (done) {
        clearTimeout(done.timer)
        done.reject(new Error(`the worker thread failed: ${event.message}`))
      }
      runNext()
    }
    // Bun's Worker can be unref'd, so an idle thread never keeps a stopping process alive.
    ;(worker as Worker & { unref(): void }).unref()
    return worker
  }

  function runNext(): void {
    if (running || closed) return
    const next = waiting.shift()
    if (!next) return
    thread ??= startThread()
    const timer = setTimeout(() => {
      if (running?.id !== next.id) return
      running = null
      thread?.terminate()
      thread = null
      next.reject(new OffloadTimeoutError(`gave up after ${timeoutMs} ms`))
      runNext()
    }, timeoutMs)
    running = { ...next, timer }
    thread.postMessage({ id: next.id, ...next.task })
  }

  function submit<T>(task: OffloadTask): Promise<T> {
    if (closed) return Promise.reject(new Error('the mail offload is closed'))
    return new Promise<T>((resolve, reject) => {
      waiting.push({ id: nextId++, task, resolve: resolve as (value: unknown) => void, reject })
      runNext()
    })
  }

  return {
    parse: (raw) =>
      raw.byteLength < minBytes && !hasManyParts(raw)
        ? parseMail(raw)
        : submit<ParsedMail>({ kind: 'parse', input: raw }),
    // UTF-16 length stands in for bytes: the bound is about work, and both are linear in it.
    sanitize: async (html) =>
      html.length < minBytes ? sanitizeHtml(html) : submit<string>({ kind: 'sanitize', input: html }),
    async close() {
      closed = true
      const abandoned = [...waiting.splice(0), ...(running ? [running] : [])]
      if (running) clearTimeout(running.timer)
      running = null
      for (const task of abandoned) task.reject(new Error('the mail offload was closed'))
      thread?.terminate()
      thread = null
    },
  }
}
