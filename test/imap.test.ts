// IMAP poll source end to end: Ephemail configured by environment polls a real Dovecot; routing, after=delete/seen/move,
// a connection cut mid-fetch, server and Ephemail restarts, and a UIDVALIDITY change, with no loss and no duplicate.

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Dovecot, startCuttingRelay, startDovecot } from './support/dovecot.ts'
import { startTestEphemail, type TestEphemail } from './support/ephemail.ts'
import { waitFor } from './support/wait-for.ts'

const dovecot = await startDovecot()
const describeWithDovecot = dovecot ? describe : describe.skip

/** A message as an upstream MTA would leave it in the catch-all: envelope headers on top. */
function mail(options: {
  to: string
  subject: string
  envelope?: Record<string, string>
  cc?: string
  body?: string
  messageId?: string
}): string {
  const headers = Object.entries(options.envelope ?? {}).map(([name, value]) => `${name}: ${value}`)
  return [
    'Return-Path: <no-reply@acme.example>',
    ...headers,
    'From: Acme Accounts <no-reply@acme.example>',
    `To: ${options.to}`,
    ...(options.cc ? [`Cc: ${options.cc}`] : []),
    `Subject: ${options.subject}`,
    `Message-ID: ${options.messageId ?? `<${crypto.randomUUID()}@acme.example>`}`,
    'Date: Wed, 02 Dec 2026 09:30:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body ?? `Your Acme sign-in code is ${100000 + Math.floor(Math.random() * 900000)}.`,
    '',
  ].join('\n')
}

interface Running {
  ephemail: TestEphemail
  /** Polls until the address holds `count` messages whose subject starts with `prefix`; returns them. */
  waitForMessages(
    address: string,
    prefix: string,
    count: number,
  ): Promise<Awaited<ReturnType<TestEphemail['listMessages']>>>
}

let dataDirs: string[] = []
let running: TestEphemail[] = []

async function start(settings: Record<string, string>, dataDir?: string): Promise<Running> {
  const ephemail = await startTestEphemail({
    EPHEMAIL_INGEST: 'smtp,imap',
    EPHEMAIL_MAX_MESSAGE_BYTES: String(8 * 1024 * 1024),
    ...(dataDir ? { EPHEMAIL_DATA_DIR: dataDir } : {}),
    ...settings,
  })
  running.push(ephemail)
  return {
    ephemail,
    async waitForMessages(address, prefix, count) {
      let found: Awaited<ReturnType<TestEphemail['listMessages']>> = []
      // Generous: after a server restart the source reconnects on a backoff of up to 10 s.
      const deadline = Date.now() + 30_000
      for (;;) {
        found = (await ephemail.listMessages(address)).filter((m) => m.subject?.startsWith(prefix))
        if (found.length >= count) return found
        if (Date.now() > deadline)
          throw new Error(
            `${address} holds ${found.length} of ${count} "${prefix}" messages\n${dovecot?.log()}`,
          )
        await Bun.sleep(50)
      }
    },
  }
}

async function stop(ephemail: TestEphemail) {
  running = running.filter((entry) => entry !== ephemail)
  await ephemail.stop()
}

afterEach(async () => {
  for (const ephemail of running) await ephemail.stop()
  running = []
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
  dataDirs = []
})

afterAll(() => dovecot?.close())

/** A data directory that outlives one Ephemail process (for restarts). */
function persistentDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ephemail-imap-test-'))
  dataDirs.push(dir)
  return dir
}

