// `ephemail extract FILE.eml ...`: the code and link the worker would find, one JSON line per file, offline.

import { readFile } from 'node:fs/promises'
import { HELP_OPTION, JSON_OPTION } from './args.ts'
import { type Command, EXIT_FAILURE, EXIT_OK } from './command.ts'

export const extractCommand: Command = {
  name: 'extract',
  summary: 'find the one-time code and link in .eml files, offline (one JSON line per file)',
  synopsis: 'extract FILE.eml [FILE.eml ...] [--json]',
  details: [
    'Runs the extractor the worker runs, with the operator rules of $EPHEMAIL_EXTRACT_RULES. Each line:',
    '{"file","otp","link","subject","otpCandidates","linkCandidates"}, or {"file","otp":null,"link":null,"error"}',
    'for a file that cannot be read (exit 1). --json prints the same objects as one JSON array.',
  ].join('\n'),
  options: { ...JSON_OPTION, ...HELP_OPTION },
  positionals: { min: 1, max: Number.POSITIVE_INFINITY, names: ['FILE.eml'] },
  async run({ values, positionals }, io) {
    // Loaded here: the parser and extractor are only needed by this command.
    const [{ parseExtractionRules }, { createBuiltinExtractor }, { extractFromMail }, { parseMail }] =
      await Promise.all([
        import('#lib/extraction-rules.ts'),
        import('#plugins/extractor/builtin/index.ts'),
        import('#server/pipeline/message-processor.ts'),
        import('#lib/mail.ts'),
      ])
    const extractor = createBuiltinExtractor(
      parseExtractionRules(io.env.EPHEMAIL_EXTRACT_RULES?.trim() || '[]'),
    )
    const results: Record<string, unknown>[] = []
    let failures = 0
    for (const file of positionals) {
      let result: Record<string, unknown>
      try {
        const parsed = await parseMail(new Uint8Array(await readFile(file)))
        const found = extractFromMail(extractor, parsed)
        result = {
          file,
          otp: found.otp,
          link: found.link,
          subject: parsed.subject,
          otpCandidates: found.otpCandidates.slice(0, 3),
          linkCandidates: found.linkCandidates.slice(0, 3),
        }
      } catch (error) {
        failures++
        result = { file, otp: null, link: null, error: (error as Error).message }
      }
      // Lines go out as each file is done, so a long list shows progress; --json waits for the array.
      if (values.json) results.push(result)
      else io.out(JSON.stringify(result))
    }
    if (values.json) io.out(JSON.stringify(results))
    return failures === 0 ? EXIT_OK : EXIT_FAILURE
  },
}
