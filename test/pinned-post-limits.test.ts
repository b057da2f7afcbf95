// The pinned outbound POST against real local servers: timeouts, latency, and bodies it must not wait for.

import { describe, expect, test } from 'bun:test'
import type { LookupFn } from '#server/webhooks/address-policy.ts'
import { postOutbound } from '#server/webhooks/pinned-post.ts'
import { LOOPBACK_ALLOWED, post, receiver } from './support/outbound.ts'

describe('postOutbound', () => {
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
})
