// Message routes: read in full, raw source, attachments, mark seen, delete (validate → core → serialize).

import { Elysia, t } from 'elysia'
import type { CoreDeps } from '#core/context.ts'
import { deleteMessage, getAttachment, getMessage, getRawMessage, setMessageSeen } from '#core/messages.ts'
import type { PrincipalPlugins } from '#server/http/principal.ts'
import {
  AttachmentParams,
  INSUFFICIENT_SCOPE_DESCRIPTION,
  insufficientScopeResponse,
  jsonBodyProblems,
  MessageParams,
  MessageSchema,
  MessageSummarySchema,
  problemResponse,
  UNAUTHORIZED_DESCRIPTION,
  UpdateMessageBody,
  unauthorizedResponse,
} from '#server/http/schemas.ts'
import { messageJson, messageSummaryJson } from '#server/http/serialize.ts'

export interface MessageRouteDeps {
  core: CoreDeps
  principal: PrincipalPlugins
}

const notFoundResponse = problemResponse('No such message visible to this credential')

/** Problem responses written out for routes whose 200 is not JSON (the generator only knows JSON bodies). */
const binaryProblemResponses = {
  401: {
    description: UNAUTHORIZED_DESCRIPTION,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
  403: {
    description: INSUFFICIENT_SCOPE_DESCRIPTION,
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

export function messageRoutes({ core, principal }: MessageRouteDeps) {
  return new Elysia({ name: 'routes.messages' })
    .use(principal.required)
    .get(
      '/v1/messages/:id',
      async ({ params, requirePrincipal }) =>
        messageJson(await getMessage(core, requirePrincipal(), params.id)),
      {
        params: MessageParams,
        response: {
          200: MessageSchema,
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'getMessage',
          summary: 'Get a message in full',
          description:
            'Headers, text and HTML bodies (also sanitised for display), attachments (download each by id), the SMTP envelope, SPF/DKIM/DMARC/ARC verdicts, and the ranked code and link candidates.',
        },
      },
    )
    .get(
      '/v1/messages/:id/raw',
      async ({ params, requirePrincipal }) => {
        const raw = await getRawMessage(core, requirePrincipal(), params.id)
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
      async ({ params, requirePrincipal }) => {
        const attachment = await getAttachment(core, requirePrincipal(), params.id, params.attachmentId)
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
              description:
                'The decoded attachment, as the type its sender declared (application/octet-stream when none)',
              content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
            },
            ...binaryProblemResponses,
          },
        },
      },
    )
    .patch(
      '/v1/messages/:id',
      async ({ params, body, requirePrincipal }) =>
        messageSummaryJson(await setMessageSeen(core, requirePrincipal(), params.id, body.seen)),
      {
        parse: 'json',
        params: MessageParams,
        body: UpdateMessageBody,
        response: {
          200: MessageSummarySchema,
          ...jsonBodyProblems,
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'updateMessage',
          summary: 'Mark a message seen or unseen',
          description: 'Sets the `seen` flag; nothing else about a message can be changed.',
        },
      },
    )
    .delete(
      '/v1/messages/:id',
      async ({ params, requirePrincipal, set }) => {
        await deleteMessage(core, requirePrincipal(), params.id)
        set.status = 204
      },
      {
        params: MessageParams,
        response: {
          204: t.Void({ description: 'Deleted' }),
          401: unauthorizedResponse,
          403: insufficientScopeResponse,
          404: notFoundResponse,
        },
        detail: {
          tags: ['Messages'],
          operationId: 'deleteMessage',
          summary: 'Delete a message',
          description: 'Deletes the message with its raw source and attachments.',
        },
      },
    )
}
