// Test helper: a real Ephemail (API + SMTP on ephemeral ports, PGlite in a fresh temporary
// directory) started in-process, with small HTTP helpers that read what it stored.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import type { AttachmentInfo } from '#lib/mail.ts'
import { loadConfig } from '#server/config.ts'
import { type RunningEphemail, startEphemail } from '#server/runtime.ts'

export const ADMIN_KEY = 'test-admin-key-0123456789'

export interface MessageSummary {
  id: string
  mailboxId: string
  from: { address: string; name: string } | null
  subject: string | null
  receivedAt: string
  seen: boolean
  size: number
  hasAttachments: boolean
}

export interface MessageDetail extends MessageSummary {
  to: { address: string; name: string }[]
  text: string | null
  html: string | null
  attachments: AttachmentInfo[]
  envelope: {
    mailFrom: string | null
    rcptTo: string[]
    remoteAddress: string | null
    helo: string | null
    source: string
  }
  parseError: string | null
}

export interface CreatedMailbox {
  id: string
  address: string
  expiresAt: string
  /** The mailbox's own bearer token. */
  token: string
}

export interface TestEphemail {
  smtpPort: number
  httpPort: number
  running: RunningEphemail
  /** An authenticated request to the API with the admin key. */
  api(path: string, init?: RequestInit): Promise<Response>
  /** Creates a mailbox; fails the test on anything but 201. */
  createMailbox(
    localPart: string,
    options?: { domain?: string; ttlSeconds?: number },
  ): Promise<CreatedMailbox>
  listMessages(address: string): Promise<MessageSummary[]>
  getMessage(id: string): Promise<MessageDetail>
  getRaw(id: string): Promise<Uint8Array>
  /** Sends one message over SMTP with nodemailer (a connection of its own); resolves after the 250. */
  send(message: { to: string; subject: string; text: string; from?: string }): Promise<void>
  stop(): Promise<void>
}

/** The settings every SMTP test server shares; `overrides` adds or replaces variables. */
export function testEnv(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    EPHEMAIL_HOST: '127.0.0.1',
    EPHEMAIL_HTTP_PORT: '0',
    EPHEMAIL_SMTP_PORT: '0',
    EPHEMAIL_DATA_DIR: dataDir,
    EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
    EPHEMAIL_DOMAINS: 'ephemail.test,other.test',
    EPHEMAIL_MAX_MESSAGE_BYTES: '20000',
    EPHEMAIL_MAX_RECIPIENTS: '3',
    ...overrides,
  }
}

async function expectStatus(response: Response, status: number, what: string): Promise<Response> {
  if (response.status !== status)
    throw new Error(`${what}: expected HTTP ${status}, got ${response.status}: ${await response.text()}`)
  return response
}

export async function startTestEphemail(overrides: Record<string, string> = {}): Promise<TestEphemail> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ephemail-smtp-test-'))
  let running: RunningEphemail
  try {
    running = await startEphemail(loadConfig(testEnv(dataDir, overrides), []), {
      announceAdminKey: () => {},
    })
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true })
    throw error
  }
  const { httpPort, smtpPort } = running
  if (httpPort === null || smtpPort === null) throw new Error('API and SMTP roles must both be running')

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers as Record<string, string>) },
    })

  return {
    smtpPort,
    httpPort,
    running,
    api,
    async createMailbox(localPart, { domain = 'ephemail.test', ttlSeconds } = {}) {
      const response = await api('/v1/mailboxes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ localPart, domain, ttlSeconds }),
      })
      await expectStatus(response, 201, `creating ${localPart}@${domain}`)
      const { id, address, expiresAt, token } = (await response.json()) as CreatedMailbox
      return { id, address, expiresAt, token }
    },
    async listMessages(address) {
      const response = await api(`/v1/mailboxes/${encodeURIComponent(address)}/messages?limit=100`)
      await expectStatus(response, 200, `listing ${address}`)
      return ((await response.json()) as { items: MessageSummary[] }).items
    },
    async getMessage(id) {
      const response = await api(`/v1/messages/${id}`)
      await expectStatus(response, 200, `reading message ${id}`)
      return (await response.json()) as MessageDetail
    },
    async getRaw(id) {
      const response = await api(`/v1/messages/${id}/raw`)
      await expectStatus(response, 200, `reading raw message ${id}`)
      return new Uint8Array(await response.arrayBuffer())
    },
    async send({ to, subject, text, from = 'Acme Accounts <no-reply@acme.example>' }) {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: smtpPort,
        secure: false,
        ignoreTLS: true,
      })
      try {
        await transport.sendMail({ from, to, subject, text })
      } finally {
        transport.close()
      }
    },
    async stop() {
      try {
        await running.stop()
      } finally {
        rmSync(dataDir, { recursive: true, force: true })
      }
    },
  }
}
