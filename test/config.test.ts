// Configuration: defaults, and errors that name the offending variable.

import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '#server/config.ts'

describe('config', () => {
  test('defaults match the README and the object is frozen', () => {
    const config = loadConfig({}, [])
    expect(config).toMatchObject({
      roles: ['api', 'smtp', 'worker'],
      httpPort: 3000,
      smtpPort: 2525,
      dataDir: './.data',
      databaseUrl: null,
      redisUrl: null,
      domains: [{ name: 'ephemail.test', type: 'public' }],
      adminKey: null,
      anonymous: true,
      authStyles: ['bearer'],
      ttl: { defaultSeconds: 600, minSeconds: 60, maxSeconds: 604800 },
    })
    expect(config.limits.maxMessageBytes).toBe(10 * 1024 * 1024)
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.limits)).toBe(true)
    expect(Object.isFrozen(config.domains[0])).toBe(true)
  })

  test('domain checks: MX hosts default to the SMTP hostname, DNS servers to the system', () => {
    expect(loadConfig({ EPHEMAIL_DOMAINS: 'mail.example.org' }, []).domainChecks).toEqual({
      mxHosts: ['mail.example.org'],
      recheckSeconds: 3600,
      dnsServers: [],
    })
    expect(loadConfig({ EPHEMAIL_SMTP_HOSTNAME: 'MX.Example.Net.' }, []).domainChecks.mxHosts).toEqual([
      'mx.example.net',
    ])
    const set = loadConfig(
      {
        EPHEMAIL_MX_HOSTS: 'MX1.example.net., mx2.example.net,mx1.example.net',
        EPHEMAIL_DOMAIN_RECHECK_SECONDS: '600',
        EPHEMAIL_DOMAIN_DNS_SERVERS: '192.0.2.53, 192.0.2.54:5353,2001:db8::53,[2001:db8::54]:5353',
      },
      [],
    ).domainChecks
    expect(set).toEqual({
      mxHosts: ['mx1.example.net', 'mx2.example.net'],
      recheckSeconds: 600,
      dnsServers: ['192.0.2.53', '192.0.2.54:5353', '2001:db8::53', '[2001:db8::54]:5353'],
    })
  })

  test('rate-limit settings: trusted proxies and SMTP rates per address, bad values named', () => {
    const defaults = loadConfig({}, [])
    expect(defaults.trustedProxies).toEqual([])
    expect(defaults.limits.smtpConnectionsPerMinutePerAddress).toBe(120)
    expect(defaults.limits.smtpMessagesPerHourPerAddress).toBe(2000)
    const set = loadConfig(
      {
        EPHEMAIL_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1',
        EPHEMAIL_SMTP_CONNECTIONS_PER_MINUTE_PER_IP: '0',
        EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP: '50',
      },
      [],
    )
    expect(set.trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1'])
    expect(set.limits.smtpConnectionsPerMinutePerAddress).toBe(0)
    expect(set.limits.smtpMessagesPerHourPerAddress).toBe(50)
    expect(() => loadConfig({ EPHEMAIL_TRUSTED_PROXIES: 'proxy.internal' }, [])).toThrow(
      /EPHEMAIL_TRUSTED_PROXIES has "proxy.internal"/,
    )
    expect(() => loadConfig({ EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP: 'many' }, [])).toThrow(ConfigError)
  })

  test('--role and EPHEMAIL_ROLES pick the roles', () => {
    expect(loadConfig({}, ['--role', 'smtp']).roles).toEqual(['smtp'])
    expect(loadConfig({}, ['--role=api,worker']).roles).toEqual(['api', 'worker'])
    expect(loadConfig({ EPHEMAIL_ROLES: 'worker' }, []).roles).toEqual(['worker'])
  })

  test('EPHEMAIL_AUTH picks the credential styles in order, once each', () => {
    expect(loadConfig({ EPHEMAIL_AUTH: 'bearer,header,query' }, []).authStyles).toEqual([
      'bearer',
      'header',
      'query',
    ])
    expect(loadConfig({ EPHEMAIL_AUTH: ' Query , header,query,' }, []).authStyles).toEqual([
      'query',
      'header',
    ])
    expect(Object.isFrozen(loadConfig({ EPHEMAIL_AUTH: 'header' }, []).authStyles)).toBe(true)
  })

  const bad: [Record<string, string>, string][] = [
    [{ EPHEMAIL_HTTP_PORT: 'eighty' }, 'EPHEMAIL_HTTP_PORT="eighty" is not a whole number'],
    [{ EPHEMAIL_SMTP_PORT: '70000' }, 'EPHEMAIL_SMTP_PORT=70000 is outside 0..65535'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL is not a URL'],
    [{ EPHEMAIL_ANONYMOUS: 'maybe' }, 'EPHEMAIL_ANONYMOUS="maybe" is not a boolean'],
    [{ EPHEMAIL_DOMAINS: 'ok.test,bad_domain' }, 'EPHEMAIL_DOMAINS "bad_domain" is not a domain name'],
    [{ EPHEMAIL_ADMIN_KEY: 'short' }, 'EPHEMAIL_ADMIN_KEY must be at least 16 characters'],
    [
      { EPHEMAIL_TTL_MIN_SECONDS: '900', EPHEMAIL_TTL_MAX_SECONDS: '600' },
      'EPHEMAIL_TTL_MIN_SECONDS=900 is above EPHEMAIL_TTL_MAX_SECONDS=600',
    ],
    [{ EPHEMAIL_TTL_DEFAULT_SECONDS: '30' }, 'EPHEMAIL_TTL_DEFAULT_SECONDS=30 is outside 60..604800'],
    [
      { EPHEMAIL_AUTH: 'bearer,cookie' },
      'EPHEMAIL_AUTH: "cookie" is not a credential style; known: bearer, header, query',
    ],
    [{ EPHEMAIL_AUTH: 'access-token' }, 'EPHEMAIL_AUTH: "access-token" is always on'],
    [{ EPHEMAIL_AUTH: ' , ' }, 'EPHEMAIL_AUTH names no credential style; known: bearer, header, query'],
    [{ EPHEMAIL_ROLES: 'api,mailer' }, 'role "mailer" (from EPHEMAIL_ROLES) is not one of api, smtp, worker'],
    [{ EPHEMAIL_MX_HOSTS: 'mx.ok.test,mx_bad' }, 'EPHEMAIL_MX_HOSTS: "mx_bad" is not a host name'],
    [{ EPHEMAIL_MX_HOSTS: ' , ' }, 'EPHEMAIL_MX_HOSTS names no host'],
    [{ EPHEMAIL_DOMAIN_RECHECK_SECONDS: '5' }, 'EPHEMAIL_DOMAIN_RECHECK_SECONDS=5 is outside 60..604800'],
    [
      { EPHEMAIL_DOMAIN_DNS_SERVERS: '127.0.0.1:5353,dns.example' },
      'EPHEMAIL_DOMAIN_DNS_SERVERS: "dns.example" is not an IP address with an optional port',
    ],
    [{ EPHEMAIL_DOMAIN_DNS_SERVERS: '192.0.2.1:99999' }, 'EPHEMAIL_DOMAIN_DNS_SERVERS: "192.0.2.1:99999"'],
  ]
  for (const [env, message] of bad) {
    test(`rejects ${Object.keys(env).join(', ')}`, () => {
      expect(() => loadConfig(env, [])).toThrow(ConfigError)
      expect(() => loadConfig(env, [])).toThrow(message)
    })
  }
})
