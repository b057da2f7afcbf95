// The committed openapi.yaml is generated here: the app composed by createCore with default config, rendered to YAML.

import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import packageJson from '../../package.json' with { type: 'json' }
import { loadConfig } from './config.ts'
import { createCore } from './core.ts'
import { buildOpenApiDocument, openApiYaml } from './http/routes/docs.ts'
import { inThreadMailWork } from './pipeline/mail-offload.ts'

/** Routes are only registered, never called, so storage is in memory and nothing is started. */
export async function generateOpenApiYaml(): Promise<string> {
  // With the HTTP inbound source on, so its routes are documented (its secret is never used here).
  const env = {
    EPHEMAIL_ADMIN_KEY: 'openapi-generator-unused-key',
    EPHEMAIL_INGEST: 'smtp,http',
    EPHEMAIL_INBOUND_SECRET: 'openapi-generator-unused-secret',
  }
  const core = await createCore(loadConfig(env, []), {
    plugins: { storage: createPgliteStorage() },
    mail: inThreadMailWork,
    version: packageJson.version,
  })
  try {
    const app = core.buildApp()
    const ingest = core.ingestSources.flatMap((source) => (source.http ? [source.http] : []))
    return openApiYaml(buildOpenApiDocument(app, packageJson.version, core.auth.styles, [], ingest))
  } finally {
    await core.close()
  }
}
