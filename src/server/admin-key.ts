// The admin key: taken from EPHEMAIL_ADMIN_KEY, or generated once, stored only as a digest, and printed once.

import type { Storage } from '#contracts/storage.ts'
import { randomToken, sha256Hex } from '#lib/ids.ts'

const ADMIN_KEY_SETTING = 'admin_key_sha256'

/**
 * Returns the SHA-256 of the admin key. With no configured key, the first process to start
 * on a fresh database generates one and calls `announce` with it: that is the only time
 * the key exists in clear text. Later starts (and racing processes) find the stored digest.
 */
export async function resolveAdminKeyHash(
  storage: Storage,
  configuredKey: string | null,
  announce: (key: string) => void,
): Promise<string> {
  if (configuredKey !== null) return sha256Hex(configuredKey)
  const existing = await storage.getSetting(ADMIN_KEY_SETTING)
  if (existing !== null) return existing
  const key = randomToken('eak_')
  const digest = await sha256Hex(key)
  const stored = await storage.putSettingIfAbsent(ADMIN_KEY_SETTING, digest)
  if (stored === digest) announce(key)
  return stored
}
