// The CliIo of a real process: its environment and streams, with a way to wait until everything written has left.

import type { CliIo } from './command.ts'

export interface ProcessIo extends CliIo {
  /** Resolves once every write so far is flushed, so exiting right after loses nothing on a pipe. */
  drained(): Promise<void>
}

export function createProcessIo(): ProcessIo {
  let last: Promise<void> = Promise.resolve()
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error
    })
  const write = (stream: NodeJS.WriteStream, chunk: string | Uint8Array) => {
    const written = new Promise<void>((resolve) => {
      // A reader that went away (`ephemail inbox | head -1`) is not the command's failure.
      stream.write(chunk, () => resolve())
    })
    last = last.then(() => written)
    return written
  }
  return {
    env: process.env,
    out: (text) => void write(process.stdout, `${text}\n`),
    outBytes: (bytes) => write(process.stdout, bytes),
    err: (text) => void write(process.stderr, `${text}\n`),
    drained: () => last,
  }
}
