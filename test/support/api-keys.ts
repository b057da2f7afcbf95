// Test helper: an API key written straight into storage (as the admin routes will), returning the key in clear.

import { createHash, randomBytes } from 'node:crypto'
import type { ApiKeyStore } from '#contracts/storage.ts'

export async function insertTestApiKey(
  storage: Pick<ApiKeyStore, 'insertApiKey'>,
  { plan = 'default', name = 'test key' }: { plan?: string; name?: string } = {},
): Promise<{ id: string; key: string }> {
  const key = `eph_${randomBytes(24).toString('base64url')}`
  const id = crypto.randomUUID()
  await storage.insertApiKey({
    id,
    name,
    prefix: key.slice(0, 12),
    keyHash: createHash('sha256').update(key).digest('hex'),
    scopes: ['read', 'write'],
    plan,
    allowedDomains: null,
    createdAt: new Date(),
    expiresAt: null,
    lastUsedAt: null,
  })
  return { id, key }
}
