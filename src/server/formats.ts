// The string formats the API's schemas use (uuid, date-time, uri), registered with fast checks for validation.

import { FormatRegistry } from 'elysia/type-system'

/**
 * Importing @elysiajs/openapi replaces TypeBox's format checks with Zod- and Valibot-based ones that
 * build a schema on every call: validating a page of 20 messages then took a third of the server's
 * time (bench/api-reads.ts). Call this after that import; it restores plain checks.
 */
export function registerFastFormats(): void {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  // RFC 3339 date-time, as toISOString() writes it and clients send it.
  const dateTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/
  FormatRegistry.Set('uuid', (value) => uuid.test(value))
  FormatRegistry.Set('date-time', (value) => dateTime.test(value) && !Number.isNaN(Date.parse(value)))
  FormatRegistry.Set('uri', (value) => URL.canParse(value))
}
