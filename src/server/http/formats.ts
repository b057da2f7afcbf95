// The string formats the API's schemas use (uuid, date-time, uri), registered with fast checks for validation.

import { FormatRegistry } from 'elysia/type-system'

/**
 * Importing @elysiajs/openapi replaces TypeBox's format checks with Zod- and Valibot-based ones that
 * build a schema on every call: validating a page of 20 messages then took a third of the server's
 * time (bench/api-reads.ts). Call this after that import; it restores plain checks.
 */
export function registerFastFormats(): void {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  // RFC 3339 date-time, as toISOString() writes it and clients send it (field ranges checked here,
  // without Date.parse, which cost more than the rest of a list response's checks together).
  const dateTime =
    /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt ](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/
  FormatRegistry.Set('uuid', (value) => uuid.test(value))
  FormatRegistry.Set('date-time', (value) => dateTime.test(value))
  FormatRegistry.Set('uri', (value) => URL.canParse(value))
}
