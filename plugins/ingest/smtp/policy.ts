// SMTP ingest policy shared by both front ends (smtp-server and Bun): line limits, recipient limits and RCPT replies.

import type { RecipientVerdict } from '#contracts/ingest.ts'

/**
 * Longest command line, CRLF included (RFC 5321 §4.5.3.1.4). smtp-server allows 16 KB by default;
 * past this the connection is refused the command and closed, so a client cannot pin a long buffer.
 */
export const MAX_COMMAND_LINE_OCTETS = 512

/**
 * Longest line of a message, CRLF excluded (RFC 5322 §2.1.1: "MUST be no more than 998"). A message
 * with a longer line is refused with 552 after DATA: such lines are what parsers, the sanitiser and
 * terminals choke on, and every compliant sender wraps them.
 */
export const MAX_TEXT_LINE_OCTETS = 998

/**
 * RCPT commands per transaction, repeats included, as a multiple of maxRecipients: smtp-server lets
 * a repeated address replace itself, so without this 10,000 RCPTs of one address all get 250.
 */
export const RCPT_COMMANDS_PER_RECIPIENT = 2

/** Refused RCPTs in one session before it is closed with 421: stops address harvesting by guesswork. */
export const MAX_REFUSED_RECIPIENTS = 20

export const RCPT_REPLIES: Record<Exclude<RecipientVerdict, { accepted: true }>['reason'], [number, string]> =
  {
    'invalid-address': [553, '5.1.3 Recipient address is not a valid mailbox address'],
    'unknown-domain': [550, '5.1.2 This server does not receive mail for that domain'],
    'no-such-mailbox': [550, '5.1.1 No such mailbox here (it may have expired)'],
    // 452: the sender keeps the message and retries, by which time messages may have been deleted.
    'mailbox-full': [452, '4.2.2 Mailbox full: it holds as many messages as its plan allows'],
  }

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
