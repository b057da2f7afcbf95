// The web inbox at GET /: src/web bundled by Bun.build on the first visit (kept in memory), under a strict CSP.

import { join } from 'node:path'
import { Elysia } from 'elysia'
import { ProblemError } from '#lib/problem.ts'
import { PAGE_CONTENT_SECURITY_POLICY } from '#server/http/security-headers.ts'

const WEB_DIR = join(import.meta.dir, '..', '..', '..', 'web')
/** Where the page's script and style sheet are served; their names carry a content hash. */
const ASSET_PREFIX = '/web/'

interface Asset {
  body: string
  type: string
}

export interface BuiltPage {
  html: string
  /** By file name (with its content hash): the script and the style sheet. */
  assets: Map<string, Asset>
}

/** Bundles the page: one minified script (src/web/main.ts and the src/lib parts it uses) and one style sheet. */
export async function buildPage(): Promise<BuiltPage> {
  const result = await Bun.build({
    entrypoints: [join(WEB_DIR, 'main.ts'), join(WEB_DIR, 'style.css')],
    target: 'browser',
    format: 'esm',
    minify: true,
    naming: '[name]-[hash].[ext]',
  })
  if (!result.success) throw new AggregateError(result.logs, 'the web inbox did not build')
  const assets = new Map<string, Asset>()
  let js = ''
  let css = ''
  for (const output of result.outputs) {
    const name = output.path.split('/').pop() as string
    const isScript = name.endsWith('.js')
    assets.set(name, {
      body: await output.text(),
      type: isScript ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
    })
    if (isScript) js = name
    else if (name.endsWith('.css')) css = name
  }
  const template = await Bun.file(join(WEB_DIR, 'index.html')).text()
  const html = template.replace('{{js}}', ASSET_PREFIX + js).replace('{{css}}', ASSET_PREFIX + css)
  return { html, assets }
}

export function pageRoutes() {
  // Built once per app, on the first request that needs it (a failed build is tried again next time).
  let built: Promise<BuiltPage> | null = null
  const page = () => {
    built ??= buildPage().catch((error) => {
      built = null
      throw error
    })
    return built
  }
  const hidden = { detail: { hide: true } }
  return new Elysia({ name: 'routes.page' })
    .get(
      '/',
      async () =>
        new Response((await page()).html, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
            'cache-control': 'no-cache',
          },
        }),
      hidden,
    )
    .get(
      `${ASSET_PREFIX}:file`,
      async ({ params }) => {
        const asset = (await page()).assets.get(params.file)
        if (!asset) throw new ProblemError(404, 'not-found', `There is no page asset ${params.file}`)
        // The name changes with the content, so a browser may keep it.
        return new Response(asset.body, {
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' },
        })
      },
      hidden,
    )
}
