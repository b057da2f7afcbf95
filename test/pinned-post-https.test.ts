// The pinned outbound POST over https: it connects to the vetted address, checks the certificate of the name.

import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A certificate for hook.test, made with the openssl CLI; null where openssl is not installed. */
function certificateFor(directory: string, name: string): { key: string; cert: string } | null {
  const key = join(directory, `${name}.key`)
  const cert = join(directory, `${name}.crt`)
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=DNS:${name}`,
    '-keyout',
    key,
    '-out',
    cert,
  ])
  return made.status === 0 ? { key, cert } : null
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0

/** `bun client.ts <pinned-post.ts> <port>`: POSTs to three https URLs pinned to 127.0.0.1, prints outcomes. */
const HTTPS_CLIENT = `
const [pinnedPostModule, port] = process.argv.slice(2)
const { postOutbound } = await import(pinnedPostModule)
const lookup = async () => [{ address: '127.0.0.1', family: 4 }]
const policy = { allowedCidrs: ['127.0.0.0/8'] }
const outcomes = []
const paths = ['hook.test:' + port + '/in', 'other.test:' + port + '/in', 'hook.test:' + port + '/downgrade']
for (const url of paths.map((path) => 'https://' + path)) {
  try {
    const result = await postOutbound(url, { body: 'b', headers: {}, timeoutMs: 3000, policy, lookup })
    outcomes.push('status ' + result.status)
  } catch (error) {
    outcomes.push(error.name + ' ' + (error.code ?? error.reason))
  }
}
console.log(JSON.stringify(outcomes))
`

describe('https', () => {
  test.skipIf(!hasOpenssl)(
    'connects to the pinned address but verifies the certificate of the name, and sends it as SNI',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ephemail-outbound-'))
      const files = certificateFor(directory, 'hook.test')
      if (files === null) throw new Error('openssl could not make a certificate')
      const seen: string[] = []
      const server = createTlsServer(
        { key: await Bun.file(files.key).text(), cert: await Bun.file(files.cert).text() },
        (request, response) => {
          seen.push(`${(request.socket as { servername?: string }).servername} ${request.headers.host}`)
          request.resume()
          request.on('end', () => {
            if (request.url === '/downgrade')
              response.writeHead(307, { location: 'http://127.0.0.1:9/' }).end()
            else response.end('ok')
          })
        },
      )
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      // The client runs in its own process: NODE_EXTRA_CA_CERTS is read at startup.
      const script = join(directory, 'client.ts')
      writeFileSync(script, HTTPS_CLIENT)
      try {
        const pinnedPost = join(import.meta.dir, '../src/server/webhooks/pinned-post.ts')
        const client = Bun.spawn([process.execPath, script, pinnedPost, String(port)], {
          env: { ...process.env, NODE_EXTRA_CA_CERTS: files.cert },
          stdout: 'pipe',
          stderr: 'pipe',
        })
        const [output, errors] = await Promise.all([
          new Response(client.stdout).text(),
          new Response(client.stderr).text(),
        ])
        await client.exited
        expect(errors).toBe('')
        expect(JSON.parse(output)).toEqual([
          'status 200',
          'Error ERR_TLS_CERT_ALTNAME_INVALID',
          'OutboundBlockedError scheme',
        ])
        expect(seen).toEqual([`hook.test hook.test:${port}`, `hook.test hook.test:${port}`])
      } finally {
        server.close()
        rmSync(directory, { recursive: true, force: true })
      }
    },
  )
})
