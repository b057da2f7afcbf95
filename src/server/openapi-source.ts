// The committed openapi.yaml is generated here: the app built with default config, rendered to YAML.

import { createBearerAuth } from '#plugins/auth/bearer/index.ts'
import { createMemoryPubSub } from '#plugins/pubsub/memory/index.ts'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { buildApp } from '#server/http/app.ts'
import { buildOpenApiDocument, openApiYaml } from '#server/http/routes/docs.ts'
import packageJson from '../../package.json' with { type: 'json' }
import { loadConfig } from './config.ts'

/** Routes are only registered, never called, so the storage is an unused in-memory one. */
export async function generateOpenApiYaml(): Promise<string> {
  const storage = createPgliteStorage()
  try {
    const app = buildApp({
      config: loadConfig({}, []),
      storage,
      pubsub: createMemoryPubSub(),
      auth: createBearerAuth({ adminKeyHash: '', findMailboxByTokenHash: async () => null }),
      version: packageJson.version,
    })
    return openApiYaml(buildOpenApiDocument(app, packageJson.version))
  } finally {
    await storage.close()
  }
}
