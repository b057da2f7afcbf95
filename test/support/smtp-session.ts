// Test helper for SMTP ingest: a running Ephemail per describe block handing out bare SMTP conversations,
// reply assertions that show the whole reply on failure, and the message ids the server says it stored.

import { afterAll, afterEach, beforeAll, describe, expect } from 'bun:test'
import { SMTP_SERVERS, type SmtpServer } from '#server/config.ts'
import { startTestEphemail, type TestEphemail } from './ephemail.ts'
import { dataPayload, type SmtpReply, SmtpTestClient } from './smtp-client.ts'

export const MAX_MESSAGE_BYTES = 20_000

/**
 * Runs `body` once per SMTP front end (EPHEMAIL_SMTP_SERVER), so every SMTP suite proves both give the
 * same replies and store the same bytes; `body` passes `{ EPHEMAIL_SMTP_SERVER: smtpServer }` to the server it starts.
 * EPHEMAIL_TEST_SMTP_SERVERS=bun (a comma list) narrows the run while working on one.
 */
export function forEachSmtpServer(body: (smtpServer: SmtpServer) => void): void {
  const only = process.env.EPHEMAIL_TEST_SMTP_SERVERS?.split(',')
  for (const smtpServer of SMTP_SERVERS)
    if (!only || only.includes(smtpServer)) describe(`[${smtpServer}]`, () => body(smtpServer))
}
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Checks code and enhanced code; the whole reply is in the diff when it fails. Ephemail's own
 * replies open with an enhanced code; smtp-server's built-in ones carry none (its enhanced codes
 * are off), so `null` is asserted for those: turning them on would double the ones Ephemail writes.
 */
export function expectReply(reply: SmtpReply, code: number, enhanced: string | null = null): SmtpReply {
  expect({ code: reply.code, enhanced: reply.enhanced, lines: reply.lines }).toMatchObject({ code, enhanced })
  return reply
}

/** The message ids the server names in its 250 after DATA ("2.0.0 Stored as <id>, <id>"). */
export function storedIds(reply: SmtpReply): string[] {
  expectReply(reply, 250, '2.0.0')
  const match = /^Stored as (.+)$/.exec(reply.text)
  expect(match).not.toBeNull()
  const ids = (match?.[1] ?? '').split(', ')
  for (const id of ids) expect(id).toMatch(UUID)
  return ids
}

/** The one message id of a single-mailbox delivery. */
export function storedId(reply: SmtpReply): string {
  const ids = storedIds(reply)
  expect(ids).toHaveLength(1)
  return ids[0] as string
}

export function simpleMessage(to: string, subject: string, body = 'Hello from the raw client.'): string {
  return [
    'From: Raw Sender <raw@example.org>',
    `To: ${to}`,
    `Subject: ${subject}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n')
}

export const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')

/** Starts a server for the enclosing describe block and hands out SMTP conversations on it. */
export function useServer(overrides: Record<string, string> = {}) {
  const state = { eph: undefined as unknown as TestEphemail }
  const clients: SmtpTestClient[] = []

  beforeAll(async () => {
    state.eph = await startTestEphemail(overrides)
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) if (!client.closed) await client.abort()
  })
  afterAll(async () => {
    for (const client of clients.splice(0)) if (!client.closed) await client.abort()
    await state.eph?.stop()
  })

  return {
    get eph() {
      return state.eph
    },
    /** A bare TCP connection; nothing read yet. */
    async connect(): Promise<SmtpTestClient> {
      const client = await SmtpTestClient.connect(state.eph.smtpPort)
      clients.push(client)
      return client
    },
    /** Connected, greeted (220) and introduced with EHLO (250). */
    async session(helo = 'client.test'): Promise<SmtpTestClient> {
      const client = await this.connect()
      expectReply(await client.readReply(), 220)
      expectReply(await client.command(`EHLO ${helo}`), 250)
      return client
    },
    /** MAIL, one RCPT per address (each must get 250), DATA, the message and the dot; returns the final reply. */
    async deliver(client: SmtpTestClient, recipients: string[], message: string): Promise<SmtpReply> {
      expectReply(await client.command('MAIL FROM:<raw@example.org>'), 250)
      for (const recipient of recipients) expectReply(await client.command(`RCPT TO:<${recipient}>`), 250)
      expectReply(await client.command('DATA'), 354)
      client.write(dataPayload(message), `<message, ${message.length} bytes, and the dot>`)
      return client.readReply()
    },
  }
}
