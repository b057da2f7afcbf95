// Errors as log text without the data they carry: query parameters and message bytes never reach a log.

/** Causes followed at most; a longer chain is cut (a cycle would be endless). */
const MAX_CAUSES = 4
/** Stack frames kept per error: enough to find the place, not the whole trace. */
const MAX_FRAMES = 5

/**
 * One error and its causes as text for a log. drizzle's "Failed query: <sql>\nparams: <values>"
 * keeps the statement and withholds the values (they hold addresses, subjects and raw mail); driver
 * errors keep their code and message; stacks keep their first frames, without the message they repeat.
 */
export function loggableError(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < MAX_CAUSES && current !== undefined && current !== null; depth++) {
    if (!(current instanceof Error)) {
      parts.push(`non-error value of type ${typeof current}`)
      break
    }
    const code = (current as { code?: unknown }).code
    const frames = (current.stack ?? '')
      .split('\n')
      .filter((line) => /^\s+at /.test(line))
      .slice(0, MAX_FRAMES)
    parts.push(
      [
        `${current.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${withoutParameters(current.message)}`,
        ...frames,
      ].join('\n'),
    )
    current = current.cause
  }
  return parts.join('\ncaused by ')
}

function withoutParameters(message: string): string {
  const params = message.search(/\n\s*params:/)
  return params === -1 ? message : `${message.slice(0, params)}\n(parameters withheld from the log)`
}
