// The worker thread behind auth-offload.ts: runs mailauth on what it is sent, asking the main thread for each DNS answer.

import type { AuthOffloadReply, AuthOffloadRequest } from './auth-offload.ts'
import { runMailauth } from './sender-auth.ts'

declare const self: Worker

const lookups = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>()
let nextLookup = 1

const reply = (message: AuthOffloadReply) => self.postMessage(message)

self.onmessage = async ({ data: request }: MessageEvent<AuthOffloadRequest>) => {
  if (request.kind === 'answer') {
    const lookup = lookups.get(request.lookup)
    lookups.delete(request.lookup)
    if (!lookup) return
    if (request.ok) lookup.resolve(request.value as never)
    else lookup.reject(Object.assign(new Error(request.message), { code: request.code }))
    return
  }
  const { id, input, options } = request
  const resolver = (name: string, type: string) =>
    new Promise<never>((resolve, reject) => {
      const lookup = nextLookup++
      lookups.set(lookup, { resolve, reject })
      reply({ kind: 'lookup', id, lookup, name, type })
    })
  try {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    reply({ kind: 'done', id, ok: true, value: await runMailauth(bytes, options, resolver) })
  } catch (error) {
    reply({ kind: 'done', id, ok: false, error: error instanceof Error ? error.message : String(error) })
  }
}
