// What processing takes from a message: codes and links over the labelled corpus, the same through
// `npx ephemail extract`, operator extraction rules, and sanitised HTML.

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseExtractionRules } from '#lib/extraction-rules.ts'
import { parseMail } from '#lib/mail.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { extractFromMail } from '#server/pipeline/message-processor.ts'

const CORPUS = join(import.meta.dir, 'fixtures', 'extraction')

describe('sanitised HTML', () => {
  test('scripts, handlers, forms, frames and javascript: URLs go; layout and remote images stay, marked', () => {
    const html = sanitizeHtml(
      '<table bgcolor="#fff" onload="x()"><tr><td style="color:red">Hi<script>alert(1)</script></td></tr></table>' +
        '<a href="javascript:alert(1)">a</a><a href=" java\tscript:alert(1)">b</a><a href="https://ok.example/?a=1&amp;b=2">c</a>' +
        '<img src="https://t.example/p.gif" onerror="x()"><iframe src="https://x.example"></iframe>' +
        '<form action="https://x.example"><input name="q"></form><svg><script>1</script></svg>',
    )
    expect(html).not.toMatch(/script|onload|onerror|iframe|<form|<input|<svg|javascript/i)
    expect(html).toContain('<td style="color:red">Hi</td>')
    expect(html).toContain(
      '<a href="https://ok.example/?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">c</a>',
    )
    expect(html).toContain('<img src="https://t.example/p.gif" data-remote-image>')
  })
})

describe('extraction corpus', () => {
  const labels: { file: string; otp: string | null; link: string | null; kind: string }[] = JSON.parse(
    readFileSync(join(CORPUS, 'labels.json'), 'utf8'),
  )

  test('every code and link exact (the tuned corpus stays at 100%), and no false positive on any negative', async () => {
    const extractor = createBuiltinExtractor()
    let otpRight = 0
    let linkRight = 0
    const falsePositives: string[] = []
    for (const label of labels) {
      const found = extractFromMail(
        extractor,
        await parseMail(new Uint8Array(readFileSync(join(CORPUS, label.file)))),
      )
      if (found.otp === label.otp) otpRight++
      if (found.link === label.link) linkRight++
      if (label.kind === 'negative' && (found.otp !== null || found.link !== null))
        falsePositives.push(label.file)
    }
    expect(labels.length).toBeGreaterThanOrEqual(100)
    expect(labels.filter((label) => label.kind === 'negative').length).toBeGreaterThanOrEqual(30)
    expect(otpRight).toBe(labels.length)
    expect(linkRight).toBe(labels.length)
    expect(falsePositives).toEqual([])
  })

  test('`npx ephemail extract` prints one JSON line per file, in order, from the same code path', () => {
    const files = labels.slice(0, 5).map((label) => join(CORPUS, label.file))
    const run = Bun.spawnSync([join(import.meta.dir, '..', 'bin', 'ephemail.mjs'), 'extract', ...files])
    expect(run.exitCode).toBe(0)
    const lines = run.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((line) => line.file)).toEqual(files)
    for (const [i, line] of lines.entries()) {
      expect(line.otp).toBe(labels[i]?.otp ?? null)
      expect(line.link).toBe(labels[i]?.link ?? null)
    }
  })
})

describe('blind corpora (development sets and the held-out half)', () => {
  // The first held-out half is never tuned on; its floor is what it measures now (97.8 % since round 17), so a change
  // that loses held-out mails fails here. The issue asks 99 % on held-out mail: not met yet (bench/README.md).
  test.each([
    ['extraction-dev', 0.98],
    ['extraction-dev2', 0.98],
    ['extraction-dev3', 0.98],
    ['extraction-dev4', 0.98],
    ['extraction-dev5', 0.98],
    ['extraction-dev6', 0.98],
    ['extraction-dev7', 0.98],
    ['extraction-dev8', 0.98],
    ['extraction-dev9', 0.98],
    ['extraction-dev10', 0.98],
    ['extraction-dev11', 0.98],
    ['extraction-dev12', 0.98],
    ['extraction-dev13', 0.98],
    ['extraction-dev14', 0.98],
    ['extraction-dev15', 0.98],
    ['extraction-dev16', 0.98],
    ['extraction-dev17', 0.98],
    ['extraction-dev18', 0.98],
    ['extraction-dev19', 0.98],
    ['extraction-dev20', 0.98],
    ['extraction-dev21', 0.98],
    ['extraction-dev22', 0.98],
    ['extraction-dev23', 0.98],
    ['extraction-dev24', 0.98],
    ['extraction-dev25', 0.98],
    ['extraction-dev26', 0.98],
    ['extraction-dev27', 0.98],
    ['extraction-dev28', 0.98],
    ['extraction-dev29', 0.98],
    ['extraction-dev30', 0.98],
    ['extraction-dev31', 0.98],
    ['extraction-dev32', 0.98],
    ['extraction-heldout', 0.97],
  ] as const)('%s: no wrong answer, and at least the floor of mails fully right', async (corpus, floor) => {
    const dir = join(import.meta.dir, 'fixtures', corpus)
    const devLabels: { file: string; otp: string | null; link: string | null }[] = JSON.parse(
      readFileSync(join(dir, 'labels.json'), 'utf8'),
    )
    const extractor = createBuiltinExtractor()
    let fullyRight = 0
    const wrong: string[] = []
    for (const label of devLabels) {
      const found = extractFromMail(
        extractor,
        await parseMail(new Uint8Array(readFileSync(join(dir, label.file)))),
      )
      if (found.otp === label.otp && found.link === label.link) fullyRight++
      if (found.otp !== null && found.otp !== label.otp) wrong.push(`${label.file}: otp ${found.otp}`)
      if (found.link !== null && found.link !== label.link) wrong.push(`${label.file}: link ${found.link}`)
    }
    expect(wrong).toEqual([])
    expect(fullyRight / devLabels.length).toBeGreaterThanOrEqual(floor)
  })
})

describe('operator extraction rules', () => {
  test('a rule for the sender domain wins over the heuristics; other senders are unaffected', () => {
    const extractor = createBuiltinExtractor(
      parseExtractionRules('[{"senderDomain":"bank.example","otpPattern":"TAN:? (\\\\d{6})"}]'),
    )
    const text = 'Reference 123456. Your TAN: 987654 (order 555555).'
    expect(
      extractor.extract({ subject: 'TAN', text, html: null, fromAddress: 'tan@secure.bank.example' }).otp,
    ).toBe('987654')
    const other = extractor.extract({ subject: 'TAN', text, html: null, fromAddress: 'x@other.example' })
    expect(other.otpCandidates[0]?.reasons).not.toContain('rule for bank.example')
    expect(() => parseExtractionRules('[{"senderDomain":"x"}]')).toThrow('entry 0 needs string fields')
    expect(() => parseExtractionRules('[{"senderDomain":"x","otpPattern":"("}]')).toThrow('entry 0')
  })
})
