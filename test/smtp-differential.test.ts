// The two SMTP front ends side by side: the same byte streams to each, the same replies (codes, enhanced codes,
// texts) and the same stored bytes; then a seeded fuzz run on both: no crash, no hang, every 250 stored exactly once.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SMTP_SERVERS, type SmtpServer } from '#server/config.ts'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { loadSeedMessages, mulberry32, mutation } from './support/mutate.ts'
import { dataPayload } from './support/smtp-client.ts'
import { play, type Step, type Transcript } from './support/smtp-differential.ts'

const MAX_MESSAGE_BYTES = 20_000 // testEnv's
const FUZZ_SEED = 20_261_201
const FUZZ_SESSIONS = Number(process.env.EPHEMAIL_SMTP_FUZZ_SESSIONS ?? 500)

const servers = {} as Record<SmtpServer, TestEphemail>
let to = ''

beforeAll(async () => {
  for (const smtpServer of SMTP_SERVERS) {
    // No per-address rates: the fuzz run opens hundreds of sessions from one address.
    servers[smtpServer] = await startTestEphemail({
      EPHEMAIL_SMTP_SERVER: smtpServer,
      EPHEMAIL_SMTP_CONNECTIONS_PER_MINUTE_PER_IP: '0',
      EPHEMAIL_SMTP_MESSAGES_PER_HOUR_PER_IP: '0',
    })
    // The same mailbox on both, so RCPT verdicts agree.
    to = (await servers[smtpServer].createMailbox('diff')).address
  }
}, 60_000)
afterAll(async () => {
  for (const server of Object.values(servers)) await server.stop()
})

/** The script on both front ends; the stored raw bytes come back with each transcript. */
async function both(steps: Step[]) {
  const result = {} as Record<SmtpServer, Transcript & { raws: string[] }>
  for (const smtpServer of SMTP_SERVERS) {
    const server = servers[smtpServer]
    const transcript = await play(server.smtpPort, steps)
    const raws = await Promise.all(
      transcript.stored.map(async (id) => Buffer.from(await server.getRaw(id)).toString('latin1')),
    )
    result[smtpServer] = { ...transcript, raws }
  }
  return result
}

function expectSame(result: Awaited<ReturnType<typeof both>>) {
  const [first, second] = SMTP_SERVERS.map((smtpServer) => result[smtpServer])
  expect({ replies: second?.replies, raws: second?.raws }).toEqual({
    replies: first?.replies,
    raws: first?.raws,
  })
}

const message = (subject: string, body = 'Hello.\r\n') =>
  `From: a@example.org\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${body}`
const envelope = (from = 'a@example.org') => [
  { send: 'EHLO diff.test\r\n', replies: 1 },
  { send: `MAIL FROM:<${from}>\r\n`, replies: 1 },
  { send: `RCPT TO:<${to}>\r\n`, replies: 1 },
  { send: 'DATA\r\n', replies: 1 },
]

