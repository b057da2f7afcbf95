// Test helper: plays one scripted SMTP conversation (byte streams and how many replies each gets) against a server
// and records what came back, so the same script can be compared across the two SMTP front ends.

import { SmtpTestClient } from './smtp-client.ts'

export interface Step {
  /** Bytes to write (a string goes as UTF-8). */
  send: string | Uint8Array
  /** Replies this write earns; the conversation stops early if the server closes. */
  replies: number
  /** Skip reading the greeting first (an early talker). */
  early?: boolean
}

export interface Transcript {
  /** Code, enhanced code and text of every reply, message ids replaced by <id>. */
  replies: string[]
  /** The ids named in "Stored as" replies, in order. */
  stored: string[]
  closed: boolean
}

const STORED = /^Stored as (.+)$/

/** Plays `steps` on a fresh connection to `port`; the greeting is read first unless the first step is early. */
export async function play(port: number, steps: Step[]): Promise<Transcript> {
  const client = await SmtpTestClient.connect(port)
  const transcript: Transcript = { replies: [], stored: [], closed: false }
  const read = async () => {
    const reply = await client.readReply()
    const stored = STORED.exec(reply.text)
    if (stored) transcript.stored.push(...(stored[1] as string).split(', '))
    const text = stored ? 'Stored as <id>' : reply.text
    transcript.replies.push(
      [reply.code, reply.enhanced, text, reply.lines.length > 1 ? reply.lines.slice(0, -1).join('|') : '']
        .filter((part) => part !== null && part !== '')
        .join(' '),
    )
  }
  try {
    if (!steps[0]?.early) await read()
    for (const step of steps) {
      if (client.closed) break
      client.write(step.send)
      for (let i = 0; i < step.replies; i++) {
        if (client.closed && client.unreadLines === 0) break
        await read()
      }
    }
    // Anything the server still says (a 421 before its close) is part of the answer; after a QUIT, all of it.
    if (steps.at(-1)?.send === 'QUIT\r\n') await client.waitClosed().catch(() => {})
    while (client.unreadLines > 0) await read()
  } catch (error) {
    if (!client.closed) throw error
  }
  transcript.closed = client.closed
  await client.abort()
  return transcript
}
