// The outbound guard on its own: address classes, allowed ranges, DNS answers that point inside, pinning.

import { expect, test } from 'bun:test'
import {
  checkOutboundUrl,
  classifyAddress,
  OutboundBlockedError,
  parseAllowedCidrs,
  postOutbound,
} from '../src/server/outbound.ts'

test('addresses are classified, IPv4-mapped IPv6 as the IPv4 it maps', () => {
  const table: [string, string][] = [
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.3.4', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.10.10', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:8.8.8.8', 'public'],
  ]
  expect(table.map(([ip]) => [ip, classifyAddress(ip)])).toEqual(table)
})

test('allowed ranges are parsed strictly', () => {
  expect(parseAllowedCidrs(' 127.0.0.0/8, ::1 ,')).toEqual(['127.0.0.0/8', '::1'])
  expect(() => parseAllowedCidrs('127.0.0.0/8,localhost')).toThrow('"localhost"')
  expect(() => parseAllowedCidrs('10.0.0.0/99')).toThrow('"10.0.0.0/99"')
})

test('a name is refused when any of its addresses is inside, and allowed when the range is', async () => {
  const answers = (addresses: string[]) => async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  await expect(
    checkOutboundUrl('https://hooks.example/x', { allowedCidrs: [] }, answers(['93.184.216.34'])),
  ).resolves.toBeUndefined()
  const mixed = checkOutboundUrl(
    'https://hooks.example/x',
    { allowedCidrs: [] },
    answers(['93.184.216.34', '10.0.0.7']),
  )
  await expect(mixed).rejects.toBeInstanceOf(OutboundBlockedError)
  await expect(mixed).rejects.toThrow('10.0.0.7, a private address')
  await expect(
    checkOutboundUrl('http://hooks.example/', { allowedCidrs: ['10.0.0.0/8'] }, answers(['10.0.0.7'])),
  ).resolves.toBeUndefined()
})

test('the connection goes to the vetted address, whatever the name', async () => {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => new Response(`${request.headers.get('host')} ${await request.text()}`),
  })
  try {
    const lookup = async () => [{ address: '127.0.0.1', family: 4 }]
    const url = `http://hook.test:${server.port}/in`
    const blocked = postOutbound(url, {
      body: 'x',
      headers: {},
      timeoutMs: 1000,
      policy: { allowedCidrs: [] },
      lookup,
    })
    await expect(blocked).rejects.toBeInstanceOf(OutboundBlockedError)
    const sent = await postOutbound(url, {
      body: 'payload',
      headers: {},
      timeoutMs: 1000,
      policy: { allowedCidrs: ['127.0.0.1'] },
      lookup,
    })
    expect(sent.status).toBe(200)
    expect(sent.finalUrl).toBe(url)
  } finally {
    server.stop(true)
  }
})

test('a 302 is returned, not followed; too many 307s are an error; a huge answer does not hold us', async () => {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname
      if (path === '/found') return new Response(null, { status: 302, headers: { location: '/elsewhere' } })
      if (path === '/loop') return new Response(null, { status: 307, headers: { location: '/loop' } })
      return new Response(new Uint8Array(8 * 1024 * 1024))
    },
  })
  const policy = { allowedCidrs: ['127.0.0.1/32'] }
  const base = `http://127.0.0.1:${server.port}`
  try {
    expect(
      (await postOutbound(`${base}/found`, { body: '', headers: {}, timeoutMs: 1000, policy })).status,
    ).toBe(302)
    await expect(
      postOutbound(`${base}/loop`, { body: '', headers: {}, timeoutMs: 1000, policy }),
    ).rejects.toThrow('too many redirects')
    expect(
      (await postOutbound(`${base}/big`, { body: '', headers: {}, timeoutMs: 1000, policy })).status,
    ).toBe(200)
  } finally {
    server.stop(true)
  }
})
