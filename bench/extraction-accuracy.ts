// Extraction accuracy per labelled corpus (the tuned one, the blind development sets, the blind held-out half): codes and links right, mails fully right, wrong answers, and speed.
// Usage: bun bench/extraction-accuracy.ts [--corpus extraction,extraction-dev,extraction-dev2,extraction-dev3,extraction-dev4,extraction-dev5,extraction-dev6,extraction-dev7,extraction-dev8,extraction-dev9,extraction-dev10,extraction-dev11,extraction-dev12,extraction-dev13,extraction-dev14,extraction-dev15,extraction-dev16,extraction-dev17,extraction-dev18,extraction-dev19,extraction-dev20,extraction-dev21,extraction-dev22,extraction-dev23,extraction-dev24,extraction-dev25,extraction-dev26,extraction-dev27,extraction-dev28,extraction-dev29,extraction-dev30,extraction-dev31,extraction-dev32,extraction-heldout,extraction-heldout17] [--verbose] [--quiet]

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { extractOtpAndLink } from '#lib/extract/index.ts'
import { parseMail } from '#lib/mail.ts'
import { readArgs } from './support.ts'

interface Label {
  file: string
  otp: string | null
  link: string | null
  kind: string
  lang: string
}

interface CorpusScore {
  corpus: string
  mails: number
  codesRight: number
  linksRight: number
  fullyRight: number
  /** A code or a link returned where the label holds another value or null. */
  wrongAnswers: number
  /** A code or a link labelled but not returned (null). */
  misses: number
}

const args = readArgs()
const CORPORA = (
  args.get('corpus') ??
  'extraction,extraction-dev,extraction-dev2,extraction-dev3,extraction-dev4,extraction-dev5,extraction-dev6,extraction-dev7,extraction-dev8,extraction-dev9,extraction-dev10,extraction-dev11,extraction-dev12,extraction-dev13,extraction-dev14,extraction-dev15,extraction-dev16,extraction-dev17,extraction-dev18,extraction-dev19,extraction-dev20,extraction-dev21,extraction-dev22,extraction-dev23,extraction-dev24,extraction-dev25,extraction-dev26,extraction-dev27,extraction-dev28,extraction-dev29,extraction-dev30,extraction-dev31,extraction-dev32,extraction-heldout,extraction-heldout17'
).split(',')
const verbose = process.argv.includes('--verbose')
const quiet = process.argv.includes('--quiet')
const FIXTURES = join(import.meta.dir, '..', 'test', 'fixtures')

/** What the pipeline hands the extractor (message-processor.ts extractFromMail). */
function asInput(mail: Awaited<ReturnType<typeof parseMail>>) {
  return { subject: mail.subject, text: mail.text, html: mail.html, fromAddress: mail.from?.address ?? null }
}

async function loadCorpus(corpus: string) {
  const dir = join(FIXTURES, corpus)
  const labels: Label[] = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'))
  const mails = await Promise.all(
    labels.map((label) => parseMail(new Uint8Array(readFileSync(join(dir, label.file))))),
  )
  return { labels, mails }
}

function score(corpus: string, labels: Label[], mails: Awaited<ReturnType<typeof parseMail>>[]): CorpusScore {
  const result: CorpusScore = {
    corpus,
    mails: labels.length,
    codesRight: 0,
    linksRight: 0,
    fullyRight: 0,
    wrongAnswers: 0,
    misses: 0,
  }
  for (const [i, label] of labels.entries()) {
    const found = extractOtpAndLink(asInput(mails[i] as (typeof mails)[number]))
    const otpOk = found.otp === label.otp
    const linkOk = found.link === label.link
    if (otpOk) result.codesRight++
    if (linkOk) result.linksRight++
    if (otpOk && linkOk) result.fullyRight++
    const wrongOtp = !otpOk && found.otp !== null
    const wrongLink = !linkOk && found.link !== null
    if (wrongOtp) result.wrongAnswers++
    if (wrongLink) result.wrongAnswers++
    if (!otpOk && found.otp === null) result.misses++
    if (!linkOk && found.link === null) result.misses++
    if (quiet || (otpOk && linkOk)) continue
    console.log(
      `${wrongOtp || wrongLink ? 'WRONG' : 'MISS '} ${corpus}/${label.file} [${label.kind}/${label.lang}]`,
    )
    if (!otpOk) {
      const top = verbose ? `  top ${JSON.stringify(found.otpCandidates.slice(0, 3))}` : ''
      console.log(`  otp  want ${label.otp}  got ${found.otp}${top}`)
    }
    if (!linkOk) {
      const top = verbose ? `\n  top ${JSON.stringify(found.linkCandidates.slice(0, 3))}` : ''
      console.log(`  link want ${label.link}\n       got  ${found.link}${top}`)
    }
  }
  return result
}

const scores: CorpusScore[] = []
const allMails: Awaited<ReturnType<typeof parseMail>>[] = []
for (const corpus of CORPORA) {
  const { labels, mails } = await loadCorpus(corpus)
  scores.push(score(corpus, labels, mails))
  allMails.push(...mails)
}

const rounds = 20
const start = performance.now()
const inputs = allMails.map(asInput)
for (let r = 0; r < rounds; r++) for (const input of inputs) extractOtpAndLink(input)
const perSecond = Math.round((rounds * allMails.length) / ((performance.now() - start) / 1000))

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`
console.table(
  Object.fromEntries(
    scores.map((s) => [
      s.corpus,
      {
        mails: s.mails,
        codesRight: pct(s.codesRight, s.mails),
        linksRight: pct(s.linksRight, s.mails),
        fullyRight: pct(s.fullyRight, s.mails),
        wrongAnswers: s.wrongAnswers,
        misses: s.misses,
      },
    ]),
  ),
)
console.log(`extractions per second on one core: ${perSecond} (${allMails.length} mails x ${rounds})`)
console.log(
  JSON.stringify({
    scenario: 'extraction',
    corpora: scores.map((s) => ({
      ...s,
      fullyRightPercent: Number(((100 * s.fullyRight) / s.mails).toFixed(1)),
    })),
    extractionsPerSecondOneCore: perSecond,
  }),
)
