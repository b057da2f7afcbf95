// Shared by the benchmarks: run Ephemail as a separate process on free ports, with a fresh PostgreSQL database if asked.

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'

export const ADMIN_KEY = 'bench-admin-key-0123456789'
const POSTGRES_URL = process.env.EPHEMAIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const root = join(import.meta.dir, '..')

/** `--name value` pairs from the command line. */
export function readArgs(): Map<string, string> {
  const args = new Map<string, string>()
  for (let i = 2; i < process.argv.length; i += 2)
    args.set(String(process.argv[i]).replace(/^--/, ''), String(process.argv[i + 1]))
  return args
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

export interface ServerPorts {
  http: number
  smtp: number
}

/** Starts `bun src/main.ts` with `env`, waits for /ready, runs `run`, then stops it and cleans up. */
export async function withServer<T>(
  env: Record<string, string>,
  run: (ports: ServerPorts, pid: number) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ephemail-bench-'))
  const ports = { http: await freePort(), smtp: await freePort() }
  const child = Bun.spawn(['bun', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      EPHEMAIL_HOST: '127.0.0.1',
      EPHEMAIL_HTTP_PORT: String(ports.http),
      EPHEMAIL_SMTP_PORT: String(ports.smtp),
      EPHEMAIL_DATA_DIR: dataDir,
      EPHEMAIL_ADMIN_KEY: ADMIN_KEY,
      ...env,
    },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  try {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`http://127.0.0.1:${ports.http}/ready`).then(
        (response) => response.ok,
        () => false,
      )
      if (ok) break
      await Bun.sleep(100)
    }
    return await run(ports, child.pid)
  } finally {
    child.kill('SIGTERM')
    await child.exited
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** A throw-away database on the local PostgreSQL for the duration of `run`. */
export async function withPostgresDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const name = `ephemail_bench_${Date.now()}`
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  try {
    return await run(url.toString())
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

export function adminApi(ports: ServerPorts) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${ports.http}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    })
}
