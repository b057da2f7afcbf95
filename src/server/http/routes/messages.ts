// Message routes: read in full, raw source, attachments, mark seen, delete.

import { Elysia, t } from 'elysia'
import type { Storage } from '#contracts/storage.ts'
import { readAttachment } from '#lib/mail.ts'
import { ProblemError } from '#lib/problem.ts'
import type { Access } from '#server/http/access.ts'
import {
  AttachmentParams,
  jsonBodyProblems,
  MessageParams,
  MessageSchema,
  MessageSummarySchema,
  problemResponse,
  UpdateMessageBody,
} from '#server/http/schemas.ts'
import { messageJson, messageSummaryJson } from '#server/http/serialize.ts'

export interface MessageRouteDeps {
  storage: Storage
  access: Access
  now: () => Date
}

const unauthorizedResponse = problemResponse('No credential, or one that is not valid')
const notFoundResponse = problemResponse('No such message visible to this credential')

/** Problem responses written out for routes whose 200 is not JSON (the generator only knows JSON bodies). */
const binaryProblemResponses = {
  401: {
    description: 'No credential, or one that is not valid',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
  404: {
    description: 'No such message or attachment visible to this credential',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
}

/** RFC 6266 Content-Disposition with an RFC 5987 UTF-8 name, so any filename survives. */
function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

export function messageRoutes({ storage, access, now }: MessageRouteDeps) {
  const loadMessage = (id: string) => storage.getMessage(id, now())
  const loadRaw = (id: string) => storage.getRawMessage(id, now())
  const loadOwner = async (id: string) => {
    const mailboxId = await storage.findMessageOwner(id, now())
    return mailboxId === null ? null : { mailboxId }
  }

  return new Elysia({ name: 'routes.messages' })
    .get(
      '/v1/messages/:id',
      async ({ params, request }) => messageJson(await access.message(request, params.id, loadMessage)),
      {
        params: MessageParams,
        response: { 200: MessageSchema, 401: unauthorizedResponse, 404: notFoundResponse },
        detail: { tags: ['Messages'], operationId: 'getMessage', summary: 'Get a message in full' },
      },
    )
    .get(
      '/v1/messages/:id/raw',
      async ({ params, request }) => {
        const { raw } = await access.message(request, params.id, loadRaw)
        return new Response(raw, {
          headers: {
            'content-type': 'message/rfc822',
            'content-disposition': contentDisposition(`${params.id}.eml`),
          },
        })
      },
      {
        params: MessageParams,
        detail: {
          tags: ['Messages'],
          operationId: 'getRawMessage',
          summary: 'Download the raw message (.eml)',
          description: 'Exactly the bytes received over SMTP, as stored.',
          responses: {
            200: {
              description: 'The raw RFC 5322 message',
              content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } },
            },
            ...binaryProblemResponses,
          },
        },
      },
    )
    .get(
      '/v1/messages/:id/attachments/:attachmentId',
      async ({ params, request }) => {
        const { raw } = await access.message(request, params.id, loadRaw)
        const attachment = await readAttachment(raw, params.attachmentId)
        if (!attachment)
          throw new ProblemError(
            404,
            'not-found',
            `Message ${params.id} has no attachment ${params.attachmentId}`,
          )
        return new Response(attachment.content, {
          headers: {
            'content-type': attachment.info.contentType,
            'content-disposition': contentDisposition(
              attachment.info.filename ?? `attachment-${params.attachmentId}`,
            ),
            'x-content-type-options': 'nosniff',
          },
        })
      },
      {
        params: AttachmentParams,
        detail: {
          tags: ['Messages'],
          operationId: 'getAttachment',
          summary: 'Download an attachment',
          description:
            'Served as a download (Content-Disposition: attachment) with the type the sender declared.',
          responses: {
            200: {
              description: 'The decoded attachment',
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            },
            ...binaryProblemResponses,
          },
        },
      },
    )
    .patch(
      '/v1/messages/:id',
      async ({ params, body, request }) => {
        await access.message(request, params.id, loadOwner)
        const updated = await storage.setMessageSeen(params.id, body.seen, now())
        if (!updated) throw new ProblemError(404, 'not-found', `No message ${params.id}`)
        return messageSummaryJson(updated)
      },
      {
        parse: 'json',
        params: MessageParams,
        body: UpdateMessageBody,
        response: {
          200: MessageSummarySchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'updateMessage',
          summary: 'Mark a message seen or unseen',
        },
      },
    )
    .delete(
      '/v1/messages/:id',
      async ({ params, request, set }) => {
        await access.message(request, params.id, loadOwner)
        await storage.deleteMessage(params.id, now())
        set.status = 204
      },
      {
        params: MessageParams,
        response: {
          204: t.Void({ description: 'Deleted' }),
          401: unauthorizedResponse,
          404: notFoundResponse,
        },
        detail: { tags: ['Messages'], operationId: 'deleteMessage', summary: 'Delete a message' },
      },
    )
}
