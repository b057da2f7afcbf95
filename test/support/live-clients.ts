// Test clients for live delivery: an event-stream reader over a real HTTP connection, and a WebSocket
// client that queues what arrives, both with waits that fail with what they saw.

export interface StreamEvent {
  id: string | null
  event: string
  data: string
}

export interface StreamRead {
  events: StreamEvent[]
  comments: string[]
  retry: number | null
  ended: boolean
}

/**
 * Reads `text/event-stream` as the WHATWG EventSource parser does: lines end in CRLF, LF or CR, a
 * blank line dispatches, `:` starts a comment, one space after the colon is dropped, `data` lines join with LF.
 */
export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  response: Response
  read: StreamRead
  next(count?: number, timeoutMs?: number): Promise<StreamEvent[]>
  ended(timeoutMs?: number): Promise<void>
  close(): void
}> {
  const controller = new AbortController()
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  })
  const read: StreamRead = { events: [], comments: [], retry: null, ended: false }
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const waiter of waiters) waiter()
  }
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let pending: { id: string | null; event: string; data: string[] } = { id: null, event: '', data: [] }
    let lastId: string | null = null
    const line = (text: string) => {
      if (text === '') {
        if (pending.data.length > 0)
          read.events.push({ id: lastId, event: pending.event || 'message', data: pending.data.join('\n') })
        pending = { id: null, event: '', data: [] }
        return
      }
      if (text.startsWith(':')) {
        read.comments.push(text.slice(1).trim())
        return
      }
      const colon = text.indexOf(':')
      const field = colon === -1 ? text : text.slice(0, colon)
      let value = colon === -1 ? '' : text.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'data') pending.data.push(value)
      else if (field === 'event') pending.event = value
      else if (field === 'id' && !value.includes('\0')) lastId = value
      else if (field === 'retry' && /^\d+$/.test(value)) read.retry = Number(value)
    }
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          buffer += value
          const parts = buffer.split(/\r\n|\n|\r/)
          buffer = parts.pop() ?? ''
          for (const part of parts) line(part)
          notify()
        }
      } catch {
        // aborted by close()
      }
      read.ended = true
      notify()
    })()
  }
  const until = (ready: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (ready()) return resolve()
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(read)}`))
      }, timeoutMs)
      const check = () => {
        if (!ready()) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
    })
  let taken = 0
  return {
    response,
    read,
    async next(count = 1, timeoutMs = 8000) {
      await until(() => read.events.length >= taken + count, `${count} more event(s)`, timeoutMs)
      const events = read.events.slice(taken, taken + count)
      taken += count
      return events
    },
    ended: (timeoutMs = 8000) => until(() => read.ended, 'the stream to end', timeoutMs),
    close: () => controller.abort(),
  }
}

/** A WebSocket client (Bun's, a real one over TCP) that keeps every JSON message it receives. */
export async function openWebSocket(url: string) {
  const socket = new WebSocket(url)
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  const received: any[] = []
  const waiters = new Set<() => void>()
  let closed: { code: number; reason: string } | null = null
  socket.addEventListener('message', (event) => {
    received.push(JSON.parse(String(event.data)))
    for (const waiter of waiters) waiter()
  })
  socket.addEventListener('close', (event) => {
    closed = { code: event.code, reason: event.reason }
    for (const waiter of waiters) waiter()
  })
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true })
    socket.addEventListener('error', () => reject(new Error(`WebSocket ${url} failed to open`)), {
      once: true,
    })
  })
  let taken = 0
  return {
    socket,
    received,
    closed: () => closed,
    send: (message: unknown) => socket.send(JSON.stringify(message)),
    /** The next message matching `match` (default: any), skipping none before it. */
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
    next(timeoutMs = 8000): Promise<any> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length > taken) {
            clearTimeout(timer)
            waiters.delete(check)
            resolve(received[taken++])
          } else if (closed) {
            clearTimeout(timer)
            waiters.delete(check)
            reject(
              new Error(
                `socket closed (${JSON.stringify(closed)}) while waiting; got ${JSON.stringify(received)}`,
              ),
            )
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out waiting for a message; got ${JSON.stringify(received)}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    close: () => socket.close(),
  }
}
