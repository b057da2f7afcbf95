// Reads a text/event-stream body into frames with fetch's stream alone (EventSource cannot send a header).

/** One dispatched event: its `id:` (the last one seen, as the spec keeps it), `event:` name and joined `data:`. */
export interface SseFrame {
  id: string | null
  event: string
  data: string
}

/**
 * The frames of a stream, in order, as the WHATWG parsing rules give them (comments such as the
 * server's keep-alives are skipped). Returning early cancels the body, which closes the connection.
 */
export async function* readSseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let lastId: string | null = null
  let event = ''
  let data: string[] = []
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end = buffer.indexOf('\n')
      while (end !== -1) {
        // A CR before the LF belongs to the line ending; a lone CR is not used by this server.
        const line = buffer.slice(0, end).replace(/\r$/, '')
        buffer = buffer.slice(end + 1)
        end = buffer.indexOf('\n')
        if (line === '') {
          if (data.length > 0) yield { id: lastId, event: event || 'message', data: data.join('\n') }
          event = ''
          data = []
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'data') data.push(value)
        else if (field === 'event') event = value
        else if (field === 'id' && !value.includes('\0')) lastId = value
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}
