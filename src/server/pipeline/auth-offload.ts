// Sender authentication of large signed messages on a worker thread, its DNS lookups answered by this thread's resolver.

import type { AuthenticationResult } from '#lib/types.ts'
import type { DnsResolver, MailauthOptions } from './sender-auth.ts'

/**
 * Input at least this long is checked on the thread. Only signed mail reaches mailauth whole (unsigned
 * mail is checked on its header section), and mailauth canonicalises and hashes a signed body in
 * JavaScript at ~0.3 µs a byte: a signed 10 MB message held the event loop 3.1-3.8 s, 64 KiB ~20 ms.
 */
export const AUTH_OFFLOAD_MIN_BYTES = 64 * 1024
/**
 * A check not answered by then is given up (the verdicts say `temperror`): above mailauth's own CPU time
 * for the largest message, with room for several DNS lookups at their own 3 s deadline.
 */
export const AUTH_OFFLOAD_TIMEOUT_MS = 30_000

export interface AuthOffload {
  check(input: Uint8Array, options: MailauthOptions, resolver: DnsResolver): Promise<AuthenticationResult>
  close(): Promise<void>
}

/** From this thread to the worker. */
export type AuthOffloadRequest =
  | { kind: 'check'; id: number; input: Uint8Array; options: MailauthOptions }
  | { kind: 'answer'; lookup: number; ok: true; value: unknown }
  | { kind: 'answer'; lookup: number; ok: false; code?: string; message: string }

/** From the worker to this thread. */
export type AuthOffloadReply =
  | { kind: 'lookup'; id: number; lookup: number; name: string; type: string }
  | { kind: 'done'; id: number; ok: true; value: AuthenticationResult }
  | { kind: 'done'; id: number; ok: false; error: string }

interface Pending {
  resolve: (value: AuthenticationResult) => void
  reject: (error: Error) => void
  resolver: DnsResolver
  timer: ReturnType<typeof setTimeout>
}

/**
 * One thread, started on first use, with several checks in flight (a check mostly waits for DNS). The
 * resolver stays here, so its cache and deadline, or a test's fake, serve the thread as they serve
 * in-thread checks; mailauth reads an error's `code` (ENOTFOUND, ENODATA), so the code crosses too.
 */
export function createAuthOffload({ timeoutMs = AUTH_OFFLOAD_TIMEOUT_MS } = {}): AuthOffload {
  let thread: Worker | null = null
  const pending = new Map<number, Pending>()
  let nextId = 1
  let closed = false

  const post = (request: AuthOffloadRequest) => thread?.postMessage(request)

  function failAll(error: Error): void {
    for (const [id, task] of pending) {
      clearTimeout(task.timer)
      pending.delete(id)
      task.reject(error)
    }
  }

  function startThread(): Worker {
    const worker = new Worker(new URL('./auth-offload-thread.ts', import.meta.url).href)
    worker.onmessage = ({ data: reply }: MessageEvent<AuthOffloadReply>) => {
      const task = pending.get(reply.id)
      if (!task) return // given up already
      if (reply.kind === 'lookup') {
        const { lookup } = reply
        task.resolver(reply.name, reply.type).then(
          (value) => post({ kind: 'answer', lookup, ok: true, value }),
          (error: Error & { code?: string }) =>
            post({ kind: 'answer', lookup, ok: false, code: error?.code, message: String(error?.message) }),
        )
        return
      }
      clearTimeout(task.timer)
      pending.delete(reply.id)
      if (reply.ok) task.resolve(reply.value)
      else task.reject(new Error(reply.error))
    }
    worker.onerror = (event) => {
      // The thread died: its checks fail (the verdicts say temperror), the next check starts a new one.
      thread = null
      worker.terminate()
      failAll(new Error(`the sender authentication thread failed: ${event.message}`))
    }
    // An idle thread never keeps a stopping process alive.
    ;(worker as Worker & { unref(): void }).unref()
    return worker
  }

  return {
    check(input, options, resolver) {
      if (closed) return Promise.reject(new Error('sender authentication is closed'))
      thread ??= startThread()
      const id = nextId++
      return new Promise<AuthenticationResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`sender authentication gave up after ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, { resolve, reject, resolver, timer })
        post({ kind: 'check', id, input, options })
      })
    },
    async close() {
      closed = true
      failAll(new Error('sender authentication was closed'))
      thread?.terminate()
      thread = null
    },
  }
}
