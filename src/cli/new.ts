// `ephemail new`: creates a mailbox, prints its address and remembers its token for the commands that follow.

import { HELP_OPTION, JSON_OPTION, parseDuration, SERVER_OPTIONS, UsageError } from './args.ts'
import { type Command, EXIT_OK } from './command.ts'
import { openClient, resolveConnection } from './connection.ts'

export const newCommand: Command = {
  name: 'new',
  summary: 'create a mailbox and print its address',
  synopsis: 'new [--name LOCALPART] [--domain DOMAIN] [--ttl DURATION] [--json]',
  details: [
    'Without --name the address is random. Its token is remembered (see `ephemail --help`), so',
    '`ephemail wait-otp ADDRESS` and `ephemail inbox ADDRESS` work with no key. --json prints the',
    'mailbox with its token: {"id","address","expiresAt","token",...}.',
  ].join('\n'),
  options: {
    name: { type: 'string', valueName: 'LOCALPART', description: 'the part before the @ (default: random)' },
    domain: {
      type: 'string',
      valueName: 'DOMAIN',
      description: 'a receiving domain of the server (default: one of its public domains)',
    },
    ttl: {
      type: 'string',
      valueName: 'DURATION',
      description:
        "lifetime: seconds, or 90s, 30m, 2h, 7d (default: the server's, 10 minutes unless configured)",
    },
    ...SERVER_OPTIONS,
    ...JSON_OPTION,
    ...HELP_OPTION,
  },
  positionals: { min: 0, max: 0, names: [] },
  async run({ values }, io) {
    const connection = resolveConnection(values, io)
    let ttlSeconds: number | undefined
    if (typeof values.ttl === 'string') {
      const ms = parseDuration(values.ttl, 'ttl')
      if (ms % 1000 !== 0) throw new UsageError('--ttl is counted in whole seconds')
      ttlSeconds = ms / 1000
    }
    const created = await openClient(connection).createMailbox({
      ...(typeof values.name === 'string' ? { localPart: values.name } : {}),
      ...(typeof values.domain === 'string' ? { domain: values.domain } : {}),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    })
    await connection.tokens.remember({
      url: connection.url,
      address: created.address,
      token: created.token,
      expiresAt: created.expiresAt,
    })
    io.out(values.json ? JSON.stringify(created) : created.address)
    return EXIT_OK
  },
}
