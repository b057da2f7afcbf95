// The embedded database's own thread: PGlite runs here, so a multi-megabyte statement never holds the event loop SMTP and the API share.

import type { Storage } from '#contracts/storage.ts'
import { createPgliteStorage } from './index.ts'
import type { StorageCall, StorageReply, ThreadError } from './threaded.ts'

declare const self: Worker

let storage: Storage | null = null

/** An error as plain data: structured cloning keeps only name and message, and callers read `code` and `cause`. */
function describe(error: unknown, depth = 0): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) }
  const { code, errno, cause } = error as { code?: unknown; errno?: unknown; cause?: unknown }
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof errno === 'string' ? { errno } : {}),
    ...(cause !== undefined && depth < 4 ? { cause: describe(cause, depth + 1) } : {}),
  }
}

self.onmessage = async (event: MessageEvent<StorageCall>) => {
  const call = event.data
  if (call.method === 'open') {
    // The storage object serialises its own calls in arrival order, as on the main thread.
    storage = createPgliteStorage({ dataDir: call.args[0] as string | undefined })
    return
  }
  let reply: StorageReply
  try {
    if (!storage) throw new Error('the embedded database was not opened')
    const method = storage[call.method] as (...args: unknown[]) => Promise<unknown>
    reply = { id: call.id, ok: true, value: await method.apply(storage, call.args) }
  } catch (error) {
    reply = { id: call.id, ok: false, error: describe(error) }
  }
  self.postMessage(reply)
}
