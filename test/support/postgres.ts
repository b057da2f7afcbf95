// Test helper: a fresh, uniquely named database on the real PostgreSQL server, dropped afterwards.

import { SQL } from 'bun'

export const TEST_POSTGRES_URL =
  process.env.EPHEMAIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** True when the server answers; CI sets EPHEMAIL_REQUIRE_SERVICES=1 so absence fails instead of skipping. */
export async function postgresAvailable(): Promise<boolean> {
  const admin = new SQL(TEST_POSTGRES_URL, { max: 1, connectionTimeout: 2 })
  try {
    await admin`select 1`
    return true
  } catch (error) {
    if (process.env.EPHEMAIL_REQUIRE_SERVICES === '1')
      throw new Error(`PostgreSQL is required but not reachable at ${TEST_POSTGRES_URL}: ${error}`)
    console.warn(`PostgreSQL not reachable at ${TEST_POSTGRES_URL}: its tests are skipped`)
    return false
  } finally {
    await admin.close({ timeout: 1 })
  }
}

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ephemail_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  const admin = new SQL(TEST_POSTGRES_URL, { max: 1 })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(TEST_POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.close({ timeout: 1 })
    },
  }
}
