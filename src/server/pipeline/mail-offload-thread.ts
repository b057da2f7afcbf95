// The worker thread behind mail-offload.ts: parses and sanitises what it is sent, one task at a time.

import { parseMail } from '#lib/mail.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'
import type { OffloadReply, OffloadTask } from './mail-offload.ts'

declare const self: Worker

self.onmessage = async (event: MessageEvent<OffloadTask & { id: number }>) => {
  const task = event.data
  const { id } = task
  let reply: OffloadReply
  try {
    const value = task.kind === 'parse' ? await parseMail(task.input) : sanitizeHtml(task.input)
    reply = { id, ok: true, value }
  } catch (error) {
    reply = { id, ok: false, error: error instanceof Error ? error.message : String(error) }
  }
  self.postMessage(reply)
}
