// The embedded storage driver as the server runs it: every call crosses to PGlite on its own thread (thread.ts) and back.

import { DuplicateMessageError, type Storage } from '#contracts/storage.ts'

type StorageMethod = {
  [K in keyof Storage]: Storage[K] extends (...args: never[]) => unknown ? K : never
}[keyof Storage]

/** Every operation of the contract; the check below fails to compile when the contract gains one not listed. */
const METHODS = [
  'migrate',
  'ping',
  'close',
  'insertMailbox',
  'findLiveMailboxByAddress',
  'findLiveMailboxByTokenHash',
  'findLiveMailboxesByAddresses',
  'findLiveMailboxById',
  'updateMailbox',
  'deleteMailbox',
  'listLiveMailboxes',
  'countMailboxesCreatedSince',
  'findFullMailboxes',
  'deleteExpired',
  'currentEventSeq',
  'listMailboxEvents',
  'insertMessages',
  'findByDedupeKey',
  'listMessages',
  'findMessageOwner',
  'getMessage',
  'getRawMessage',
  'setMessageSeen',
  'deleteMessage',
  'deleteMessagesOfMailbox',
  'loadForProcessing',
  'saveProcessingResults',
  'markProcessingFailed',
  'findUnprocessed',
  'findLatestOtp',
  'insertWebhook',
  'listWebhooks',
  'getWebhook',
  'deleteWebhook',
  'countWebhooksOfMailbox',
  'findWebhooksForMailbox',
  'createWebhookDeliveries',
  'loadWebhookDelivery',
  'markWebhookDeliveryDead',
  'recordWebhookAttempt',
  'listWebhookDeliveries',
  'findUnfinishedWebhookDeliveries',
  'deleteOrphanedWebhookDeliveries',
  'insertApiKey',
  'findApiKeyByHash',
  'getApiKey',
  'listApiKeys',
  'updateApiKey',
  'deleteApiKey',
  'touchApiKey',
  'insertDomain',
  'getDomain',
  'listDomains',
  'recordDomainCheck',
  'deleteDomain',
  'incrementRateCounter',
  'deleteRateCountersBefore',
  'getSetting',
  'putSettingIfAbsent',
] as const satisfies readonly StorageMethod[]
type Unlisted = Exclude<StorageMethod, (typeof METHODS)[number]>
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true

export type StorageCall =
  | { id: number; method: 'open'; args: [dataDir: string | undefined] }
  | { id: number; method: StorageMethod; args: unknown[] }
export interface ThreadError {
  name: string
  message: string
  stack?: string
  code?: string
  errno?: string
  cause?: ThreadError
}
export type StorageReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ThreadError }

/** The thread's error rebuilt, with the contract's own classes restored so `instanceof` holds as in-process. */
function rebuild(described: ThreadError): Error {
  const error =
    described.name === DuplicateMessageError.name
      ? new DuplicateMessageError(described.message)
      : new Error(described.message, described.cause ? { cause: rebuild(described.cause) } : undefined)
  error.name = described.name
  if (described.stack) error.stack = described.stack
  if (described.code) Object.assign(error, { code: described.code })
  if (described.errno) Object.assign(error, { errno: described.errno })
  return error
}

/**
 * PGlite on a worker thread. It is WebAssembly on one thread: a 10 MB message took 0.7-1.3 s to insert
 * and up to 0.46 s to read, all of it on the event loop SMTP replies and API requests wait on. Here that
 * time passes on the database's thread; the server's thread only copies the arguments and the result
 * (a few milliseconds at 10 MB). Calls run one at a time in arrival order, as in-process. If the thread
 * dies, every call fails from then on (SMTP answers 451, /health/ready 503): the database is not
 * reopened behind the caller's back.
 */
export function createThreadedPgliteStorage({ dataDir }: { dataDir?: string } = {}): Storage {
  void everyMethodListed
  const worker = new Worker(new URL('./thread.ts', import.meta.url).href) as Worker & {
    ref(): void
    unref(): void
  }
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let nextId = 1
  let failure: Error | null = null

  // Referenced only while a call is out: an idle database thread never keeps a stopping process alive.
  worker.unref()
  const settle = (id: number) => {
    const waiter = pending.get(id)
    pending.delete(id)
    if (pending.size === 0) worker.unref()
    return waiter
  }
  worker.onmessage = (event: MessageEvent<StorageReply>) => {
    const reply = event.data
    const waiter = settle(reply.id)
    if (!waiter) return
    if (reply.ok) waiter.resolve(reply.value)
    else waiter.reject(rebuild(reply.error))
  }
  worker.onerror = (event) => {
    failure = new Error(`the embedded database thread stopped: ${event.message}`)
    for (const id of [...pending.keys()]) settle(id)?.reject(failure)
    worker.terminate()
  }

  const post = (method: StorageCall['method'], args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (failure) return reject(failure)
      const id = nextId++
      if (pending.size === 0) worker.ref()
      pending.set(id, { resolve, reject })
      worker.postMessage({ id, method, args } as StorageCall)
    })

  worker.postMessage({ id: 0, method: 'open', args: [dataDir] } satisfies StorageCall)
  const storage: Record<string, unknown> = { driver: 'pglite' }
  for (const method of METHODS) storage[method] = (...args: unknown[]) => post(method, args)
  storage.close = async () => {
    if (!failure) await post('close', [])
    failure ??= new Error('the embedded database is closed')
    worker.terminate()
  }
  return storage as unknown as Storage
}
