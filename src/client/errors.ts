// The client's two errors: an API answer that is not a success (with its problem+json), and a wait that ran out.

import type { Problem } from './types.ts'

/** A non-2xx answer: `problem` is the API's problem+json (or one made from the status when the body is not). */
export class EphemailProblem extends Error {
  override readonly name = 'EphemailProblem'
  readonly status: number
  readonly problem: Problem

  constructor(problem: Problem, options?: { cause?: unknown }) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`, options)
    this.status = problem.status
    this.problem = problem
  }

  /** The stable kind of problem, e.g. `not-found` (the last segment of `problem.type`). */
  get slug(): string {
    return this.problem.type.slice(this.problem.type.lastIndexOf('/') + 1)
  }
}

/** A wait that ended without the message it waited for; the message says where, what and how long. */
export class EphemailTimeout extends Error {
  override readonly name = 'EphemailTimeout'

  constructor(
    /** The mailbox address that was watched. */
    readonly mailbox: string,
    /** What was awaited, e.g. `one-time code` or `message with subject "Welcome"`. */
    readonly waitedFor: string,
    readonly timeoutMs: number,
  ) {
    super(`no ${waitedFor} arrived at ${mailbox} within ${formatSeconds(timeoutMs)}`)
  }
}

/** 30000 → "30 s", 1500 → "1.5 s": what a person reads in a failed test. */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The problem of a failed response: its problem+json when it is one, else one built from the status and text. */
export function problemOf(response: Response, body: unknown): EphemailProblem {
  if (
    isRecord(body) &&
    typeof body.type === 'string' &&
    typeof body.title === 'string' &&
    typeof body.status === 'number'
  ) {
    const detail = typeof body.detail === 'string' ? body.detail : body.title
    return new EphemailProblem({ ...(body as Problem), detail })
  }
  // Not ours (a proxy's HTML page, an empty 502): keep the status and a bounded piece of the text.
  const text = typeof body === 'string' ? body.trim().slice(0, 500) : ''
  return new EphemailProblem({
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text || `${response.status} from ${response.url || 'the server'} without problem details`,
  })
}
