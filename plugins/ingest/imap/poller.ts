// One IMAP account polled with imapflow: fetch, hand to the funnel, and only once stored flag/move/delete on the server.

import { createHash } from 'node:crypto'
import { type FetchMessageObject, ImapFlow } from 'imapflow'
import type { IngestFunnel } from '#contracts/ingest.ts'
import { loggableError } from '#lib/loggable-error.ts'
import { parseHeaderFields, ROUTING_HEADERS, returnPathOf, routingTiers } from './routing.ts'
import type { ImapAccount, ImapAfter } from './settings.ts'

/** Messages summarised per FETCH: bounds one round trip's reply and the work redone after a drop. */
const BATCH = 50

/** Reconnect delays after a failure: doubling from the first to the last. */
const RECONNECT_FIRST_MS = 500
const RECONNECT_MAX_MS = 10_000

/** How long stop() lets a message in hand finish before the connection is cut. */
const STOP_GRACE_MS = 5_000

export interface ImapPollerOptions {
  account: ImapAccount
  after: ImapAfter
  funnel: IngestFunnel
  /** Rescan interval: the only trigger without IDLE, the safety net with it (and the retry of deferred messages). */
  pollIntervalMs: number
  /** false: never IDLE, poll only (a server whose IDLE misbehaves). */
  idle: boolean
  maxMessageBytes: number
  /** Recipients tried per routing tier. */
  maxRecipients: number
  /** PEM of a CA (or a self-signed server certificate) to trust beyond the system's. */
  tlsCa: string | null
}

/** What became of one message in a pass. */
type Outcome = 'stored' | 'left' | 'deferred'

/** What a pass has learned about the selected mailbox; kept across reconnects, reset by a new UIDVALIDITY. */
interface Progress {
  uidValidity: bigint | null
  /** Every UID up to this one is stored and acted on, or left on the server on purpose. */
  doneThrough: number
  /** UIDs to try again on the next pass: a full mailbox, a storage failure. */
  deferred: Set<number>
}

