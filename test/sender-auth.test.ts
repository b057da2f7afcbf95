// Sender authentication in processing: what part of a message mailauth is given, checked against the
// verdicts on the whole message, and the DNS cache in front of its resolver.

import { describe, expect, test } from 'bun:test'
import crypto from 'node:crypto'
import { dkimSign } from 'mailauth/lib/dkim/sign'
import { AUTH_OFFLOAD_MIN_BYTES, type AuthOffload, createAuthOffload } from '#server/pipeline/auth-offload.ts'
import {
  authenticationInput,
  createSenderAuthenticator,
  type DnsResolver,
  withCache,
} from '#server/pipeline/sender-auth.ts'
import { fixture } from './support/api-harness.ts'

describe('sender authentication input', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  // The signer's DNS: its DKIM key, an SPF record that allows the sending address, and a DMARC policy.
  const resolver: DnsResolver = async (name, type) => {
    if (type === 'TXT' && name === 'mail._domainkey.example-shop.de')
      return [[`v=DKIM1; k=rsa; p=${publicDer}`]]
    if (type === 'TXT' && name === 'accounts.example-shop.de') return [['v=spf1 ip4:192.0.2.25 -all']]
    if (type === 'TXT' && name === '_dmarc.example-shop.de') return [['v=DMARC1; p=reject']]
    throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' })
  }
  const envelope = {
    mailFrom: 'noreply@accounts.example-shop.de',
    rcptTo: ['lena.schmidt@ephemail.test'],
    remoteAddress: '192.0.2.25',
    helo: 'mail-out.example-shop.de',
    source: 'smtp' as const,
  }
  const authenticate = createSenderAuthenticator({ resolver, mta: 'mx.ephemail.test' })
  // The fixture as it left the sender's MTA: without the DKIM signature it was given there.
  const unsignedFixture = () =>
    Buffer.from(
      Buffer.from(fixture('confirm-de-qp.eml'))
        .toString('latin1')
        .replace(/^DKIM-Signature:.*\r\n(?:[ \t].*\r\n)*/m, ''),
      'latin1',
    )

  /** The message with a DKIM signature of example-shop.de put in front, as the sender's MTA signs it. */
  const sign = async (unsigned: Buffer): Promise<Uint8Array> => {
    const { signatures } = await dkimSign(unsigned, {
      signatureData: [
        {
          canonicalization: 'relaxed/relaxed',
          signingDomain: 'example-shop.de',
          selector: 'mail',
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        },
      ],
      // mailauth's typings list signer fields at the top level; its signer reads `signatureData`.
    } as unknown as Parameters<typeof dkimSign>[1])
    return new Uint8Array(Buffer.concat([Buffer.from(signatures), unsigned]))
  }

  test('unsigned mail is checked on its headers alone, with the verdicts the whole message gets', async () => {
    const raw = new Uint8Array(unsignedFixture())
    const input = (authenticationInput(raw) as { input: Buffer }).input
    expect(input.length).toBeLessThan(raw.length)
    expect(input.toString('latin1')).toMatch(/\r?\n\r?\n$/)
    const headersOnly = await authenticate(raw, envelope)
    expect(headersOnly.spf).toBe('pass')
    expect(headersOnly.dkim).toBe('none')
    const { authenticate: whole } = await import('mailauth')
    const reference = (await whole(Buffer.from(raw), {
      ...envelope,
      ip: envelope.remoteAddress,
      sender: envelope.mailFrom,
      resolver,
      mta: 'mx.ephemail.test',
    })) as { spf: { status: { result: string } }; dmarc: { status: { result: string } } }
    expect(headersOnly.spf).toBe(reference.spf.status.result)
    expect(headersOnly.dmarc).toBe(reference.dmarc.status.result)
  })

  test('DKIM-signed mail is checked whole: the body hash passes, and a changed body no longer passes', async () => {
    const unsigned = unsignedFixture()
    const signed = await sign(unsigned)
    expect(new TextDecoder().decode(signed)).toStartWith('DKIM-Signature:')
    expect((authenticationInput(signed) as { input: Buffer }).input.length).toBe(signed.length)
    const verdict = await authenticate(signed, envelope)
    expect(verdict.dkim).toBe('pass')
    expect(verdict.dmarc).toBe('pass')
    const tampered = Buffer.from(signed)
    tampered.write('X', tampered.length - 10, 'latin1')
    // mailauth's verdict when the body hash does not verify (the signature itself is intact).
    expect((await authenticate(new Uint8Array(tampered), envelope)).dkim).toBe('neutral')
  })
  test('a large signed message is checked on the thread, its DNS asked here, with the same verdicts', async () => {
    // 200 KB of epilogue after the closing boundary: covered by the body hash, past AUTH_OFFLOAD_MIN_BYTES.
    const filler = Array.from({ length: 2_500 }, (_, i) => `Zeile ${i} des Nachspanns.`).join('\r\n')
    const unsigned = Buffer.concat([unsignedFixture(), Buffer.from(`${filler}\r\n`)])
    const signed = await sign(unsigned)
    expect(signed.length).toBeGreaterThan(AUTH_OFFLOAD_MIN_BYTES)
    const asked: string[] = []
    const watching: DnsResolver = (name, type) => {
      asked.push(`${type} ${name}`)
      return resolver(name, type)
    }
    const offload = createAuthOffload()
    try {
      let sentToThread = 0
      const counted: AuthOffload = {
        ...offload,
        check: (...task) => {
          sentToThread++
          return offload.check(...task)
        },
      }
      const onThread = createSenderAuthenticator({
        resolver: watching,
        mta: 'mx.ephemail.test',
        offload: counted,
      })
      expect(await onThread(new Uint8Array(unsignedFixture()), envelope)).toMatchObject({ spf: 'pass' })
      expect(sentToThread).toBe(0) // a small message stays on this thread
      const verdict = await onThread(signed, envelope)
      expect(sentToThread).toBe(1)
      expect(verdict).toEqual(await authenticate(signed, envelope))
      expect(verdict).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass' })
      // The key, the SPF record and the policy were asked of this thread's resolver; failures crossed with their code.
      expect(asked).toContain('TXT mail._domainkey.example-shop.de')
      expect(asked).toContain('TXT _dmarc.example-shop.de')
      const tampered = Buffer.from(signed)
      tampered.write('X', tampered.length - 10, 'latin1')
      expect((await onThread(new Uint8Array(tampered), envelope)).dkim).toBe('neutral')
    } finally {
      await offload.close()
    }
  })

  test('unsigned mail from a repeated sender reuses the verdicts, identical to a fresh check', async () => {
    let lookups = 0
    const counting: DnsResolver = (name, type) => {
      lookups++
      return resolver(name, type)
    }
    const reusing = createSenderAuthenticator({
      resolver: counting,
      mta: 'mx.ephemail.test',
      verdictCacheMs: 60_000,
    })
    const first = unsignedFixture()
    // Another message of the same sender: another body and subject, the same From and envelope.
    const second = Buffer.from(
      first
        .toString('latin1')
        .replace(/^Subject:.*$/m, 'Subject: Ihr neuer Code')
        .replace(/\r\n\r\n[\s\S]*$/, '\r\n\r\nIhr Code lautet 482913.\r\n'),
      'latin1',
    )
    const freshFirst = await authenticate(new Uint8Array(first), envelope)
    const freshSecond = await authenticate(new Uint8Array(second), envelope)
    expect(freshFirst).toEqual(freshSecond) // what makes reuse safe: a fresh check of either gives the same
    expect(freshFirst.spf).toBe('pass')
    expect(await reusing(new Uint8Array(first), envelope)).toEqual(freshFirst)
    const afterFirst = lookups
    expect(afterFirst).toBeGreaterThan(0)
    expect(await reusing(new Uint8Array(second), envelope)).toEqual(freshSecond)
    expect(lookups).toBe(afterFirst) // reused: no DNS, no mailauth
    // Another envelope IP is checked afresh, and SPF fails for it.
    const elsewhere = await reusing(new Uint8Array(second), { ...envelope, remoteAddress: '198.51.100.7' })
    expect(lookups).toBeGreaterThan(afterFirst)
    expect(elsewhere.spf).toBe('fail')
    // Another From is checked afresh too.
    const beforeOtherFrom = lookups
    const otherFrom = Buffer.from(
      second.toString('latin1').replace(/^From:.*$/m, 'From: Shop <info@other-shop.example>'),
      'latin1',
    )
    await reusing(new Uint8Array(otherFrom), envelope)
    expect(lookups).toBeGreaterThan(beforeOtherFrom)
  })
})

describe('DNS cache for sender authentication', () => {
  test('repeats of a lookup, failures included, are answered from the cache until they expire', async () => {
    const asked: string[] = []
    const upstream = async (name: string, type: string) => {
      asked.push(`${type} ${name}`)
      if (name.startsWith('_dmarc')) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' })
      return [['v=spf1 -all']]
    }
    const cached = withCache(upstream, 50, 2)
    expect(await cached('acme.example', 'TXT')).toEqual([['v=spf1 -all']])
    expect(await cached('ACME.example', 'TXT')).toEqual([['v=spf1 -all']])
    await expect(cached('_dmarc.acme.example', 'TXT')).rejects.toThrow('nx')
    await expect(cached('_dmarc.acme.example', 'TXT')).rejects.toThrow('nx')
    expect(asked).toEqual(['TXT acme.example', 'TXT _dmarc.acme.example'])
    await Bun.sleep(60)
    await cached('acme.example', 'TXT')
    expect(asked).toHaveLength(3) // expired, asked again
  })
})
