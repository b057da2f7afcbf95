// Client address behind proxies: the peer unless trusted, then X-Forwarded-For read right to left.

import { describe, expect, test } from 'bun:test'
import { createClientIpResolver, ipSubject, parseTrustedProxies } from '#server/http/client-ip.ts'

describe('client IP', () => {
  test('without trusted proxies the peer is the client, whatever X-Forwarded-For says', () => {
    const clientIp = createClientIpResolver([])
    expect(clientIp('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9')
    expect(clientIp('::ffff:127.0.0.1', '198.51.100.1')).toBe('127.0.0.1')
    expect(clientIp('2001:db8::1', null)).toBe('2001:db8::1')
  })

  test('an untrusted peer is the client even when other proxies are trusted', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9')
  })

  test('a trusted peer: the rightmost untrusted address of X-Forwarded-For', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8', '127.0.0.1'])
    expect(clientIp('::ffff:127.0.0.1', '198.51.100.1')).toBe('198.51.100.1')
    // The client wrote "1.2.3.4" itself; the proxies appended what they saw.
    expect(clientIp('127.0.0.1', '1.2.3.4, 198.51.100.7, 10.1.2.3')).toBe('198.51.100.7')
    expect(clientIp('127.0.0.1', '1.2.3.4,198.51.100.7,10.1.2.3,10.9.9.9')).toBe('198.51.100.7')
    expect(clientIp('127.0.0.1', '[2001:db8::5]')).toBe('2001:db8::5')
  })

  test('a trusted peer with nothing usable forwarded: the last trusted address vouched for', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8', '127.0.0.1'])
    expect(clientIp('127.0.0.1', null)).toBe('127.0.0.1')
    expect(clientIp('127.0.0.1', '10.1.1.1')).toBe('10.1.1.1')
    expect(clientIp('127.0.0.1', 'unknown, 10.1.1.1')).toBe('10.1.1.1')
    expect(clientIp('127.0.0.1', '198.51.100.7, garbage')).toBe('127.0.0.1')
  })

  test('no peer (a request handled in-process): null', () => {
    expect(createClientIpResolver(['127.0.0.1'])(null, '198.51.100.1')).toBeNull()
  })

  test('IPv4-mapped ranges and IPv6 ranges', () => {
    const clientIp = createClientIpResolver(['::ffff:10.0.0.0/104', 'fd00::/8'])
    expect(clientIp('10.2.3.4', '198.51.100.2')).toBe('198.51.100.2')
    expect(clientIp('fd12::1', '2001:db8::9')).toBe('2001:db8::9')
  })

  test('EPHEMAIL_TRUSTED_PROXIES parsing names the bad entry', () => {
    expect(parseTrustedProxies(' 10.0.0.0/8, ,127.0.0.1 ')).toEqual(['10.0.0.0/8', '127.0.0.1'])
    expect(parseTrustedProxies('')).toEqual([])
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow('"10.0.0.0/33"')
    expect(() => parseTrustedProxies('proxy.internal')).toThrow('"proxy.internal"')
    expect(() => parseTrustedProxies('127.1')).toThrow('"127.1"')
  })

  test('subjects: an IPv4 address, an IPv6 /64', () => {
    expect(ipSubject('198.51.100.7')).toBe('ip:198.51.100.7')
    expect(ipSubject('2001:db8:1:2:aaaa::1')).toBe('ip:2001:db8:1:2::/64')
    expect(ipSubject('2001:db8:1:2:ffff::9')).toBe('ip:2001:db8:1:2::/64')
    expect(ipSubject(null)).toBe('ip:unknown')
  })
})
