// Where the committed drizzle-kit migrations live, resolved from this file so any working directory works.
import { fileURLToPath } from 'node:url'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))
