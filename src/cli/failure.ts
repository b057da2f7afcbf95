// One line for stderr that says why a command failed: the server's problem, a time-out, or an unreachable server.

/** The shape of a problem+json body (RFC 9457) as far as a message needs it. */
interface ProblemFields {
  title?: unknown
  detail?: unknown
  status?: unknown
}

export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const problem = (error as { problem?: ProblemFields }).problem
  const status = (error as { status?: unknown }).status
  if (problem && typeof problem === 'object') {
    const title = typeof problem.title === 'string' ? problem.title : error.message
    const detail = typeof problem.detail === 'string' && problem.detail !== title ? `: ${problem.detail}` : ''
    return `${title}${detail}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`
  }
  const code = (error as { code?: unknown }).code
  if (code === 'ConnectionRefused' || code === 'ECONNREFUSED')
    return `the server refused the connection (${error.message}); is it running? (ephemail serve)`
  return error.message.split('\n')[0] ?? error.name
}
