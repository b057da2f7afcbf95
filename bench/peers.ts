// The peer and the independent load generators the benchmarks compare against: MailDev 2 (from npm) and
// postfix's smtp-source (Debian's package, unpacked, not installed). Fetched once into bench/.peers.

import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './support.ts'

const PEERS = join(import.meta.dir, '.peers')

function run(command: string[], cwd: string): void {
  const result = Bun.spawnSync(command, { cwd, stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0)
    throw new Error(
      `${command.join(' ')} failed (${result.exitCode}): ${result.stderr.toString().slice(-500)}`,
    )
}

/** Installs maildev@2 from npm into bench/.peers/maildev (first run only). */
function maildevBin(): string {
  const dir = join(PEERS, 'maildev')
  const bin = join(dir, 'node_modules', 'maildev', 'bin', 'maildev')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    run(['npm', 'install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, 'maildev@2'], dir)
  }
  return bin
}

export interface RunningMaildev {
  smtp: number
  web: number
  /** Its process, for CPU accounting. */
  pid: number
  /** How many messages MailDev holds (its REST API). */
  count(): Promise<number>
  stop(): Promise<void>
}

/** Starts MailDev 2 under Node on free ports; it keeps mail in memory and a temp directory. */
export async function startMaildev(): Promise<RunningMaildev> {
  const bin = maildevBin()
  const smtp = await freePort()
  const web = await freePort()
  const child = Bun.spawn(
    ['node', bin, '--smtp', String(smtp), '--web', String(web), '--ip', '127.0.0.1', '--silent'],
    {
      stdout: 'ignore',
      stderr: 'inherit',
    },
  )
  const url = `http://127.0.0.1:${web}`
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/email`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break
    await Bun.sleep(100)
  }
  return {
    smtp,
    web,
    pid: child.pid,
    async count() {
      const list = (await (await fetch(`${url}/email`)).json()) as unknown[]
      return list.length
    },
    async stop() {
      child.kill('SIGTERM')
      await child.exited
    },
  }
}

/** postfix's smtp-source, unpacked from Debian's package with `apt-get download` and `dpkg -x`. */
export function smtpSource(): { bin: string; env: Record<string, string> } {
  const dir = join(PEERS, 'postfix')
  const root = join(dir, 'root')
  const bin = join(root, 'usr', 'sbin', 'smtp-source')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    run(['apt-get', 'download', 'postfix'], dir)
    const deb = readdirSync(dir).find((name) => name.startsWith('postfix_') && name.endsWith('.deb'))
    if (!deb) throw new Error('apt-get download postfix produced no .deb')
    run(['dpkg', '-x', deb, 'root'], dir)
  }
  return { bin, env: { LD_LIBRARY_PATH: join(root, 'usr', 'lib', 'postfix') } }
}

/**
 * Runs smtp-source: `messages` messages of `size` bytes to `to`, `sessions` connections at once, one
 * message per connection (its default). Resolves with the wall time in ms.
 */
export async function runSmtpSource(options: {
  port: number
  to: string
  messages: number
  sessions: number
  size: number
}): Promise<number> {
  const { bin, env } = smtpSource()
  const started = performance.now()
  const child = Bun.spawn(
    [
      bin,
      '-s',
      String(options.sessions),
      '-m',
      String(options.messages),
      '-l',
      String(options.size),
      '-f',
      'bench@acme.example',
      '-t',
      options.to,
      '-M',
      'bench.test',
      `127.0.0.1:${options.port}`,
    ],
    { env: { ...process.env, ...env }, stdout: 'ignore', stderr: 'pipe' },
  )
  const code = await child.exited
  if (code !== 0)
    throw new Error(`smtp-source exited ${code}: ${(await new Response(child.stderr).text()).slice(-500)}`)
  return performance.now() - started
}
