// Test helper: an SMTP front end (smtp-server or Bun-native) run through the shared ingest contract over real TCP.

import type { IngestContext, IngestSource } from '#contracts/ingest.ts'
import { runIngestContract } from '../contracts/ingest.ts'
import { dataPayload, SmtpTestClient } from './smtp-client.ts'

/** The options both SMTP front ends take that the contract run sets. */
interface ContractOptions {
  host: string
  port: number
  hostname: string
  maxMessageBytes: number
  maxRecipients: number
  maxClients: number
  maxClientsPerAddress: number
  socketTimeoutMs: number
  sessionTimeoutMs: number
}

export function runSmtpIngestContract(
  name: string,
  create: (options: ContractOptions, context: IngestContext) => IngestSource,
): Promise<void> {
  return runIngestContract(name, {
    source: 'smtp',
    dedupesResend: false,
    make: (context) =>
      create(
        {
          host: '127.0.0.1',
          port: 0,
          hostname: 'mx.ephemail.test',
          maxMessageBytes: 1_000_000,
          maxRecipients: 5,
          maxClients: 50,
          maxClientsPerAddress: 50,
          socketTimeoutMs: 10_000,
          sessionTimeoutMs: 60_000,
        },
        context,
      ),
    async send(_core, source, { from, to, raw }) {
      const client = await SmtpTestClient.connect(source.port?.() as number)
      try {
        await client.readReply()
        await client.command('EHLO contract.test')
        await client.command(`MAIL FROM:<${from}>`)
        const rcpt = await client.command(`RCPT TO:<${to}>`)
        if (rcpt.code !== 250) return { accepted: false, answer: rcpt.lines.join('\n') }
        await client.command('DATA')
        client.write(dataPayload(raw))
        const reply = await client.readReply()
        return { accepted: reply.code === 250, answer: reply.lines.join('\n') }
      } finally {
        await client.command('QUIT').catch(() => {})
        await client.abort()
      }
    },
  })
}