describe('the same byte streams to both SMTP front ends', () => {
  const scripts: [string, () => Step[]][] = [
    [
      'a normal session',
      () => [
        ...envelope(),
        { send: dataPayload(message('normal')), replies: 1 },
        { send: 'QUIT\r\n', replies: 1 },
      ],
    ],
    [
      'pipelined batches, body and QUIT included',
      () => [
        { send: 'EHLO diff.test\r\n', replies: 1 },
        {
          send: `MAIL FROM:<a@example.org>\r\nRCPT TO:<${to}>\r\nRCPT TO:<nobody@ephemail.test>\r\nDATA\r\n`,
          replies: 4,
        },
        {
          send: `${dataPayload(message('piped 1'))}MAIL FROM:<b@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`,
          replies: 4,
        },
        { send: `${dataPayload(message('piped 2'))}NOOP\r\nRSET\r\nQUIT\r\n`, replies: 4 },
      ],
    ],
    [
      'dot-stuffing',
      () => [
        ...envelope(),
        { send: dataPayload(message('dots', '.leading\r\n..two\r\n...\r\n.\r\n \r\nend\r\n')), replies: 1 },
      ],
    ],
    [
      'bare LF in commands and in the body',
      () => [
        { send: 'EHLO diff.test\n', replies: 1 },
        { send: `MAIL FROM:<a@example.org>\nRCPT TO:<${to}>\nDATA\n`, replies: 3 },
        { send: `Subject: bare\n\nline one\n.line two\n..line three\r\n.\r\n`, replies: 1 },
      ],
    ],
    ['a command line too long', () => [{ send: `EHLO ${'a'.repeat(600)}\r\n`, replies: 1 }]],
    [
      'a text line too long, then a message that is fine',
      () => [
        ...envelope(),
        { send: dataPayload(message('long', `${'l'.repeat(1200)}\r\n`)), replies: 1 },
        ...envelope().slice(1),
        { send: dataPayload(message('after long', `${'l'.repeat(998)}\r\n`)), replies: 1 },
      ],
    ],
    [
      'an oversize body',
      () => [...envelope(), { send: `Subject: big\r\n\r\n${'x'.repeat(78)}\r\n`.repeat(400), replies: 1 }],
    ],
    [
      'SIZE declared past the limit',
      () => [...envelope().slice(0, 1), { send: 'MAIL FROM:<a@example.org> SIZE=999999\r\n', replies: 1 }],
    ],
    ['an early talker', () => [{ send: 'EHLO early.test\r\n', replies: 1, early: true }]],
    [
      'RSET in the middle of a transaction',
      () => [
        ...envelope().slice(0, 3),
        { send: 'RSET\r\n', replies: 1 },
        { send: 'DATA\r\n', replies: 1 },
        { send: `RCPT TO:<${to}>\r\n`, replies: 1 },
        ...envelope().slice(1),
        { send: dataPayload(message('after rset')), replies: 1 },
      ],
    ],
    [
      'SMTPUTF8 addresses and an 8-bit body',
      () => [
        { send: 'EHLO diff.test\r\n', replies: 1 },
        { send: 'MAIL FROM:<josé@exämple.org> SMTPUTF8 BODY=8BITMIME\r\n', replies: 1 },
        { send: 'RCPT TO:<grüße@ephemail.test>\r\n', replies: 1 },
        { send: 'RCPT TO:<user@xn--exmple-cua.org>\r\n', replies: 1 },
        { send: `RCPT TO:<${to}>\r\n`, replies: 1 },
        { send: 'DATA\r\n', replies: 1 },
        { send: dataPayload(message('Grüße ✉', 'Körper: 8-bit, ünïcödé — 你好\r\n')), replies: 1 },
      ],
    ],
    [
      'odd commands and parameters',
      () => [
        { send: 'HELO\r\nEHLO a b\r\nHELO diff.test\r\n', replies: 3 },
        {
          send: 'VRFY\r\nVRFY someone\r\nHELP\r\nNOOP x\r\nXCLIENT ADDR=1.2.3.4\r\nSTARTTLS\r\nAUTH PLAIN x\r\n',
          replies: 7,
        },
        { send: 'MAIL FROM:<a@example.org> SIZE=abc\r\nMAIL FROM:<a@example.org> BODY=9BIT\r\n', replies: 2 },
        { send: 'MAIL FROM:<a@example.org> SIZE=1 SIZE=2\r\nMAIL FROM:<a@example.org> SIZE\r\n', replies: 2 },
        {
          send: 'MAIL FROM:<a@example.org> SMTPUTF8=yes\r\nMAIL FROM:a@example.org\r\nMAIL  FROM:<a@b.c>\r\n',
          replies: 3,
        },
        {
          send: 'MAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<@relay.example:x@ephemail.test>\r\n',
          replies: 3,
        },
        {
          send: 'RCPT TO:<a@[127.0.0.1]>\r\nRCPT TO:<a@[IPv6:::1]>\r\nRCPT TO:<a@-bad-.test>\r\n',
          replies: 3,
        },
        { send: 'GET / HTTP/1.1\r\n', replies: 1 },
      ],
    ],
    [
      'ten unknown commands',
      () => [{ send: Array.from({ length: 10 }, (_, i) => `BOGUS${i}\r\n`).join(''), replies: 10 }],
    ],
  ]
  for (const [label, script] of scripts)
    test(label, async () => {
      expectSame(await both(script()))
    })
})

