// IMAP source settings and routing without a server: URL lists, names, after-actions, recipient tiers, loadConfig's checks.

import { describe, expect, test } from 'bun:test'
import { addressesIn, parseHeaderFields, returnPathOf, routingTiers } from '#plugins/ingest/imap/routing.ts'
import { parseImapAfter, parseImapUrls } from '#plugins/ingest/imap/settings.ts'
import { ConfigError, loadConfig } from '#server/config.ts'

describe('EPHEMAIL_IMAP_URL', () => {
  test('a percent-encoded user and password, the port and mailbox, the name from the fragment', () => {
    const [account] = parseImapUrls(
      'imaps://ops%40corp.example:p%40ss%2Cw%2Frd%25@mail.corp.example:1993/Ephemail%2FCatch#corp',
    )
    expect(account).toEqual({
      name: 'corp',
      secure: true,
      host: 'mail.corp.example',
      port: 1993,
      user: 'ops@corp.example',
      password: 'p@ss,w/rd%',
      mailbox: 'Ephemail/Catch',
    })
  })

  test('defaults: INBOX, port 143 or 993, the name from the mailbox', () => {
    const accounts = parseImapUrls(' imap://u:p@127.0.0.1 , imaps://u:p@[::1]/Catch All ')
    expect(
      accounts.map(({ name, port, mailbox, host, secure }) => ({ name, port, mailbox, host, secure })),
    ).toEqual([
      { name: 'inbox', port: 143, mailbox: 'INBOX', host: '127.0.0.1', secure: false },
      { name: 'catch-all', port: 993, mailbox: 'Catch All', host: '::1', secure: true },
    ])
  })

  test('two URLs with the same name are refused, saying to add #name', () => {
    expect(() => parseImapUrls('imap://a:p@one.example/INBOX,imap://b:p@two.example/INBOX')).toThrow(/#name/)
    expect(parseImapUrls('imap://a:p@one.example/INBOX#one,imap://b:p@two.example/INBOX#two')).toHaveLength(2)
  })

  test('errors name the URL with its password masked', () => {
    const attempts = [
      'pop3://u:secret-pw@host/INBOX',
      'imap://u@host/INBOX',
      'imap://u:secret-pw@host/INBOX#bad name!',
      'imap://u:secret%zz@host/INBOX',
      'imap://u:secret@pw@host/INBOX#a b',
    ]
    for (const value of attempts) {
      let message = ''
      try {
        parseImapUrls(value)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).not.toBe('')
      expect(message).not.toContain('secret')
    }
  })

  test('EPHEMAIL_IMAP_AFTER: delete (default), seen, move:FOLDER; anything else is refused', () => {
    expect(parseImapAfter('')).toEqual({ action: 'delete' })
    expect(parseImapAfter('DELETE')).toEqual({ action: 'delete' })
    expect(parseImapAfter('seen')).toEqual({ action: 'seen' })
    expect(parseImapAfter('move:Archive/Ephemail')).toEqual({ action: 'move', folder: 'Archive/Ephemail' })
    expect(() => parseImapAfter('move:')).toThrow()
    expect(() => parseImapAfter('archive')).toThrow()
  })
})

describe('routing tiers', () => {
  const block = [
    'Delivered-To: catchall@corp.example',
    'X-Original-To: Code-4711@Ephemail.test',
    'Envelope-To: a@ephemail.test,',
    ' <b@ephemail.test>',
    'Delivered-To: forged@ephemail.test',
    'Return-Path: <bounces+123@acme.example>',
    'Message-ID: <m1@acme.example>',
    '',
  ].join('\r\n')
  const fields = parseHeaderFields(block)

  test('each envelope header is a tier (top-most instance only), then To and Cc together', () => {
    expect(routingTiers(fields, ['x@ephemail.test', 'Y@ephemail.test', 'x@ephemail.test'], 10)).toEqual([
      { from: 'delivered-to', addresses: ['catchall@corp.example'] },
      { from: 'x-original-to', addresses: ['Code-4711@Ephemail.test'] },
      { from: 'envelope-to', addresses: ['a@ephemail.test', 'b@ephemail.test'] },
      { from: 'to/cc', addresses: ['x@ephemail.test', 'Y@ephemail.test'] },
    ])
  })

  test('a lower Delivered-To (an earlier hop, or the sender) is never a candidate', () => {
    const all = routingTiers(fields, [], 10).flatMap((tier) => tier.addresses)
    expect(all).not.toContain('forged@ephemail.test')
  })

  test('at most `limit` addresses per tier; values without an address are ignored', () => {
    const many = Array.from({ length: 30 }, (_, i) => `r${i}@ephemail.test`)
    const tiers = routingTiers(parseHeaderFields('X-Original-To: undisclosed-recipients:;\r\n'), many, 5)
    expect(tiers).toEqual([{ from: 'to/cc', addresses: many.slice(0, 5) }])
  })

  test('addresses in header values and the Return-Path', () => {
    expect(addressesIn('Name <a@b.example>, c@d.example, not-an-address')).toEqual([
      'a@b.example',
      'c@d.example',
    ])
    expect(returnPathOf(fields)).toBe('bounces+123@acme.example')
    expect(returnPathOf(parseHeaderFields('Return-Path: <>\r\n'))).toBeNull()
  })
})

describe('loadConfig: the IMAP settings', () => {
  const base = { EPHEMAIL_INGEST: 'smtp,imap' }
  const failure = (env: Record<string, string>) => {
    try {
      loadConfig(env, [])
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return (error as Error).message
    }
    throw new Error('loadConfig accepted it')
  }

  test('on with a URL: accounts, after, poll interval, IDLE', () => {
    const config = loadConfig(
      {
        ...base,
        EPHEMAIL_IMAP_URL: 'imap://u:p@127.0.0.1:1143/Catch#corp',
        EPHEMAIL_IMAP_AFTER: 'move:Done',
        EPHEMAIL_IMAP_POLL_SECONDS: '5',
        EPHEMAIL_IMAP_IDLE: 'false',
      },
      [],
    )
    expect(config.ingest).toContain('imap')
    expect(config.imap).toMatchObject({
      accounts: [{ name: 'corp', host: '127.0.0.1', port: 1143, mailbox: 'Catch' }],
      after: { action: 'move', folder: 'Done' },
      pollSeconds: 5,
      idle: false,
      tlsCa: null,
    })
  })

  test('off: a URL alone polls nothing', () => {
    expect(loadConfig({ EPHEMAIL_IMAP_URL: 'imap://u:p@host/INBOX' }, []).imap.accounts).toEqual([])
  })

  test('refusals name the variable and never show the password', () => {
    expect(failure(base)).toMatch(/^EPHEMAIL_IMAP_URL must name a mailbox/)
    const bad = failure({ ...base, EPHEMAIL_IMAP_URL: 'imap://u:hunter2@host/INBOX#not ok' })
    expect(bad).toMatch(/^EPHEMAIL_IMAP_URL: /)
    expect(bad).not.toContain('hunter2')
    expect(
      failure({ ...base, EPHEMAIL_IMAP_URL: 'imap://u:p@host/Catch', EPHEMAIL_IMAP_AFTER: 'move:Catch' }),
    ).toMatch(/EPHEMAIL_IMAP_AFTER=move:Catch is the mailbox/)
    expect(failure({ ...base, EPHEMAIL_IMAP_URL: 'imap://u:p@host/', EPHEMAIL_IMAP_AFTER: 'flag' })).toMatch(
      /^EPHEMAIL_IMAP_AFTER: /,
    )
    expect(
      failure({
        ...base,
        EPHEMAIL_IMAP_URL: 'imap://u:p@host/',
        EPHEMAIL_IMAP_TLS_CA: '/nonexistent/ca.pem',
      }),
    ).toMatch(/^EPHEMAIL_IMAP_TLS_CA=\/nonexistent\/ca.pem cannot be read/)
    expect(
      failure({ ...base, EPHEMAIL_IMAP_URL: 'imap://u:p@host/', EPHEMAIL_IMAP_POLL_SECONDS: '0' }),
    ).toMatch(/^EPHEMAIL_IMAP_POLL_SECONDS=0 is outside/)
  })
})
