// Command line: `ephemail extract FILE.eml ...` prints one JSON line per file with the code and link the worker would find.

import { readFile } from 'node:fs/promises'
import { parseExtractionRules } from '#lib/extraction-rules.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { extractFromMail } from '#server/pipeline/message-processor.ts'
import { parseMail } from './lib/mail.ts'

const USAGE = 'usage: ephemail extract FILE.eml [FILE.eml ...]'

async function extract(files: string[]): Promise<number> {
  const extractor = createBuiltinExtractor(
    parseExtractionRules(process.env.EPHEMAIL_EXTRACT_RULES?.trim() || '[]'),
  )
  let failures = 0
  for (const file of files) {
    try {
      const parsed = await parseMail(new Uint8Array(await readFile(file)))
      const found = extractFromMail(extractor, parsed)
      console.log(
        JSON.stringify({
          file,
          otp: found.otp,
          link: found.link,
          subject: parsed.subject,
          otpCandidates: found.otpCandidates.slice(0, 3),
          linkCandidates: found.linkCandidates.slice(0, 3),
        }),
      )
    } catch (error) {
      failures++
      console.log(JSON.stringify({ file, otp: null, link: null, error: (error as Error).message }))
    }
  }
  return failures === 0 ? 0 : 1
}

const [command, ...rest] = process.argv.slice(2)
if (command === 'extract' && rest.length > 0) process.exit(await extract(rest))
console.error(USAGE)
process.exit(2)