describeWithDovecot('IMAP source against Dovecot', () => {
  const server = dovecot as Dovecot
  let folderCount = 0
  /** A fresh catch-all folder per test, so no test sees another's leftovers. */
  const freshFolder = () => {
    const folder = `catchall-${++folderCount}`
    server.createFolder(folder)
    return folder
  }
  const inFolder = (folder: string, file: string) =>
    server.files(folder).find((entry) => entry.name.startsWith(file))

  test('a message for a live address appears in the API with source imap:NAME, and leaves the server (after=delete)', async () => {
    const folder = freshFolder()
    const { ephemail, waitForMessages } = await start({
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'office' }),
    })
    const mailbox = await ephemail.createMailbox('signup-imap')
    // Postfix with a virtual catch-all: Delivered-To is the catch-all itself, X-Original-To the address.
    const file = server.deliver(
      mail({
        to: mailbox.address,
        subject: 'imap: welcome',
        envelope: { 'Delivered-To': 'catchall@corp.example', 'X-Original-To': mailbox.address },
      }),
      folder,
    )
    const [summary] = await waitForMessages(mailbox.address, 'imap: welcome', 1)
    const message = await ephemail.getMessage(summary?.id as string)
    expect(message).toMatchObject({
      source: 'imap:office',
      envelope: { source: 'imap:office', rcptTo: [mailbox.address], mailFrom: 'no-reply@acme.example' },
    })
    await waitFor(() => !inFolder(folder, file), 'the stored message to be expunged from the catch-all')
  })

  test('routing: an envelope header picks the one recipient of its copy; without one, every live To/Cc gets one copy', async () => {
    const folder = freshFolder()
    const { ephemail, waitForMessages } = await start({
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'route' }),
    })
    const alice = await ephemail.createMailbox('alice-imap')
    const bob = await ephemail.createMailbox('bob-imap')
    const carol = await ephemail.createMailbox('carol-imap')
    const to = `${alice.address}, Bob <${bob.address}>`
    // The upstream server delivered one copy per recipient, each with its own Delivered-To.
    server.deliver(
      mail({ to, subject: 'route: per copy', envelope: { 'Delivered-To': alice.address } }),
      folder,
    )
    server.deliver(
      mail({ to, subject: 'route: per copy', envelope: { 'Delivered-To': bob.address } }),
      folder,
    )
    // A forwarder that keeps no envelope header, and delivered the message twice (once per recipient).
    const shared = mail({
      to,
      cc: carol.address,
      subject: 'route: headers only',
      messageId: '<shared-1@acme.example>',
    })
    server.deliver(shared, folder)
    server.deliver(shared.replace('Return-Path:', 'X-Copy: 2\nReturn-Path:'), folder)
    // Envelope-To (Exim) beats To: only carol, although To names alice.
    server.deliver(
      mail({ to: alice.address, subject: 'route: envelope-to', envelope: { 'Envelope-To': carol.address } }),
      folder,
    )
    const probe = server.deliver(mail({ to: carol.address, subject: 'route: probe' }), folder)
    await waitForMessages(carol.address, 'route: probe', 1)
    await waitFor(() => !inFolder(folder, probe), 'the probe to be expunged')

    const subjects = async (address: string) =>
      (await ephemail.listMessages(address)).map((message) => message.subject).sort()
    expect(await subjects(alice.address)).toEqual(['route: headers only', 'route: per copy'])
    expect(await subjects(bob.address)).toEqual(['route: headers only', 'route: per copy'])
    expect(await subjects(carol.address)).toEqual([
      'route: envelope-to',
      'route: headers only',
      'route: probe',
    ])
    expect(server.files(folder)).toEqual([])
  })

  test('after=seen flags the stored message \\Seen and leaves it; an Ephemail restart stores nothing again', async () => {
    const folder = freshFolder()
    const dataDir = persistentDataDir()
    const settings = {
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'seen' }),
      EPHEMAIL_IMAP_AFTER: 'seen',
    }
    const first = await start(settings, dataDir)
    const mailbox = await first.ephemail.createMailbox('seen-imap', { ttlSeconds: 3600 })
    const files = [1, 2, 3].map((n) =>
      server.deliver(
        mail({ to: mailbox.address, subject: `seen: ${n}`, envelope: { 'X-Original-To': mailbox.address } }),
        folder,
      ),
    )
    await first.waitForMessages(mailbox.address, 'seen: ', 3)
    await waitFor(
      () => files.every((file) => inFolder(folder, file)?.flags.includes('S')),
      'all three to be flagged \\Seen on the server',
    )
    await stop(first.ephemail)

    const second = await start(settings, dataDir)
    server.deliver(
      mail({ to: mailbox.address, subject: 'seen: 4', envelope: { 'X-Original-To': mailbox.address } }),
      folder,
    )
    const all = await second.waitForMessages(mailbox.address, 'seen: ', 4)
    expect(all.map((message) => message.subject).sort()).toEqual(['seen: 1', 'seen: 2', 'seen: 3', 'seen: 4'])
    expect(server.files(folder)).toHaveLength(4)
  })

  test('after=move:FOLDER moves the stored message there (creating the folder)', async () => {
    const folder = freshFolder()
    const done = `${folder}-done`
    const { ephemail, waitForMessages } = await start({
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'move' }),
      EPHEMAIL_IMAP_AFTER: `move:${done}`,
    })
    const mailbox = await ephemail.createMailbox('move-imap')
    const file = server.deliver(mail({ to: mailbox.address, subject: 'move: 1' }), folder)
    await waitForMessages(mailbox.address, 'move: 1', 1)
    await waitFor(() => !inFolder(folder, file), 'the message to leave the catch-all')
    await waitFor(() => server.files(done).length === 1, 'the message to arrive in the done folder')
  })

  test('a connection cut in the middle of a message body (its imap process killed): stored once after reconnecting', async () => {
    const folder = freshFolder()
    // Cut when the server starts sending a whole message (BODY[] literal), not the header summaries.
    let killed = 0
    const relay = await startCuttingRelay(server.port, /(BODY|BINARY)\[\] \{\d+\}/, () => {
      killed = server.killSessions()
    })
    try {
      const { ephemail, waitForMessages } = await start({
        EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'cut', port: relay.port }),
      })
      const mailbox = await ephemail.createMailbox('cut-imap')
      // 3 MB: far more than socket buffers hold, so the cut lands inside the literal.
      const body = `${'0123456789abcdef'.repeat(63)}\n`.repeat(3000)
      const file = server.deliver(mail({ to: mailbox.address, subject: 'cut: large', body }), folder)
      server.deliver(mail({ to: mailbox.address, subject: 'cut: small' }), folder)
      const stored = await waitForMessages(mailbox.address, 'cut: ', 2)
      expect(relay.cuts()).toBe(1)
      expect(killed).toBeGreaterThan(0)
      await waitFor(() => server.files(folder).length === 0, 'both messages to be expunged')
      expect(stored.map((message) => message.subject).sort()).toEqual(['cut: large', 'cut: small'])
      const large = stored.find((message) => message.subject === 'cut: large')
      const raw = new TextDecoder().decode(await ephemail.getRaw(large?.id as string))
      expect(raw.replace(/\r\n/g, '\n')).toContain(body)
      expect(inFolder(folder, file)).toBeUndefined()
    } finally {
      await relay.close()
    }
  })

  test('Dovecot restarting: mail delivered while it is down arrives once it is back, none twice', async () => {
    const folder = freshFolder()
    const { ephemail, waitForMessages } = await start({
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'restart' }),
    })
    const mailbox = await ephemail.createMailbox('restart-imap')
    server.deliver(mail({ to: mailbox.address, subject: 'restart: before' }), folder)
    await waitForMessages(mailbox.address, 'restart: before', 1)
    await server.stop()
    for (const n of [1, 2, 3])
      server.deliver(mail({ to: mailbox.address, subject: `restart: during ${n}` }), folder)
    await server.start()
    server.deliver(mail({ to: mailbox.address, subject: 'restart: after' }), folder)
    const all = await waitForMessages(mailbox.address, 'restart: ', 5)
    await waitFor(() => server.files(folder).length === 0, 'every message to be expunged')
    expect(all.map((message) => message.subject).sort()).toEqual([
      'restart: after',
      'restart: before',
      'restart: during 1',
      'restart: during 2',
      'restart: during 3',
    ])
  })

  test('a UIDVALIDITY change (UID list and index rebuilt, flags lost): every message comes back under new UIDs, none is stored twice', async () => {
    const folder = freshFolder()
    const dataDir = persistentDataDir()
    const settings = {
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'validity' }),
      EPHEMAIL_IMAP_AFTER: 'seen',
    }
    const first = await start(settings, dataDir)
    const mailbox = await first.ephemail.createMailbox('validity-imap', { ttlSeconds: 3600 })
    const subjects = ['validity: 1', 'validity: 2', 'validity: 3']
    for (const subject of subjects)
      server.deliver(
        mail({ to: mailbox.address, subject, envelope: { 'Delivered-To': mailbox.address } }),
        folder,
      )
    // Routed by To only: the Message-ID key must hold across UIDVALIDITY too.
    server.deliver(mail({ to: mailbox.address, subject: 'validity: to only' }), folder)
    await first.waitForMessages(mailbox.address, 'validity: ', 4)
    await waitFor(
      () => server.files(folder).every((entry) => entry.flags.includes('S')),
      'all four to be \\Seen',
    )
    const before = await server.uidValidity(folder)

    // While Ephemail keeps running and polling: its connection is cut, the mailbox comes back renumbered.
    await server.resetUidValidity(folder, { clearFlags: true })
    expect(await server.uidValidity(folder)).not.toBe(before)
    server.deliver(mail({ to: mailbox.address, subject: 'validity: new' }), folder)
    await first.waitForMessages(mailbox.address, 'validity: new', 1)
    await waitFor(
      () => server.files(folder).every((entry) => entry.flags.includes('S')),
      'all five to be \\Seen',
    )

    // And across an Ephemail restart, with the flags lost once more.
    await stop(first.ephemail)
    await server.resetUidValidity(folder, { clearFlags: true })
    const second = await start(settings, dataDir)
    server.deliver(mail({ to: mailbox.address, subject: 'validity: last' }), folder)
    const all = await second.waitForMessages(mailbox.address, 'validity: last', 1)
    expect(all).toHaveLength(1)
    await waitFor(
      () => server.files(folder).every((entry) => entry.flags.includes('S')),
      'all six to be \\Seen',
    )
    const stored = (await second.ephemail.listMessages(mailbox.address))
      .map((message) => message.subject)
      .sort()
    expect(stored).toEqual([...subjects, 'validity: last', 'validity: new', 'validity: to only'].sort())
  })

  test('without IDLE (EPHEMAIL_IMAP_IDLE=false) the source polls on its interval', async () => {
    const folder = freshFolder()
    const { ephemail, waitForMessages } = await start({
      EPHEMAIL_IMAP_URL: server.url({ mailbox: folder, name: 'poll' }),
      EPHEMAIL_IMAP_IDLE: 'false',
      EPHEMAIL_IMAP_POLL_SECONDS: '1',
    })
    const mailbox = await ephemail.createMailbox('poll-imap')
    server.deliver(mail({ to: mailbox.address, subject: 'poll: 1' }), folder)
    const [summary] = await waitForMessages(mailbox.address, 'poll: 1', 1)
    expect(await ephemail.getMessage(summary?.id as string)).toMatchObject({ source: 'imap:poll' })
  })

  test('two URLs at once: imaps:// and imap:// with STARTTLS, a self-signed certificate trusted through EPHEMAIL_IMAP_TLS_CA', async () => {
    const tlsServer = (await startDovecot({ tls: true })) as Dovecot
    try {
      const caPath = join(persistentDataDir(), 'dovecot-ca.pem')
      writeFileSync(caPath, tlsServer.certPem as string)
      tlsServer.createFolder('implicit')
      tlsServer.createFolder('starttls')
      const { ephemail, waitForMessages } = await start({
        EPHEMAIL_IMAP_URL: [
          tlsServer.url({ mailbox: 'implicit', name: 'tls', tls: true }),
          tlsServer.url({ mailbox: 'starttls', name: 'starttls' }),
        ].join(','),
        EPHEMAIL_IMAP_TLS_CA: caPath,
      })
      const mailbox = await ephemail.createMailbox('tls-imap')
      tlsServer.deliver(mail({ to: mailbox.address, subject: 'tls: implicit' }), 'implicit')
      tlsServer.deliver(mail({ to: mailbox.address, subject: 'tls: starttls' }), 'starttls')
      const stored = await waitForMessages(mailbox.address, 'tls: ', 2)
      const sources = await Promise.all(
        stored.map(async (summary) => {
          const message = (await ephemail.getMessage(summary.id)) as unknown as {
            subject: string
            source: string
          }
          return `${message.subject} via ${message.source}`
        }),
      )
      expect(sources.sort()).toEqual(['tls: implicit via imap:tls', 'tls: starttls via imap:starttls'])
      // Both sessions were TLS: Dovecot logs "TLS" for each login.
      expect(tlsServer.log()).toMatch(/Login: user=<catchall>.*TLS/)
    } finally {
      await tlsServer.close()
    }
  })
})

// beforeAll keeps bun from reporting an empty file on a bare box; the skip itself is printed by startDovecot.
beforeAll(() => {})
