// The mailbox tokens this user's CLI created, kept in a 0600 JSON file so later commands on the same mailbox need no key.

import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

export interface RememberedMailbox {
  /** Server base URL, normalised (no trailing slash): the same address may exist on two servers. */
  readonly url: string
  readonly address: string
  readonly token: string
  readonly expiresAt: string
}

interface StoreFile {
  readonly version: 1
  readonly mailboxes: readonly RememberedMailbox[]
}

export interface TokenStore {
  /** The file's path, whether or not it exists yet. */
  readonly path: string
  /** Unexpired mailboxes on `url`, newest first. */
  list(url: string): Promise<RememberedMailbox[]>
  find(url: string, address: string): Promise<RememberedMailbox | null>
  /** Adds or replaces the entry for (url, address) and drops expired ones. */
  remember(entry: RememberedMailbox): Promise<void>
}

/** EPHEMAIL_STATE_DIR, else $XDG_STATE_HOME/ephemail, else ~/.local/state/ephemail (the XDG default). */
export function stateDirectory(env: Readonly<Record<string, string | undefined>>): string {
  if (env.EPHEMAIL_STATE_DIR?.trim()) return env.EPHEMAIL_STATE_DIR.trim()
  const base = env.XDG_STATE_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.local', 'state')
  return join(base, 'ephemail')
}

export function createTokenStore(directory: string, now: () => number = Date.now): TokenStore {
  const path = join(directory, 'mailboxes.json')
  const unexpired = (entry: RememberedMailbox) => Date.parse(entry.expiresAt) > now()

  async function load(): Promise<RememberedMailbox[]> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    // A file damaged by hand is treated as empty rather than blocking every command; the next save rewrites it.
    try {
      const parsed = JSON.parse(text) as Partial<StoreFile>
      return Array.isArray(parsed.mailboxes) ? parsed.mailboxes.filter(isEntry) : []
    } catch {
      return []
    }
  }

  return {
    path,
    async list(url) {
      return (await load()).filter((entry) => entry.url === url && unexpired(entry)).reverse()
    },
    async find(url, address) {
      const wanted = address.toLowerCase()
      return (await this.list(url)).find((entry) => entry.address.toLowerCase() === wanted) ?? null
    },
    async remember(entry) {
      await mkdir(directory, { recursive: true, mode: 0o700 })
      // Parallel `ephemail new` (test workers each making a mailbox) would otherwise read the same
      // file and each write back only its own entry; readers need no lock (the rename is atomic).
      await withLock(`${path}.lock`, async () => {
        const kept = (await load()).filter(
          (other) =>
            unexpired(other) &&
            !(other.url === entry.url && other.address.toLowerCase() === entry.address.toLowerCase()),
        )
        const file: StoreFile = { version: 1, mailboxes: [...kept, entry] }
        // Written beside and renamed over, so a reader never sees half a file; 0600 from the start
        // (and again after, in case the file was created under a looser umask) since it holds tokens.
        const temporary = `${path}.${process.pid}.tmp`
        await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
        await chmod(temporary, 0o600)
        await rename(temporary, path)
      })
    },
  }
}

/** A lock this old was left by a process that died holding it (a save takes milliseconds). */
const STALE_LOCK_MS = 10_000
const LOCK_RETRY_MS = 15
const LOCK_PATIENCE_MS = 15_000

/** Runs `work` holding an exclusive lock file (created with O_EXCL, so one process at a time). */
async function withLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + LOCK_PATIENCE_MS
  for (;;) {
    try {
      await (await open(lockPath, 'wx', 0o600)).close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const age = await stat(lockPath).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    )
    if (age > STALE_LOCK_MS) await rm(lockPath, { force: true })
    else if (Date.now() > giveUpAt) throw new Error(`${lockPath} is held by another ephemail process`)
    else await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS))
  }
  try {
    return await work()
  } finally {
    await rm(lockPath, { force: true })
  }
}

function isEntry(value: unknown): value is RememberedMailbox {
  const entry = value as Record<string, unknown> | null
  return (
    typeof entry?.url === 'string' &&
    typeof entry.address === 'string' &&
    typeof entry.token === 'string' &&
    typeof entry.expiresAt === 'string'
  )
}
