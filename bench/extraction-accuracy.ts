// Extraction accuracy over the labelled corpus in test/fixtures/extraction: exact-match rates, false positives, misses, and speed.
// Usage: bun bench/extraction-accuracy.ts [--verbose]

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { extractOtpAndLink } from '#lib/extract/index.ts'
import { parseMail } from '#lib/mail.ts'

interface Label {
  file: string
  otp: string | null
  link: string | null
  kind: string
  lang: string
}

const dir = join(import.meta.dir, '..', 'test', 'fixtures', 'extraction')
const labels: Label[] = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'))
const verbose = process.argv.includes('--verbose')
const parsed = await Promise.all(
  labels.map(async (label) => parseMail(new Uint8Array(readFileSync(join(dir, label.file))))),
)

let otpRight = 0
let linkRight = 0
let falsePositives = 0
const negatives = labels.filter((label) => label.otp === null && label.link === null).length
for (const [i, label] of labels.entries()) {
  const mail = parsed[i] as Awaited<ReturnType<typeof parseMail>>
  const result = extractOtpAndLink(mail)
  const otpOk = result.otp === label.otp
  const linkOk = result.link === label.link
  if (otpOk) otpRight++
  if (linkOk) linkRight++
  if ((label.otp === null && result.otp !== null) || (label.link === null && result.link !== null))
    falsePositives++
  if (!(otpOk && linkOk)) {
    console.log(`MISS ${label.file} [${label.kind}/${label.lang}]`)
    if (!otpOk)
      console.log(
        `  otp  want ${label.otp}  got ${result.otp}  top ${JSON.stringify(result.otpCandidates.slice(0, 3))}`,
      )
    if (!linkOk)
      console.log(
        `  link want ${label.link}\n       got  ${result.link}${verbose ? `\n  top ${JSON.stringify(result.linkCandidates.slice(0, 3))}` : ''}`,
      )
  }
}

const rounds = 20
const start = performance.now()
for (let r = 0; r < rounds; r++) for (const mail of parsed) extractOtpAndLink(mail)
const perSecond = Math.round((rounds * parsed.length) / ((performance.now() - start) / 1000))

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`
console.table({
  messages: labels.length,
  otpExact: pct(otpRight, labels.length),
  linkExact: pct(linkRight, labels.length),
  falsePositives: `${falsePositives} (of ${negatives} negatives and every null label)`,
  extractionsPerSecondOneCore: perSecond,
})
console.log(
  JSON.stringify({
    scenario: 'extraction',
    messages: labels.length,
    otpExactPercent: Number(((100 * otpRight) / labels.length).toFixed(1)),
    linkExactPercent: Number(((100 * linkRight) / labels.length).toFixed(1)),
    falsePositives,
    extractionsPerSecondOneCore: perSecond,
  }),
)
