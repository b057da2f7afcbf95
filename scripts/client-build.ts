// Builds ephemail/client for Node and browsers: one bundled ES module (Bun.build) and its declarations (tsc).

// The output is committed (dist/client/) so `import('ephemail/client')` works on a fresh clone without a
// build step; `bun scripts/openapi.ts --check` rebuilds it in memory and fails when the commit is stale.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CLIENT_DIST = 'dist/client'
export const CLIENT_BUILD_FILES = [`${CLIENT_DIST}/index.js`, `${CLIENT_DIST}/*.d.ts`]

/** The client's build, as repo-relative path → text. */
export async function buildClient(root: string): Promise<Record<string, string>> {
  const entry = join(root, 'src', 'client', 'index.ts')
  // Target browser: web standards only, openapi-fetch bundled in, so it also loads from a CDN or a file.
  const bundle = await Bun.build({ entrypoints: [entry], target: 'browser', format: 'esm' })
  const [output] = bundle.outputs
  if (!bundle.success || !output) throw new AggregateError(bundle.logs, 'building the client failed')
  const files: Record<string, string> = {
    [`${CLIENT_DIST}/index.js`]: `// ephemail/client, built from src/client by scripts/client-build.ts: do not edit.\n${await output.text()}`,
  }
  for (const [name, text] of Object.entries(emitDeclarations(root, entry)))
    files[`${CLIENT_DIST}/${name}`] = text
  return files
}

/** Declarations of src/client with `./x.ts` imports pointing at `./x.js`, which TypeScript maps to `x.d.ts`. */
function emitDeclarations(root: string, entry: string): Record<string, string> {
  const outDir = mkdtempSync(join(tmpdir(), 'ephemail-client-dts-'))
  try {
    const tsc = join(root, 'node_modules', '.bin', 'tsc')
    const args = [
      '--ignoreConfig',
      entry,
      ...['--declaration', '--emitDeclarationOnly', '--outDir', outDir, '--rootDir', join(root, 'src')],
      ...['--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler'],
      ...['--allowImportingTsExtensions', '--strict', '--skipLibCheck', '--lib', 'es2024,dom', '--types', ''],
    ]
    const result = spawnSync(tsc, args, { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`tsc failed on src/client: ${result.stdout}${result.stderr}`)
    const emitted = join(outDir, 'client')
    const files: Record<string, string> = {}
    for (const name of readdirSync(emitted).sort())
      files[name] = pointAtJs(readFileSync(join(emitted, name), 'utf8'))
    files['schema.d.ts'] = readFileSync(join(root, 'src', 'client', 'schema.d.ts'), 'utf8')
    return files
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
}

const pointAtJs = (declarations: string) => declarations.replace(/(from '\.\/[\w-]+?)(\.d)?\.ts'/g, "$1.js'")
