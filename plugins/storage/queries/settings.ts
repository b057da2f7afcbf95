// The settings table: small keyed values written once (first writer wins), such as the admin key's hash.

import { eq } from 'drizzle-orm'
import type { SettingsStore } from '#contracts/storage.ts'
import { settings } from '#plugins/storage/schema.ts'
import type { Database } from './shared.ts'

export function createSettingsQueries(db: Database): SettingsStore {
  return {
    async getSetting(key) {
      const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key))
      return row?.value ?? null
    },

    async putSettingIfAbsent(key, value) {
      await db.insert(settings).values({ key, value }).onConflictDoNothing()
      const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key))
      if (!row) throw new Error(`setting ${key} vanished right after it was written`)
      return row.value
    },
  }
}
