// `ephemail inbox ADDRESS`: the mailbox's messages, newest first, one line each.

import type { MessageSummary } from '#client/index.ts'
import { HELP_OPTION, JSON_OPTION, SERVER_OPTIONS, UsageError } from './args.ts'
import { type Command, EXIT_OK } from './command.ts'
import { callOptionsFor, openClient, resolveConnection } from './connection.ts'

/** The API's largest page. */
const MAX_LIMIT = 100

export const inboxCommand: Command = {
  name: 'inbox',
  summary: 'list the messages of a mailbox, newest first',
  synopsis: 'inbox ADDRESS [--limit N] [--json]',
  details: [
    'One line per message: id, time received, sender, subject, and the code or link found in it.',
    '`ephemail read ID` shows one. --json prints the API\'s page: {"items":[...],"nextCursor"}.',
  ].join('\n'),
  options: {
    limit: {
      type: 'string',
      valueName: 'N',
      description: `at most N messages, 1..${MAX_LIMIT} (default 20)`,
    },
    ...SERVER_OPTIONS,
    ...JSON_OPTION,
    ...HELP_OPTION,
  },
  positionals: { min: 1, max: 1, names: ['ADDRESS'] },
  async run({ values, positionals }, io) {
    const address = positionals[0] as string
    const limit = typeof values.limit === 'string' ? Number(values.limit) : 20
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new UsageError(`--limit "${values.limit}" is not a whole number from 1 to ${MAX_LIMIT}`)
    const connection = resolveConnection(values, io)
    const page = await openClient(connection).listMessages(address, {
      limit,
      ...(await callOptionsFor(connection, address)),
    })
    if (values.json) io.out(JSON.stringify(page))
    else if (page.items.length === 0) io.err(`no messages at ${address}`)
    else io.out(page.items.map(describeMessage).join('\n'))
    return EXIT_OK
  },
}

function describeMessage(message: MessageSummary): string {
  const found = [
    message.otp === null ? null : `code ${message.otp}`,
    message.link === null ? null : `link ${message.link}`,
  ].filter((part) => part !== null)
  return [
    message.id,
    message.receivedAt.replace(/\.\d+Z$/, 'Z'),
    message.from?.address ?? '(no sender)',
    message.subject === null ? '(no subject)' : JSON.stringify(message.subject),
    ...(found.length > 0 ? [`[${found.join(', ')}]`] : []),
  ].join('  ')
}