export function createImapPoller(options: ImapPollerOptions) {
  const { account, after, funnel } = options
  const source = `imap:${account.name}`
  const progress: Progress = { uidValidity: null, doneThrough: 0, deferred: new Set() }
  let stopping = false
  let client: ImapFlow | null = null
  let loop: Promise<void> | null = null
  /** Set by an EXISTS (new mail) or a closed connection; cleared when a pass begins. */
  let pending = false
  let wake: (() => void) | null = null

  const signal = () => {
    pending = true
    wake?.()
  }

  /** Sleeps until signalled or `ms` have passed; returns at once when a signal came meanwhile. */
  function rest(ms: number): Promise<void> {
    if (pending || stopping) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        wake = null
        resolve()
      }
      wake = done
    })
  }

  function connect(): ImapFlow {
    const connection = new ImapFlow({
      host: account.host,
      port: account.port,
      secure: account.secure,
      auth: { user: account.user, pass: account.password },
      logger: false,
      // IDLE is started by the loop itself, between passes, never between two of a pass's commands.
      disableAutoIdle: true,
      maxIdleTime: options.pollIntervalMs,
      ...(options.tlsCa ? { tls: { ca: [options.tlsCa] } } : {}),
    })
    connection.on('error', (error: unknown) => {
      if (!stopping) console.error(`${source}: connection error: ${loggableError(error)}`)
    })
    connection.on('exists', signal)
    connection.on('close', signal)
    return connection
  }

  async function run(): Promise<void> {
    let delay = RECONNECT_FIRST_MS
    while (!stopping) {
      const connection = connect()
      client = connection
      try {
        await connection.connect()
        await connection.mailboxOpen(account.mailbox)
        if (after.action === 'move') await ensureFolder(connection, after.folder)
        delay = RECONNECT_FIRST_MS
        while (!stopping && connection.usable) {
          pending = false
          await pass(connection)
          if (stopping || !connection.usable) break
          if (options.idle) connection.idle().catch(() => {}) // ended by the next command or the close
          await rest(options.pollIntervalMs)
        }
      } catch (error) {
        if (!stopping) console.error(`${source}: ${loggableError(error)}; reconnecting in ${delay} ms`)
      } finally {
        if (connection.usable) await connection.logout().catch(() => connection.close())
        else connection.close()
        client = null
      }
      if (stopping) break
      pending = false
      await rest(delay)
      delay = Math.min(delay * 2, RECONNECT_MAX_MS)
    }
  }

  async function ensureFolder(connection: ImapFlow, folder: string) {
    const listed = await connection.list()
    if (!listed.some((entry) => entry.path === folder)) await connection.mailboxCreate(folder)
  }

  /** One scan of the mailbox: every message not yet done, oldest first. */
  async function pass(connection: ImapFlow): Promise<void> {
    const mailbox = connection.mailbox
    if (!mailbox) throw new Error(`mailbox ${account.mailbox} is not selected`)
    if (progress.uidValidity !== mailbox.uidValidity) {
      // New UIDs for everything: rescan all. Messages stored before are recognised by their
      // dedupe key, which does not contain the UID.
      if (progress.uidValidity !== null)
        console.warn(
          `${source}: UIDVALIDITY of ${account.mailbox} changed (${progress.uidValidity} -> ${mailbox.uidValidity}); rescanning it`,
        )
      progress.uidValidity = mailbox.uidValidity
      progress.doneThrough = 0
      progress.deferred.clear()
    }
    // With after=seen, \Seen is what marks a message done; otherwise a message still there is not done.
    const criteria = after.action === 'seen' ? { seen: false } : { all: true }
    const found = (await connection.search(criteria, { uid: true })) || []
    const todo = found.filter((uid) => uid > progress.doneThrough || progress.deferred.has(uid))
    todo.sort((a, b) => a - b)
    // UIDs that are gone (expunged elsewhere) need no retry.
    const present = new Set(found)
    for (const uid of progress.deferred) if (!present.has(uid)) progress.deferred.delete(uid)

    for (let start = 0; start < todo.length && !stopping; start += BATCH) {
      const batch = todo.slice(start, start + BATCH)
      const summaries = await connection.fetchAll(
        batch.join(','),
        { uid: true, size: true, envelope: true, headers: [...ROUTING_HEADERS] },
        { uid: true },
      )
      summaries.sort((a, b) => a.uid - b.uid)
      const stored: number[] = []
      for (const summary of summaries) {
        const outcome = await handle(connection, summary)
        if (outcome === 'stored') stored.push(summary.uid)
        if (outcome === 'deferred') progress.deferred.add(summary.uid)
        else progress.deferred.delete(summary.uid)
      }
      if (stored.length > 0) await act(connection, stored)
      // Only now: a drop before this point rescans the batch, and the funnel knows what it stored.
      // Up to the last UID fetched: one missing from the reply was expunged by someone else, or the
      // reply was cut short; either way a later search tells.
      progress.doneThrough = Math.max(progress.doneThrough, ...summaries.map((summary) => summary.uid))
    }
  }

  async function handle(connection: ImapFlow, summary: FetchMessageObject): Promise<Outcome> {
    const uid = summary.uid
    if ((summary.size ?? 0) > options.maxMessageBytes) {
      console.warn(
        `${source}: UID ${uid} is ${summary.size} bytes, over the ${options.maxMessageBytes} limit; left on the server`,
      )
      return 'left'
    }
    const fields = parseHeaderFields(summary.headers?.toString('utf8') ?? '')
    const visible = [...(summary.envelope?.to ?? []), ...(summary.envelope?.cc ?? [])].map(
      (entry) => entry.address,
    )
    const tiers = routingTiers(fields, visible, options.maxRecipients)
    let chosen: (typeof tiers)[number] | null = null
    let full = false
    try {
      for (const tier of tiers) {
        const verdicts = await Promise.all(tier.addresses.map((address) => funnel.checkRecipient(address)))
        if (verdicts.some((verdict) => verdict.accepted)) {
          chosen = tier
          break
        }
        // A full mailbox is this message's recipient: falling through to To/Cc would misroute it.
        if (verdicts.some((verdict) => !verdict.accepted && verdict.reason === 'mailbox-full')) {
          full = true
          break
        }
      }
    } catch (error) {
      console.error(`${source}: UID ${uid}: recipient check failed, retrying later: ${loggableError(error)}`)
      return 'deferred'
    }
    if (full) return 'deferred'
    if (!chosen) {
      const tried = tiers.flatMap((tier) => tier.addresses).join(', ') || 'no recipient header'
      console.warn(`${source}: UID ${uid} is for no live mailbox (${tried}); left on the server`)
      return 'left'
    }

    const message = await connection.fetchOne(String(uid), { uid: true, source: true }, { uid: true })
    const body = message ? message.source : undefined
    if (!body) return 'deferred' // expunged meanwhile by someone else
    const raw = new Uint8Array(body)
    try {
      const result = await funnel.ingestMessage({
        raw,
        envelope: {
          mailFrom: returnPathOf(fields),
          rcptTo: [...chosen.addresses],
          remoteAddress: null,
          helo: null,
          source,
        },
        source,
        dedupeKey: dedupeKeyOf(chosen.from, fields, raw),
      })
      if (result.stored.length > 0) return 'stored'
      // Its mailbox expired between the check and the write.
      console.warn(`${source}: UID ${uid}: no live mailbox any more (${chosen.addresses.join(', ')}); left`)
      return 'left'
    } catch (error) {
      if (error instanceof Error && error.name === 'MessageTooLargeError') {
        console.warn(`${source}: UID ${uid}: ${error.message}; left on the server`)
        return 'left'
      }
      console.error(`${source}: UID ${uid}: storing failed, retrying later: ${loggableError(error)}`)
      return 'deferred'
    }
  }

  /**
   * What identifies a redelivery of this message, whatever its UID (which a UIDVALIDITY change
   * renews). Routed by an envelope header, each copy in the catch-all is one recipient's delivery:
   * its exact bytes identify it. Routed by To/Cc, every copy of the message (one per recipient at
   * the upstream server) routes to the same mailboxes: its Message-ID and Date identify it, so the
   * mailboxes get it once however many copies arrive. (A message without a Message-ID falls back to
   * its bytes.)
   */
  function dedupeKeyOf(routedBy: string, fields: Map<string, string[]>, raw: Uint8Array): string {
    const messageId = fields.get('message-id')?.[0]
    if (routedBy === 'to/cc' && messageId) {
      const identity = `${messageId}\n${fields.get('date')?.[0] ?? ''}`
      return `imap:${account.name}:mid:${createHash('sha256').update(identity).digest('hex')}`
    }
    return `imap:${account.name}:raw:${createHash('sha256').update(raw).digest('hex')}`
  }

  /** The configured action on messages the funnel has stored; a failure throws, so they are redone. */
  async function act(connection: ImapFlow, uids: number[]): Promise<void> {
    const range = uids.join(',')
    let done: unknown
    if (after.action === 'delete') done = await connection.messageDelete(range, { uid: true })
    else if (after.action === 'seen')
      done = await connection.messageFlagsAdd(range, ['\\Seen'], { uid: true })
    else done = await connection.messageMove(range, after.folder, { uid: true })
    if (!done) throw new Error(`${after.action} of UIDs ${range} failed on the server; they are redone`)
  }

  return {
    start() {
      stopping = false
      loop = run()
    },
    async stop() {
      stopping = true
      wake?.()
      const finished = loop ?? Promise.resolve()
      let grace: ReturnType<typeof setTimeout> | undefined
      const timer = new Promise<boolean>((resolve) => {
        grace = setTimeout(() => resolve(false), STOP_GRACE_MS)
      })
      if (!(await Promise.race([finished.then(() => true), timer]))) client?.close()
      clearTimeout(grace)
      await finished
      loop = null
    },
  }
}
