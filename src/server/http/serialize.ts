// Turns domain objects into the JSON the API returns (dates as ISO 8601 strings).

import type { Mailbox, MessageSummary, StoredMessage } from '#lib/types.ts'

export function mailboxJson(mailbox: Mailbox) {
  return {
    id: mailbox.id,
    address: mailbox.address,
    localPart: mailbox.localPart,
    domain: mailbox.domain,
    createdAt: mailbox.createdAt.toISOString(),
    expiresAt: mailbox.expiresAt.toISOString(),
  }
}

export function messageSummaryJson(message: MessageSummary) {
  return {
    id: message.id,
    mailboxId: message.mailboxId,
    from: message.from,
    subject: message.subject,
    receivedAt: message.receivedAt,
    seen: message.seen,
    size: message.size,
    hasAttachments: message.hasAttachments,
    otp: message.otp,
    link: message.link,
    processing: message.processing,
    source: message.source,
  }
}

export function messageJson(message: StoredMessage) {
  const parsed = message.parsed
  return {
    ...messageSummaryJson(message),
    to: parsed?.to ?? [],
    cc: parsed?.cc ?? [],
    replyTo: parsed?.replyTo ?? [],
    date: parsed?.date ?? null,
    messageId: parsed?.messageId ?? null,
    headers: parsed?.headers ?? [],
    text: parsed?.text ?? null,
    html: parsed?.html ?? null,
    attachments: parsed?.attachments ?? [],
    envelope: message.envelope,
    parseError: message.parseError,
    safeHtml: message.safeHtml,
    processingNotes: message.processingNotes,
    authentication: message.authentication,
    candidates: message.extraction ?? { otpCandidates: [], linkCandidates: [] },
  }
}
