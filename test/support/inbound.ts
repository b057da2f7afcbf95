// Test helper: an Ephemail core with the HTTP inbound source on (configured as an operator would), listening on loopback.

import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createPgliteStorage } from '#plugins/storage/pglite/index.ts'
import { loadConfig } from '#server/config.ts'
import { createCore, type EphemailCore } from '#server/core.ts'
import { inThreadMailWork } from '#server/pipeline/mail-offload.ts'

export const INBOUND_SECRET = 'inbound-test-secret-0123456789'
export const ADMIN = 'inbound-test-admin-key-0123456789'
export const MAILGUN_KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0'
export const POSTMARK = { user: 'postmark', password: 'pm-pass-0123456789' }

export interface InboundServer {
  core: EphemailCore
  url: string
  /** The private half of the SendGrid key pair whose public half is configured. */
  sendgridKey: KeyObject
  mailbox(localPart: string): Promise<string>
  /** A message as the API shows it to the admin key. */
  read(id: string): Promise<Record<string, unknown> & { source: string; subject: string | null }>
  close(): Promise<void>
}

export async function startInboundServer(env: Record<string, string> = {}): Promise<InboundServer> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const config = loadConfig(
    {
      EPHEMAIL_ADMIN_KEY: ADMIN,
      EPHEMAIL_INGEST: 'smtp,http',
      EPHEMAIL_INBOUND_SECRET: INBOUND_SECRET,
      EPHEMAIL_INBOUND_MAILGUN_SIGNING_KEY: MAILGUN_KEY,
      EPHEMAIL_INBOUND_SENDGRID_PUBLIC_KEY: publicKey
        .export({ format: 'der', type: 'spki' })
        .toString('base64'),
      EPHEMAIL_INBOUND_POSTMARK_USER: POSTMARK.user,
      EPHEMAIL_INBOUND_POSTMARK_PASSWORD: POSTMARK.password,
      EPHEMAIL_MAX_MESSAGE_BYTES: String(256 * 1024),
      ...env,
    },
    [],
  )
  const core = await createCore(config, {
    plugins: { storage: createPgliteStorage() },
    mail: inThreadMailWork,
    version: 'test',
  })
  const server = core
    .buildApp()
    .listen({ hostname: '127.0.0.1', port: 0, maxRequestBodySize: 64 * 1024 * 1024 })
  const url = `http://127.0.0.1:${server.server?.port}`
  const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }
  return {
    core,
    url,
    sendgridKey: privateKey,
    async mailbox(localPart) {
      const response = await fetch(`${url}/v1/mailboxes`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ localPart }),
      })
      if (response.status !== 201) throw new Error(`mailbox: ${response.status} ${await response.text()}`)
      return ((await response.json()) as { address: string }).address
    },
    async read(id) {
      const response = await fetch(`${url}/v1/messages/${id}`, { headers: admin })
      if (response.status !== 200) throw new Error(`read: ${response.status} ${await response.text()}`)
      return response.json() as never
    },
    async close() {
      await server.stop()
      await core.close()
    },
  }
}

/** A realistic message, unique per call (its own Message-ID). */
export function sampleMail(
  to: string,
  subject: string,
  messageId = `<${crypto.randomUUID()}@mail.example.org>`,
) {
  return [
    'Received: from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net',
    'From: "Example Accounts" <accounts@example.org>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your verification code is 482913. It expires in 10 minutes.',
    '',
  ].join('\r\n')
}
