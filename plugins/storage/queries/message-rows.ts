// Message rows to and from the API's shapes: the summary columns, their mappers, and a new message as a row.

import type { NewMessage } from '#contracts/storage.ts'
import type { MessageSummary, ProcessingState } from '#lib/types.ts'
import { messages } from '#plugins/storage/schema.ts'
import type { IsoText } from './shared.ts'

export const summaryColumns = {
  id: messages.id,
  mailboxId: messages.mailboxId,
  fromAddress: messages.fromAddress,
  fromName: messages.fromName,
  subject: messages.subject,
  receivedAt: messages.receivedAt,
  seen: messages.seen,
  size: messages.size,
  hasAttachments: messages.hasAttachments,
  otp: messages.otp,
  link: messages.link,
  processedAt: messages.processedAt,
  processingError: messages.processingError,
  source: messages.source,
}

type SummaryRow = {
  id: string
  mailboxId: string
  fromAddress: string | null
  fromName: string | null
  subject: string | null
  receivedAt: Date
  seen: boolean
  size: number
  hasAttachments: boolean
  otp: string | null
  link: string | null
  processedAt: Date | null
  processingError: string | null
  source: string
}

function processingState(processedAt: string | null, processingError: string | null): ProcessingState {
  if (processedAt) return { state: 'processed', at: processedAt }
  if (processingError !== null) return { state: 'failed', error: processingError }
  return { state: 'pending' }
}

/** A summary row as the driver returns it (column names, values already typed). */
export interface RawSummaryRow {
  id: string
  mailbox_id: string
  from_address: string | null
  from_name: string | null
  subject: string | null
  received_at: Date
  seen: boolean
  size: number
  has_attachments: boolean
  otp: string | null
  link: string | null
  processed_at: Date | null
  processing_error: string | null
  source: string
}

export function rawToSummary(row: RawSummaryRow, isoText: IsoText): MessageSummary {
  return {
    id: row.id,
    mailboxId: row.mailbox_id,
    from: row.from_address === null ? null : { address: row.from_address, name: row.from_name ?? '' },
    subject: row.subject,
    receivedAt: isoText(row.received_at),
    seen: row.seen,
    size: row.size,
    hasAttachments: row.has_attachments,
    otp: row.otp,
    link: row.link,
    processing: processingState(
      row.processed_at === null ? null : isoText(row.processed_at),
      row.processing_error,
    ),
    source: row.source,
  }
}

/** Field by field rather than rest and spread: this runs for every row of every list (a hot path). */
export function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    mailboxId: row.mailboxId,
    from: row.fromAddress === null ? null : { address: row.fromAddress, name: row.fromName ?? '' },
    subject: row.subject,
    receivedAt: row.receivedAt.toISOString(),
    seen: row.seen,
    size: row.size,
    hasAttachments: row.hasAttachments,
    otp: row.otp,
    link: row.link,
    processing: processingState(row.processedAt?.toISOString() ?? null, row.processingError),
    source: row.source,
  }
}

export function toRow(message: NewMessage): typeof messages.$inferInsert {
  return {
    id: message.id,
    mailboxId: message.mailboxId,
    receivedAt: message.receivedAt,
    size: message.raw.byteLength,
    fromAddress: message.parsed?.from?.address ?? null,
    fromName: message.parsed?.from?.name ?? null,
    subject: message.parsed?.subject ?? null,
    hasAttachments: (message.parsed?.attachments.length ?? 0) > 0,
    envelope: message.envelope,
    parsed: message.parsed,
    parseError: message.parseError,
    raw: message.raw,
    source: message.source,
    dedupeKey: message.dedupeKey,
  }
}