/** A random command line: well-formed ones, malformed ones, odd bytes; every one ends its line. */
function randomCommand(rng: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rng() * items.length)] as T
  const verbs = [
    'EHLO x.test',
    'HELO x.test',
    'MAIL FROM:<a@example.org>',
    `RCPT TO:<${to}>`,
    'RCPT TO:<nobody@ephemail.test>',
    'RSET',
    'NOOP',
    'VRFY a',
    'HELP',
    'MAIL FROM:<>',
    'RCPT TO:<a@elsewhere.example>',
  ]
  const odd = [
    '',
    ' ',
    'mail from:<A@Example.org> size=10',
    'RCPT TO:<"q"@ephemail.test>',
    'MAIL FROM:<a@b> BODY=',
    'EHLO',
    'ehlo \u00e9.test',
    'RCPT TO:<\u0001@x.test>',
    `NOOP ${'n'.repeat(Math.floor(rng() * 600))}`,
    'XYZZY',
    'RCPT TO:<a..b@ephemail.test>',
  ]
  const line = rng() < 0.8 ? pick(verbs) : pick(odd)
  return `${line}${rng() < 0.9 ? '\r\n' : '\n'}`
}

describe('fuzz: random sessions and mutated messages on both front ends', () => {
  for (const smtpServer of SMTP_SERVERS)
    test(`[${smtpServer}] ${FUZZ_SESSIONS} sessions: no crash, no hang, every 250 stored exactly once`, async () => {
      const server = servers[smtpServer]
      const seeds = loadSeedMessages()
      const rng = mulberry32(FUZZ_SEED)
      const accepted: string[] = []
      const before = (await server.listMessages(to)).length
      for (let session = 0; session < FUZZ_SESSIONS; session++) {
        const steps: Step[] = [{ send: 'EHLO fuzz.test\r\n', replies: 1 }]
        for (let n = 1 + Math.floor(rng() * 6); n > 0; n--) {
          if (rng() < 0.35) {
            const body = mutation(seeds, FUZZ_SEED, session * 8 + n, {
              maxMessageBytes: MAX_MESSAGE_BYTES,
            }).raw
            const stuffed = Buffer.from(dataPayload(Buffer.from(body).toString('latin1')), 'latin1')
            steps.push({ send: `MAIL FROM:<f@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`, replies: 3 })
            steps.push({ send: stuffed, replies: 1 })
          } else steps.push({ send: randomCommand(rng), replies: 1 })
        }
        steps.push({ send: 'QUIT\r\n', replies: 1 })
        const transcript = await play(server.smtpPort, steps)
        accepted.push(...transcript.stored)
      }
      // Still answering: nothing crashed.
      expect((await play(server.smtpPort, [{ send: 'NOOP\r\n', replies: 1 }])).replies.at(-1)).toBe('250 OK')
      expect(new Set(accepted).size).toBe(accepted.length)
      let listed = 0
      for (let cursor: string | null = null, first = true; first || cursor; first = false) {
        const response = await server.api(
          `/v1/mailboxes/${encodeURIComponent(to)}/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        )
        const page = (await response.json()) as { items: { id: string }[]; nextCursor: string | null }
        listed += page.items.length
        cursor = page.nextCursor
      }
      console.log(
        `[${smtpServer}] fuzz: ${FUZZ_SESSIONS} sessions, ${accepted.length} messages accepted and stored`,
      )
      expect(listed - before).toBe(accepted.length)
    }, 600_000)
})
