// `ephemail wait-otp|wait-link ADDRESS`: waits for mail with a one-time code or a link and prints the value.

import { describeWait, EphemailTimeout, type Message, type MessageFilter } from '#client/index.ts'
import { HELP_OPTION, JSON_OPTION, parseDuration, SERVER_OPTIONS, UsageError } from './args.ts'
import { type Command, EXIT_OK } from './command.ts'
import { callOptionsFor, openClient, resolveConnection } from './connection.ts'

/** Long enough for a real sign-up mail to make its way; a script that knows better says --timeout. */
const DEFAULT_TIMEOUT_MS = 60_000

function waitCommand(name: string, field: 'otp' | 'link', what: string): Command {
  return {
    name,
    summary: `wait for the ${what} of a mailbox and print it`,
    synopsis: `${name} ADDRESS [--timeout DURATION] [--from SENDER] [--subject TEXT] [--since TIME] [--json]`,
    details: [
      `Prints the ${what} of the newest message that has one: already there, or the next to arrive`,
      "(it follows the mailbox's event stream, no polling). Nothing in time: exit 1 and the reason on",
      'stderr. --json prints {"address","otp","link","messageId","from","subject","receivedAt"}.',
    ].join('\n'),
    options: {
      timeout: {
        type: 'string',
        valueName: 'DURATION',
        description: 'how long to wait: seconds, or 500ms, 90s, 5m (default 60 s)',
      },
      from: {
        type: 'string',
        valueName: 'SENDER',
        description: 'only mail from this address, or from a domain (acme.example)',
      },
      subject: { type: 'string', valueName: 'TEXT', description: 'only mail whose subject contains TEXT' },
      since: {
        type: 'string',
        valueName: 'TIME',
        description: 'only mail received after TIME (ISO 8601, e.g. 2025-01-31T12:00:00Z)',
      },
      ...SERVER_OPTIONS,
      ...JSON_OPTION,
      ...HELP_OPTION,
    },
    positionals: { min: 1, max: 1, names: ['ADDRESS'] },
    async run({ values, positionals }, io) {
      const address = positionals[0] as string
      const timeoutMs =
        typeof values.timeout === 'string' ? parseDuration(values.timeout, 'timeout') : DEFAULT_TIMEOUT_MS
      if (typeof values.since === 'string' && Number.isNaN(Date.parse(values.since)))
        throw new UsageError(`--since "${values.since}" is not a time such as 2025-01-31T12:00:00Z`)
      const filter: MessageFilter = {
        ...(typeof values.from === 'string' ? { from: values.from } : {}),
        ...(typeof values.subject === 'string' ? { subject: values.subject } : {}),
      }
      const connection = resolveConnection(values, io)
      const client = openClient(connection)
      let message: Message
      try {
        // The whole message rather than the bare value, so --json can say which message it came from.
        message = await client.waitForMessage(
          address,
          { ...filter, match: (candidate) => candidate[field] !== null },
          {
            timeout: timeoutMs,
            ...(typeof values.since === 'string' ? { since: values.since } : {}),
            ...(await callOptionsFor(connection, address)),
          },
        )
      } catch (error) {
        // The client names what it waited for as "message accepted by match()"; say what it was.
        if (error instanceof EphemailTimeout)
          throw new EphemailTimeout(address, describeWait(what, filter), timeoutMs)
        throw error
      }
      if (values.json)
        io.out(
          JSON.stringify({
            address,
            otp: message.otp,
            link: message.link,
            messageId: message.id,
            from: message.from,
            subject: message.subject,
            receivedAt: message.receivedAt,
          }),
        )
      else io.out(message[field] as string)
      return EXIT_OK
    },
  }
}

export const waitOtpCommand = waitCommand('wait-otp', 'otp', 'one-time code')
export const waitLinkCommand = waitCommand('wait-link', 'link', 'verification or sign-in link')
