// Test helper: is swaks on PATH? CI sets EPHEMAIL_REQUIRE_SERVICES=1 so absence fails instead of skipping.

/** The path of swaks, or null when it is not installed (after saying that its tests are skipped). */
export function swaksAvailable(): string | null {
  const swaks = Bun.which('swaks')
  if (swaks) return swaks
  if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1') throw new Error('swaks is required but not on PATH')
  console.warn('swaks is not on PATH: its tests are skipped')
  return null
}
