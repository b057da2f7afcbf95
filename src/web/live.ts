// Live mail for every tab of the browser over one stream: the tab holding a Web Lock opens the
// EventSource and relays each event over a BroadcastChannel; when it closes, the next tab takes the
// lock and resumes after the last event it has seen, so nothing is lost in between.

import { parseStreamEvent, STREAM_EVENT_NAMES, type StreamEvent } from '#lib/events.ts'
import { eventsUrl, type Inbox } from './api.ts'

const LOCK_NAME = 'ephemail-live-stream'
const CHANNEL_NAME = 'ephemail-live'
/** After the server refused the stream (not a network drop, which EventSource retries itself). */
const RETRY_MS = 3000

type Relay = { kind: 'event'; address: string; event: StreamEvent } | { kind: 'opened'; address: string }

export type LiveState = 'connecting' | 'live' | 'relayed' | 'offline'

export interface LiveOptions {
  /** The inbox shown now (it changes when the user makes a new address). */
  inbox(): Inbox | null
  /** A new event of the shown inbox, once per tab, in order. */
  onEvent(event: StreamEvent): void
  /** The stream (re)opened: anything that came while no stream was open is read with a refresh. */
  onOpen(): void
  onState(state: LiveState): void
}

export interface Live {
  /** The shown inbox changed: the leader follows it. */
  follow(): void
  /** Whether this tab holds the stream. */
  leading(): boolean
}

export function startLive(options: LiveOptions): Live {
  const channel = new BroadcastChannel(CHANNEL_NAME)
  const lastSeq = new Map<string, number>()
  let source: EventSource | null = null
  let leader = false
  let retry: ReturnType<typeof setTimeout> | undefined

  /** Every tab sees every event once: a replay after a resume repeats nothing already shown. */
  const accept = (address: string, event: StreamEvent) => {
    if (address !== options.inbox()?.address) return
    const seen = lastSeq.get(address) ?? 0
    if (event.event !== 'mailbox.expired') {
      if (event.seq <= seen) return
      lastSeq.set(address, event.seq)
    }
    options.onEvent(event)
  }

  channel.onmessage = ({ data }: MessageEvent<Relay>) => {
    if (data.kind === 'event') accept(data.address, data.event)
    else if (data.address === options.inbox()?.address) options.onOpen()
  }

  const close = () => {
    clearTimeout(retry)
    source?.close()
    source = null
  }

  const connect = () => {
    close()
    const inbox = options.inbox()
    if (!inbox || Date.parse(inbox.expiresAt) <= Date.now()) {
      options.onState('offline')
      return
    }
    const { address } = inbox
    options.onState('connecting')
    // A fresh stream resumes after what this tab has seen (relayed or its own), so a takeover loses nothing;
    // EventSource's own reconnects after a drop send Last-Event-ID by themselves.
    const opened = new EventSource(eventsUrl(inbox, lastSeq.get(address) ?? null))
    source = opened
    for (const name of STREAM_EVENT_NAMES)
      opened.addEventListener(name, (message) => {
        const event = parseStreamEvent(name, message.lastEventId, message.data)
        if (!event) return
        channel.postMessage({ kind: 'event', address, event } satisfies Relay)
        accept(address, event)
        if (event.event === 'mailbox.expired') close()
      })
    opened.onopen = () => {
      options.onState('live')
      channel.postMessage({ kind: 'opened', address } satisfies Relay)
      options.onOpen()
    }
    opened.onerror = () => {
      if (opened.readyState !== EventSource.CLOSED) {
        options.onState('connecting')
        return
      }
      // Refused (the mailbox expired, a 429): try again later unless something else replaced this stream.
      options.onState('offline')
      if (source === opened) retry = setTimeout(connect, RETRY_MS)
    }
  }

  const lead = () => {
    leader = true
    connect()
  }
  options.onState('relayed')
  if ('locks' in navigator)
    // Held for the life of the tab: the promise never settles, so the lock passes on only when the tab goes.
    void navigator.locks.request(LOCK_NAME, () => {
      lead()
      return new Promise<never>(() => {})
    })
  else lead()

  return {
    follow() {
      if (leader) connect()
    },
    leading: () => leader,
  }
}
