// The outbound address policy: address classes, allowed ranges, and the URL check before any connection.

import { describe, expect, test } from 'bun:test'
import {
  checkOutboundUrl,
  classifyAddress,
  OutboundBlockedError,
  parseAllowedCidrs,
} from '#server/webhooks/address-policy.ts'
import { DEFAULT_POLICY, fakeDns, LOOPBACK_ALLOWED } from './support/outbound.ts'

const ALLOW_VARIABLE = 'EPHEMAIL_WEBHOOK_ALLOW_CIDRS'

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
