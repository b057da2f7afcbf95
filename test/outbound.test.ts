// The outbound guard against real local servers: address classes, allowed ranges, pinning, redirects, limits.

import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  checkOutboundUrl,
  classifyAddress,
  type LookupFn,
  OutboundBlockedError,
  parseAllowedCidrs,
} from '#server/webhooks/address-policy.ts'
import { postOutbound } from '#server/webhooks/pinned-post.ts'

interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

interface Receiver {
  port: number
  /** Base URL with the address the server listens on, e.g. http://127.0.0.2:40123 */
  url: string
  received: Received[]
  /** TCP connections accepted, whether or not a request came on them. */
  connections(): number
  close(): Promise<void>
}

type Respond = (request: Received, response: ServerResponse) => void

const answerOk: Respond = (_request, response) => response.end('ok')

/** A node:http server on `host` that records every request, then lets `respond` answer it. */
async function receiver(host: string, respond: Respond = answerOk): Promise<Receiver> {
  const received: Received[] = []
  let connections = 0
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      }
      received.push(entry)
      respond(entry, response)
    })
  })
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://${host}:${port}`,
    received,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const ALLOW_VARIABLE = 'EPHEMAIL_WEBHOOK_ALLOW_CIDRS'
const DEFAULT_POLICY = { allowedCidrs: [] }
const LOOPBACK_ALLOWED = { allowedCidrs: ['127.0.0.0/8'] }

function post(url: string, policy: { allowedCidrs: readonly string[] }, extra: { lookup?: LookupFn } = {}) {
  return postOutbound(url, { body: '{"n":1}', headers: {}, timeoutMs: 2000, policy, ...extra })
}

