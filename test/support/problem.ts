// Test helper for the REST API: asserts a problem+json error response, and that it never carries a stack trace.

import { expect } from 'bun:test'
import type { createApiHarness } from './api-harness.ts'

export type Harness = Awaited<ReturnType<typeof createApiHarness>>

export function expectProblem(
  response: Awaited<ReturnType<Harness['call']>>,
  status: number,
  slug: string,
  detailPart?: string,
) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  expect(response.json.type).toBe(`https://ephemail.dev/problems/${slug}`)
  expect(response.json.status).toBe(status)
  expect(typeof response.json.title).toBe('string')
  if (detailPart) expect(response.json.detail).toContain(detailPart)
  expect(response.text).not.toContain('    at ') // never a stack trace
}
