// The Bun SMTP source against the shared ingest contract, and its DATA reader byte by byte against split points.

import { describe, expect, test } from 'bun:test'
import { runSmtpIngestContract } from '../../../test/support/smtp-contract.ts'
import { DataReader } from './data-reader.ts'
import { create, name } from './index.ts'

await runSmtpIngestContract(name, create)

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (raw: Uint8Array) => new TextDecoder().decode(raw)

/** Feeds `wire` cut at every `splits` offset; returns what the reader made of it. */
function read(wire: string, splits: number[], maxBytes = 10_000) {
  const reader = new DataReader(maxBytes)
  reader.begin()
  const all = bytes(wire)
  const cuts = [0, ...splits.filter((cut) => cut > 0 && cut < all.length), all.length]
  for (let i = 0; i + 1 < cuts.length; i++) {
    const progress = reader.feed(all.subarray(cuts[i], cuts[i + 1]))
    if (progress.state === 'oversize') return { oversize: true as const }
    if (progress.state === 'done') {
      const rest = text(progress.rest) + text(all.subarray(cuts[i + 1]))
      return { message: text(progress.raw), longestLine: progress.longestLine, rest }
    }
  }
  return { unfinished: true as const }
}

describe('DATA reader', () => {
  const cases: [string, string, string, string][] = [
    ['plain', 'Subject: a\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'Subject: a\r\n\r\nbody\r\n', 'QUIT\r\n'],
    ['stuffed dots', '..one\r\n...two\r\n.three\r\n.\r\n', '.one\r\n..two\r\n.three\r\n', ''],
    ['an empty message', '.\r\nNOOP\r\n', '', 'NOOP\r\n'],
    ['a dot after a bare LF is no end', 'a\n.\r\nb\r\n.\r\n', 'a\n.\r\nb\r\n', ''],
    ['a stuffed dot after a bare LF goes', 'a\n..b\r\n.\r\n', 'a\n.b\r\n', ''],
    ['dot CR without LF is content', 'a\r\n.\rb\r\n.\r\n', 'a\r\n.\rb\r\n', ''],
    ['8-bit bytes pass through', 'Grüße ✉\r\n.\r\n', 'Grüße ✉\r\n', ''],
  ]
  for (const [label, wire, message, rest] of cases)
    test(`${label}: the same at every split point`, () => {
      for (let cut = 0; cut <= wire.length; cut++)
        for (const second of [cut + 1, cut + 2, cut + 3])
          expect({ cut, second, ...read(wire, [cut, second]) }).toMatchObject({ cut, second, message, rest })
    })

  test('measures the longest line without its CR LF, across splits', () => {
    const wire = `${'x'.repeat(999)}\r\nshort\r\n.\r\n`
    for (const cut of [1, 500, 999, 1000, 1001, 1002])
      expect(read(wire, [cut])).toMatchObject({ longestLine: 999 })
  })

  test('stops at the limit: exactly the limit is kept, one byte more is oversize', () => {
    expect(read(`${'y'.repeat(98)}\r\n.\r\n`, [50], 100)).toMatchObject({ message: `${'y'.repeat(98)}\r\n` })
    expect(read(`${'y'.repeat(99)}\r\n.\r\n`, [50], 100)).toEqual({ oversize: true })
  })
})
