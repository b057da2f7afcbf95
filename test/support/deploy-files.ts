// Test helper: the deploy/ folder read as its tools would read it (compose with merge keys and ${VAR} interpolation,
// Kubernetes documents, systemd units), and the variables src/server/config.ts reads, found in its source.

import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'

export const ROOT = join(import.meta.dir, '..', '..')
export const DEPLOY = join(ROOT, 'deploy')
export const COMPOSE_FILE = join(DEPLOY, 'compose', 'docker-compose.yml')

/**
 * Every variable loadConfig reads: `env.NAME` and `readX(env, 'NAME', ...)` in src/server/config.ts and in the
 * `./config-*.ts` modules it imports for a group of settings (config-ingest.ts).
 */
export function variablesConfigReads(): Set<string> {
  const folder = join(ROOT, 'src', 'server')
  const main = readFileSync(join(folder, 'config.ts'), 'utf8')
  const parts = [...main.matchAll(/from '\.\/(config-[a-z-]+\.ts)'/g)].map((match) => match[1] as string)
  const found = new Set<string>()
  for (const source of [main, ...parts.map((part) => readFileSync(join(folder, part), 'utf8'))])
    for (const match of source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\(\s*env,\s*'([A-Z][A-Z0-9_]+)'/g))
      found.add((match[1] ?? match[2]) as string)
  return found
}

/** Every file under deploy/ whose name matches. */
export function deployFiles(pattern: RegExp, folder = DEPLOY): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return deployFiles(pattern, path)
    return pattern.test(entry.name) ? [path] : []
  })
}

export interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string }
  environment?: Record<string, string>
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] | string }
  stop_signal?: string
  stop_grace_period?: string
  restart?: string
  command?: string[]
}

export interface ComposeFile {
  services: Record<string, ComposeService>
  volumes?: Record<string, unknown>
}

export function readCompose(): ComposeFile {
  // Docker Compose honours YAML merge keys (`<<: *anchor`); so does this parse.
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile
}

/** Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME:?message} (a missing one fails, as compose does), $$. */
export function interpolate(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (whole, name, operator, rest) => {
      if (whole === '$$') return '$'
      const value = variables[name]
      const missing = value === undefined || (operator?.startsWith(':') && value === '')
      if (!missing) return value as string
      if (operator?.endsWith('?')) throw new Error(`compose would refuse: ${name}: ${rest}`)
      if (operator?.endsWith('-')) return rest
      return ''
    },
  )
}

/** Services built from the Ephemail Dockerfile, by name. */
export function ephemailServices(compose: ComposeFile): [string, ComposeService][] {
  return Object.entries(compose.services).filter(([, service]) =>
    service.build?.dockerfile?.endsWith('Dockerfile'),
  )
}

/** The host file a container path is mounted from (`./x:/etc/y:ro`), resolved against the compose file's folder. */
export function mountedFrom(service: ComposeService, containerPath: string): string | null {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':')
    if (target === containerPath && source?.startsWith('.')) return resolve(dirname(COMPOSE_FILE), source)
  }
  return null
}

/** `"3001:3000"` → { host: 3001, container: 3000 }. */
export function publishedPorts(service: ComposeService): { host: number; container: number }[] {
  return (service.ports ?? []).map((entry) => {
    const [host, container] = entry.split(':').map(Number)
    return { host: host as number, container: container as number }
  })
}

/** Every Kubernetes document under deploy/kubernetes. */
export function readKubernetes(): { kind: string; metadata: { name: string }; [key: string]: unknown }[] {
  return deployFiles(/\.ya?ml$/, join(DEPLOY, 'kubernetes'))
    .filter((path) => !path.endsWith('kustomization.yaml'))
    .flatMap((path) => parseAllDocuments(readFileSync(path, 'utf8')).map((document) => document.toJS()))
    .filter(Boolean)
}

/** A systemd unit's sections and keys (a key set twice keeps every value, in order). */
export function readUnit(path: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {}
  let current: Record<string, string[]> | null = null
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[(.+)\]$/.exec(line)
    if (section) {
      current = {}
      sections[section[1] as string] = current
      continue
    }
    const equals = line.indexOf('=')
    if (current === null || equals === -1)
      throw new Error(`${path}: "${line}" is outside a section or not key=value`)
    const key = line.slice(0, equals)
    current[key] = [...(current[key] ?? []), line.slice(equals + 1)]
  }
  return sections
}
