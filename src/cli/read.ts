// `ephemail read ID`: one message's text (or its HTML, or the exact bytes received).

import { EphemailProblem } from '#client/index.ts'
import { htmlToText } from '#lib/extract/html-to-text.ts'
import { HELP_OPTION, JSON_OPTION, SERVER_OPTIONS, UsageError } from './args.ts'
import { type Command, EXIT_FAILURE, EXIT_OK } from './command.ts'
import { type Connection, callOptionsFor, openClient, resolveConnection } from './connection.ts'

export const readCommand: Command = {
  name: 'read',
  summary: 'print a message: its text, --html, or --raw bytes',
  synopsis: 'read ID [--html | --raw | --json] [--mailbox ADDRESS]',
  details: [
    'The text part, or the HTML converted to text when there is none. --html prints the HTML as sent;',
    '--raw the exact bytes received over SMTP (an .eml file: `ephemail read ID --raw > mail.eml`);',
    '--json the whole message (headers, bodies, attachments, envelope, code and link).',
    'Without a key, the remembered mailbox tokens are tried in turn; --mailbox names the one to use.',
  ].join('\n'),
  options: {
    html: { type: 'boolean', description: 'the HTML part as sent' },
    raw: { type: 'boolean', description: 'the exact bytes received (message/rfc822)' },
    mailbox: {
      type: 'string',
      valueName: 'ADDRESS',
      description: 'the mailbox the message is in (picks its token)',
    },
    ...SERVER_OPTIONS,
    ...JSON_OPTION,
    ...HELP_OPTION,
  },
  positionals: { min: 1, max: 1, names: ['ID'] },
  async run({ values, positionals }, io) {
    const id = positionals[0] as string
    const formats = (['html', 'raw', 'json'] as const).filter((format) => values[format] === true)
    if (formats.length > 1)
      throw new UsageError(`choose one of ${formats.map((format) => `--${format}`).join(', ')}`)
    const connection = resolveConnection(values, io)
    const client = openClient(connection)
    const mailbox = typeof values.mailbox === 'string' ? values.mailbox : null

    if (values.raw) {
      const bytes = await withMessageCredential(connection, mailbox, (call) => client.getRaw(id, call))
      await io.outBytes(bytes)
      return EXIT_OK
    }
    const message = await withMessageCredential(connection, mailbox, (call) => client.getMessage(id, call))
    if (values.json) io.out(JSON.stringify(message))
    else if (values.html) {
      if (message.html === null) {
        io.err(`ephemail read: message ${id} has no HTML part (plain text: ephemail read ${id})`)
        return EXIT_FAILURE
      }
      io.out(withoutFinalNewline(message.html))
    } else
      io.out(withoutFinalNewline(message.text ?? (message.html === null ? '' : htmlToText(message.html))))
    return EXIT_OK
  },
}

/**
 * Runs `call` with the credential for a message whose mailbox may be unknown: the key, the token
 * of `mailbox`, or else each remembered token of this server until one is not answered 404 (a
 * token sees only its own mailbox; anything else is a 404). With none remembered, it runs unauthenticated.
 */
async function withMessageCredential<T>(
  connection: Connection,
  mailbox: string | null,
  call: (options: { token?: string }) => Promise<T>,
): Promise<T> {
  if (connection.key) return call({})
  if (mailbox !== null) return call(await callOptionsFor(connection, mailbox))
  const remembered = await connection.tokens.list(connection.url)
  if (remembered.length === 0) return call({})
  let notFound: unknown
  for (const entry of remembered) {
    try {
      return await call({ token: entry.token })
    } catch (error) {
      if (!(error instanceof EphemailProblem && error.status === 404)) throw error
      notFound = error
    }
  }
  throw notFound
}

/** io.out ends the output with a newline; a body's own final one is not doubled, so stdout is the body. */
function withoutFinalNewline(body: string): string {
  return body.endsWith('\n') ? body.slice(0, -1) : body
}