/** A LookupFn that answers from a table and counts its calls. */
function fakeDns(answers: Record<string, string[]>): LookupFn & { calls: string[] } {
  const calls: string[] = []
  const lookup = async (hostname: string) => {
    calls.push(hostname)
    const addresses = answers[hostname]
    if (addresses === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(lookup, { calls })
}

describe('classifyAddress', () => {
  test('classifies every blocked range, metadata endpoints, and mapped IPv6 as the IPv4 it maps', () => {
    const table: [string, string][] = [
      ['93.184.216.34', 'public'],
      ['8.8.8.8', 'public'],
      ['2606:4700::1111', 'public'],
      ['127.0.0.1', 'loopback'],
      ['127.9.9.9', 'loopback'],
      ['::1', 'loopback'],
      ['10.0.0.5', 'private'],
      ['172.16.3.4', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['fd12:3456::1', 'private'],
      ['fc00::1', 'private'],
      ['169.254.10.10', 'link-local'],
      ['fe80::1', 'link-local'],
      ['169.254.169.254', 'metadata'],
      ['fd00:ec2::254', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['ff02::1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'reserved'],
      ['2001:db8::1', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.1.2.3', 'private'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['::ffff:8.8.8.8', 'public'],
      ['64:ff9b::a00:5', 'private'],
      ['64:ff9b::808:808', 'public'],
      ['::7f00:1', 'reserved'],
      ['[::1]', 'loopback'],
    ]
    expect(table.map(([ip]) => [ip, classifyAddress(ip)])).toEqual(table)
  })

  test('refuses what is not an IP address, including the loose IPv4 forms', () => {
    for (const text of ['localhost', '127.1', '0x7f.0.0.1', '2130706433', ''])
      expect(() => classifyAddress(text)).toThrow(TypeError)
  })
})

describe('parseAllowedCidrs', () => {
  test('accepts CIDR ranges and bare addresses, trimmed, ignoring empty entries', () => {
    expect(parseAllowedCidrs(' 127.0.0.0/8, ::1 ,,10.0.0.0/8,fd00::/8')).toEqual([
      '127.0.0.0/8',
      '::1',
      '10.0.0.0/8',
      'fd00::/8',
    ])
    expect(parseAllowedCidrs('')).toEqual([])
  })

  test('names the bad entry and what is wrong with it', () => {
    expect(() => parseAllowedCidrs('127.0.0.0/8,localhost')).toThrow(
      'has "localhost", which is not an IP address or CIDR range',
    )
    expect(() => parseAllowedCidrs('10.0.0.0/99')).toThrow(
      'has "10.0.0.0/99", whose prefix length 99 is more than 32',
    )
    expect(() => parseAllowedCidrs('fd00::/129')).toThrow(
      'has "fd00::/129", whose prefix length 129 is more than 128',
    )
    expect(() => parseAllowedCidrs('10.0.0.0/eight')).toThrow(
      'has "10.0.0.0/eight", whose prefix length "eight"',
    )
    expect(() => parseAllowedCidrs('10.0.0.0/')).toThrow('has "10.0.0.0/"')
    expect(() => parseAllowedCidrs('127.1')).toThrow('has "127.1"')
    expect(() => parseAllowedCidrs('10.0.0.0/8/8')).toThrow('has "10.0.0.0/8/8"')
  })
})

describe('checkOutboundUrl', () => {
  test('a name is refused if any address of it is blocked, allowed if the policy covers them', async () => {
    const dns = fakeDns({
      'public.example': ['93.184.216.34', '2606:4700::1111'],
      'mixed.example': ['93.184.216.34', '10.0.0.7'],
      'inside.example': ['10.0.0.7'],
    })
    await expect(checkOutboundUrl('https://public.example/x', DEFAULT_POLICY, dns)).resolves.toBeUndefined()
    const mixed = checkOutboundUrl('https://mixed.example/x', DEFAULT_POLICY, dns)
    await expect(mixed).rejects.toBeInstanceOf(OutboundBlockedError)
    await expect(mixed).rejects.toThrow(
      `https://mixed.example/x resolves to 10.0.0.7, a private address; allow it with ${ALLOW_VARIABLE}`,
    )
    await expect(
      checkOutboundUrl('http://inside.example/', { allowedCidrs: ['10.0.0.0/8'] }, dns),
    ).resolves.toBeUndefined()
    await expect(
      checkOutboundUrl('http://inside.example/', { allowedCidrs: ['10.0.0.8/32'] }, dns),
    ).rejects.toBeInstanceOf(OutboundBlockedError)
  })

  test('literal addresses are judged without DNS, bracketed and mapped IPv6 included', async () => {
    const dns = fakeDns({})
    const blocked: [string, string][] = [
      ['http://10.0.0.5/hook', 'http://10.0.0.5/hook resolves to 10.0.0.5, a private address'],
      ['http://169.254.169.254/latest/meta-data/', 'a cloud metadata address'],
      ['http://[::1]:8080/', 'resolves to ::1, a loopback address'],
      ['http://[::ffff:127.0.0.1]/', 'a loopback address'],
      ['http://0x7f.1/', 'resolves to 127.0.0.1, a loopback address'],
      ['http://0.0.0.0:3000/', 'an unspecified address'],
    ]
    for (const [url, message] of blocked) {
      const check = checkOutboundUrl(url, DEFAULT_POLICY, dns)
      await expect(check).rejects.toBeInstanceOf(OutboundBlockedError)
      await expect(check).rejects.toThrow(message)
    }
    await expect(checkOutboundUrl('https://93.184.216.34/x', DEFAULT_POLICY, dns)).resolves.toBeUndefined()
    await expect(
      checkOutboundUrl('http://[::ffff:127.0.0.1]/', LOOPBACK_ALLOWED, dns),
    ).resolves.toBeUndefined()
    expect(dns.calls).toEqual([])
  })

  test('only http and https, no credentials, and malformed URLs are a TypeError', async () => {
    const dns = fakeDns({ 'hooks.example': ['93.184.216.34'] })
    const ftp = checkOutboundUrl('ftp://hooks.example/drop', DEFAULT_POLICY, dns)
    await expect(ftp).rejects.toBeInstanceOf(OutboundBlockedError)
    await expect(ftp).rejects.toMatchObject({ reason: 'scheme' })
    await expect(checkOutboundUrl('file:///etc/passwd', DEFAULT_POLICY, dns)).rejects.toMatchObject({
      reason: 'scheme',
    })
    const credentials = checkOutboundUrl('http://user:s3cret@hooks.example/x', DEFAULT_POLICY, dns)
    await expect(credentials).rejects.toMatchObject({ reason: 'credentials' })
    await expect(credentials).rejects.toThrow('http://hooks.example/x: credentials in the URL')
    await expect(credentials.catch((error: Error) => error.message)).resolves.not.toContain('s3cret')
    await expect(checkOutboundUrl('not a url', DEFAULT_POLICY, dns)).rejects.toBeInstanceOf(TypeError)
    await expect(checkOutboundUrl('/relative/path', DEFAULT_POLICY, dns)).rejects.toBeInstanceOf(TypeError)
    expect(dns.calls).toEqual([])
  })
})

describe('postOutbound', () => {
  test('a loopback receiver is refused by default and receives nothing, not even a connection', async () => {
    const hook = await receiver('127.0.0.1')
    try {
      const attempt = post(`${hook.url}/in`, DEFAULT_POLICY)
      await expect(attempt).rejects.toBeInstanceOf(OutboundBlockedError)
      await expect(attempt).rejects.toThrow(`${hook.url}/in resolves to 127.0.0.1, a loopback address`)
      await Bun.sleep(50)
      expect(hook.connections()).toBe(0)
      expect(hook.received).toEqual([])
    } finally {
      await hook.close()
    }
  })

  test('an allowed receiver gets the POST with body, headers, path and query intact', async () => {
    const hook = await receiver('127.0.0.1', (_request, response) => {
      response.statusCode = 204
      response.end()
    })
    const body = JSON.stringify({ type: 'message.received', data: { subject: 'Grüße ✓' } })
    try {
      const result = await postOutbound(`${hook.url}/hooks/in?team=7`, {
        body,
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_1',
          'webhook-signature': 'v1,abc=',
        },
        timeoutMs: 2000,
        policy: LOOPBACK_ALLOWED,
      })
      expect(result).toMatchObject({ status: 204, finalUrl: `${hook.url}/hooks/in?team=7` })
      expect(result.latencyMs).toBeGreaterThanOrEqual(0)
      expect(hook.received).toHaveLength(1)
      const [request] = hook.received
      expect(request).toMatchObject({ method: 'POST', path: '/hooks/in?team=7', body })
      expect(request?.headers).toMatchObject({
        host: `127.0.0.1:${hook.port}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'webhook-id': 'msg_1',
        'webhook-signature': 'v1,abc=',
      })
    } finally {
      await hook.close()
    }
  })

  test('a made-up name goes where its one lookup said, or is blocked before connecting', async () => {
    const hook = await receiver('127.0.0.1')
    const dns = fakeDns({ 'hook.test': ['127.0.0.1'] })
    const url = `http://hook.test:${hook.port}/in`
    try {
      const blocked = post(url, DEFAULT_POLICY, { lookup: dns })
      await expect(blocked).rejects.toBeInstanceOf(OutboundBlockedError)
      await expect(blocked).rejects.toThrow(`${url} resolves to 127.0.0.1, a loopback address`)
      expect(hook.connections()).toBe(0)

      dns.calls.length = 0
      const sent = await post(url, LOOPBACK_ALLOWED, { lookup: dns })
      expect(sent).toMatchObject({ status: 200, finalUrl: url })
      expect(dns.calls).toEqual(['hook.test'])
      expect(hook.received.map((request) => [request.headers.host, request.body])).toEqual([
        [`hook.test:${hook.port}`, '{"n":1}'],
      ])
    } finally {
      await hook.close()
    }
  })

  test('the connection goes to the vetted address even when the system resolver knows the name', async () => {
    // Nothing listens on 127.0.0.1 at this port, so an unpinned connect to localhost would be refused.
    const hook = await receiver('127.0.0.2')
    const dns = fakeDns({ localhost: ['127.0.0.2'] })
    try {
      const sent = await post(
        `http://localhost:${hook.port}/pinned`,
        { allowedCidrs: ['127.0.0.2/32'] },
        { lookup: dns },
      )
      expect(sent.status).toBe(200)
      expect(hook.received.map((request) => [request.path, request.headers.host])).toEqual([
        ['/pinned', `localhost:${hook.port}`],
      ])
    } finally {
      await hook.close()
    }
  })

  test('a name with one blocked address among public ones is refused before connecting', async () => {
    const hook = await receiver('127.0.0.1')
    const dns = fakeDns({ 'rebind.test': ['93.184.216.34', '127.0.0.1'] })
    try {
      await expect(post(`http://rebind.test:${hook.port}/`, DEFAULT_POLICY, { lookup: dns })).rejects.toThrow(
        'resolves to 127.0.0.1, a loopback address',
      )
      expect(hook.connections()).toBe(0)
    } finally {
      await hook.close()
    }
  })

  test('a 307 to another allowed receiver is followed and the body POSTed again', async () => {
    const final = await receiver('127.0.0.2', (_request, response) => {
      response.statusCode = 202
      response.end('accepted')
    })
    const first = await receiver('127.0.0.1', (_request, response) => {
      response.writeHead(307, { location: `${final.url}/moved?x=1` })
      response.end('moved')
    })
    try {
      const result = await post(`${first.url}/start`, LOOPBACK_ALLOWED)
      expect(result).toMatchObject({ status: 202, finalUrl: `${final.url}/moved?x=1` })
      expect(first.received.map((request) => [request.method, request.body])).toEqual([['POST', '{"n":1}']])
      expect(final.received.map((request) => [request.method, request.path, request.body])).toEqual([
        ['POST', '/moved?x=1', '{"n":1}'],
      ])
      expect(final.received[0]?.headers.host).toBe(`127.0.0.2:${final.port}`)
    } finally {
      await Promise.all([first.close(), final.close()])
    }
  })

  test('a 308 with a relative location is followed on the same receiver', async () => {
    const hook = await receiver('127.0.0.1', (request, response) => {
      if (request.path === '/old') response.writeHead(308, { location: '/new' }).end()
      else response.end('ok')
    })
    try {
      const result = await post(`${hook.url}/old`, LOOPBACK_ALLOWED)
      expect(result).toMatchObject({ status: 200, finalUrl: `${hook.url}/new` })
      expect(hook.received.map((request) => [request.method, request.path, request.body])).toEqual([
        ['POST', '/old', '{"n":1}'],
        ['POST', '/new', '{"n":1}'],
      ])
    } finally {
      await hook.close()
    }
  })

  test('a redirect from an allowed to a blocked address is refused; its target gets nothing', async () => {
    const inside = await receiver('127.0.0.2')
    const hook = await receiver('127.0.0.1', (_request, response) => {
      response.writeHead(307, { location: `${inside.url}/internal` }).end()
    })
    try {
      const attempt = post(`${hook.url}/start`, { allowedCidrs: ['127.0.0.1/32'] })
      await expect(attempt).rejects.toBeInstanceOf(OutboundBlockedError)
      const hop = `${inside.url}/internal (redirected from ${hook.url}/start)`
      await expect(attempt).rejects.toThrow(`${hop} resolves to 127.0.0.2, a loopback address`)
      expect(hook.received).toHaveLength(1)
      expect(inside.connections()).toBe(0)
    } finally {
      await Promise.all([hook.close(), inside.close()])
    }
  })

  test('a redirect to a name is vetted by lookup too', async () => {
    const hook = await receiver('127.0.0.1', (_request, response) => {
      response.writeHead(308, { location: 'http://metadata.test/latest/' }).end()
    })
    const dns = fakeDns({ 'metadata.test': ['169.254.169.254'] })
    try {
      const attempt = post(`${hook.url}/`, LOOPBACK_ALLOWED, { lookup: dns })
      await expect(attempt).rejects.toMatchObject({ name: 'OutboundBlockedError', reason: 'metadata' })
      expect(dns.calls).toEqual(['metadata.test'])
    } finally {
      await hook.close()
    }
  })

  test('301, 302 and 303 are returned as the result, not followed', async () => {
    const elsewhere = await receiver('127.0.0.2')
    const hook = await receiver('127.0.0.1', (request, response) => {
      response.writeHead(Number(request.path.slice(1)), { location: `${elsewhere.url}/` }).end()
    })
    try {
      for (const status of [301, 302, 303]) {
        const result = await post(`${hook.url}/${status}`, LOOPBACK_ALLOWED)
        expect(result).toMatchObject({ status, finalUrl: `${hook.url}/${status}` })
      }
      expect(hook.received).toHaveLength(3)
      expect(elsewhere.connections()).toBe(0)
    } finally {
      await Promise.all([hook.close(), elsewhere.close()])
    }
  })

  test('more than maxRedirects hops is an error, after exactly maxRedirects + 1 requests', async () => {
    const hook = await receiver('127.0.0.1', (request, response) => {
      response.writeHead(307, { location: `/hop${Number(request.path.slice(4)) + 1}` }).end()
    })
    try {
      await expect(post(`${hook.url}/hop0`, LOOPBACK_ALLOWED)).rejects.toThrow('too many redirects')
      expect(hook.received.map((request) => request.path)).toEqual(['/hop0', '/hop1', '/hop2', '/hop3'])
      hook.received.length = 0
      await expect(
        postOutbound(`${hook.url}/hop0`, {
          body: '',
          headers: {},
          timeoutMs: 2000,
          policy: LOOPBACK_ALLOWED,
          maxRedirects: 0,
        }),
      ).rejects.toThrow('too many redirects')
      expect(hook.received.map((request) => request.path)).toEqual(['/hop0'])
    } finally {
      await hook.close()
    }
  })

  test('a receiver that never answers times out within about timeoutMs', async () => {
    const silent = await receiver('127.0.0.1', () => {})
    try {
      const started = performance.now()
      const attempt = postOutbound(`${silent.url}/`, {
        body: 'x',
        headers: {},
        timeoutMs: 300,
        policy: LOOPBACK_ALLOWED,
      })
      await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError', message: 'timed out after 300 ms' })
      const elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect(elapsed).toBeLessThan(800)
      expect(silent.received).toHaveLength(1)
    } finally {
      await silent.close()
    }
  })

  test('a lookup that hangs times out too', async () => {
    const hanging: LookupFn = () => new Promise(() => {})
    const attempt = postOutbound('http://slow-dns.test/', {
      body: 'x',
      headers: {},
      timeoutMs: 200,
      policy: LOOPBACK_ALLOWED,
      lookup: hanging,
    })
    await expect(attempt).rejects.toThrow('timed out after 200 ms')
  })

  test('latencyMs runs to the response headers', async () => {
    const slow = await receiver('127.0.0.1', (_request, response) => {
      setTimeout(() => response.end('late'), 150)
    })
    try {
      const result = await post(`${slow.url}/`, LOOPBACK_ALLOWED)
      expect(result.latencyMs).toBeGreaterThanOrEqual(140)
      expect(result.latencyMs).toBeLessThan(1000)
    } finally {
      await slow.close()
    }
  })

  test('an endless response body is cut off: we return promptly, the receiver sees the close', async () => {
    let written = 0
    let closedAt = 0
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const flood = await receiver('127.0.0.1', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' })
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) written += chunk.length
      }
      response.on('drain', pump)
      response.on('close', () => {
        closedAt = performance.now()
      })
      pump()
    })
    try {
      const started = performance.now()
      const result = await post(`${flood.url}/`, LOOPBACK_ALLOWED)
      expect(result.status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1000)
      await Bun.sleep(200)
      expect(closedAt).toBeGreaterThan(0)
      // Kernel buffers take some, but the writer stops: nobody is reading any more.
      expect(written).toBeLessThan(64 * 1024 * 1024)
    } finally {
      await flood.close()
    }
  })

  test('a huge but finite body does not hold the attempt', async () => {
    const big = await receiver('127.0.0.1', (_request, response) => {
      response.end(Buffer.alloc(16 * 1024 * 1024))
    })
    try {
      const started = performance.now()
      expect((await post(`${big.url}/`, LOOPBACK_ALLOWED)).status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1500)
    } finally {
      await big.close()
    }
  })

  test('credentials and non-http schemes are refused before any request', async () => {
    const hook = await receiver('127.0.0.1')
    try {
      await expect(post(`http://user:pass@127.0.0.1:${hook.port}/`, LOOPBACK_ALLOWED)).rejects.toMatchObject({
        reason: 'credentials',
      })
      await expect(post(`ftp://127.0.0.1:${hook.port}/`, LOOPBACK_ALLOWED)).rejects.toMatchObject({
        reason: 'scheme',
      })
      expect(hook.connections()).toBe(0)
    } finally {
      await hook.close()
    }
  })

  test('a redirect to another scheme or with credentials is refused', async () => {
    const hook = await receiver('127.0.0.1', (request, response) => {
      const location = request.path === '/ftp' ? 'ftp://127.0.0.1/' : `http://a:b@127.0.0.1:${hook.port}/`
      response.writeHead(307, { location }).end()
    })
    try {
      await expect(post(`${hook.url}/ftp`, LOOPBACK_ALLOWED)).rejects.toMatchObject({ reason: 'scheme' })
      await expect(post(`${hook.url}/creds`, LOOPBACK_ALLOWED)).rejects.toMatchObject({
        reason: 'credentials',
      })
      expect(hook.received).toHaveLength(2)
    } finally {
      await hook.close()
    }
  })
})

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
