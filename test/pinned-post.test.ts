// The pinned outbound POST against real local servers: blocked and allowed addresses, pinning, redirects.

import { describe, expect, test } from 'bun:test'
import { OutboundBlockedError } from '#server/webhooks/address-policy.ts'
import { postOutbound } from '#server/webhooks/pinned-post.ts'
import { DEFAULT_POLICY, fakeDns, LOOPBACK_ALLOWED, post, receiver } from './support/outbound.ts'

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
