// Ingest contract: a source of mail (SMTP, inbound HTTP, IMAP poll) that hands every message to the one funnel.

export interface IngestSource {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
}
