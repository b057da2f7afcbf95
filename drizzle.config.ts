// drizzle-kit settings: generate SQL migrations into drizzle/ from the shared schema.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './plugins/storage/schema.ts',
  out: './drizzle',
})
