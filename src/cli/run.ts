// The CLI's dispatch: picks the command, parses its arguments, prints help, and maps failures to one line and an exit code.

import packageJson from '../../package.json' with { type: 'json' }
import { describeOptions, parseCommandArgs, UsageError } from './args.ts'
import { type CliIo, type Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './command.ts'
import { configCommand } from './config.ts'
import { DEFAULT_URL } from './connection.ts'
import { extractCommand } from './extract.ts'
import { describeFailure } from './failure.ts'
import { inboxCommand } from './inbox.ts'
import { newCommand } from './new.ts'
import { readCommand } from './read.ts'
import { serveCommand } from './serve.ts'
import { waitLinkCommand, waitOtpCommand } from './wait.ts'

export const COMMANDS: readonly Command[] = [
  newCommand,
  waitOtpCommand,
  waitLinkCommand,
  inboxCommand,
  readCommand,
  extractCommand,
  serveCommand,
  configCommand,
]

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    io.err(overallHelp())
    return EXIT_USAGE
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0] === undefined ? undefined : COMMANDS.find((command) => command.name === rest[0])
    if (rest[0] !== undefined && topic === undefined) return unknownCommand(rest[0], io)
    io.out(topic ? commandHelp(topic) : overallHelp())
    return EXIT_OK
  }
  if (name === '--version' || name === '-V') {
    io.out(packageJson.version)
    return EXIT_OK
  }
  const command = COMMANDS.find((candidate) => candidate.name === name)
  if (!command) return unknownCommand(name, io)
  try {
    const args = parseCommandArgs(rest, command.options, command.positionals)
    if (args.values.help) {
      io.out(commandHelp(command))
      return EXIT_OK
    }
    return await command.run(args, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`ephemail ${command.name}: ${error.message}`)
      io.err(`usage: ephemail ${command.synopsis}   (ephemail ${command.name} --help for more)`)
      return EXIT_USAGE
    }
    io.err(`ephemail ${command.name}: ${describeFailure(error)}`)
    return EXIT_FAILURE
  }
}

function unknownCommand(name: string, io: CliIo): number {
  io.err(
    `ephemail: "${name}" is not a command; one of: ${COMMANDS.map((command) => command.name).join(', ')}`,
  )
  io.err('(ephemail --help for more)')
  return EXIT_USAGE
}

function commandHelp(command: Command): string {
  return [
    `usage: ephemail ${command.synopsis}`,
    '',
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    ...(command.details ? ['', command.details] : []),
    '',
    'options:',
    describeOptions(command.options),
  ].join('\n')
}

function overallHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length))
  return [
    'usage: ephemail COMMAND [ARGUMENTS] [OPTIONS]',
    '',
    'Disposable mailboxes from the command line, and the Ephemail server itself.',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    `Commands that talk to a server take --url and --key, or EPHEMAIL_URL and EPHEMAIL_KEY (default ${DEFAULT_URL}).`,
    'A mailbox made with `new` is remembered with its token (~/.local/state/ephemail/mailboxes.json, mode 0600;',
    '$XDG_STATE_HOME or $EPHEMAIL_STATE_DIR move it), so later commands on it need no key.',
    'Every command takes --help, and --json to print one JSON document for scripts.',
    'Exit status: 0 done; 1 refused by the server, failed or timed out (the reason on stderr); 2 wrong usage.',
    '',
    'ephemail help COMMAND, or ephemail COMMAND --help, describes one command.',
  ].join('\n')
}
