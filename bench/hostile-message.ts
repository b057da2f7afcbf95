// How long one hostile message holds the event loop in each processing stage: parse, sender authentication, extraction, sanitising.
//
//   bun bench/hostile-message.ts            every case
//   bun bench/hostile-message.ts --case fold-100k
//
// Each stage runs alone while a 1 ms timer measures the longest gap between its ticks: that gap is how
// long SMTP replies and API requests sharing the process would have waited. Target: < 50 ms for every
// stage of every case as the server runs it (the hardening issue's bound). `parse` and `sanitize` are
// the libraries on this thread; `parse served` and `sanitize served` go through the mail offload as the
// funnel and the processor call them (a worker thread past OFFLOAD_MIN_BYTES), `authenticate served` as
// the processor calls it (a thread of its own past AUTH_OFFLOAD_MIN_BYTES). Figures are the worst
// of 3 runs after a warm-up.

import { parseMail } from '#lib/mail.ts'
import { sanitizeHtml } from '#lib/sanitize.ts'
import { createBuiltinExtractor } from '#plugins/extractor/builtin/index.ts'
import { createAuthOffload } from '#server/pipeline/auth-offload.ts'
import { createMailOffload } from '#server/pipeline/mail-offload.ts'
import { extractFromMail } from '#server/pipeline/message-processor.ts'
import { createSenderAuthenticator, type DnsResolver } from '#server/pipeline/sender-auth.ts'
import { readArgs } from './support.ts'

const offline: DnsResolver = async (name) => {
  throw Object.assign(new Error(`offline: ${name}`), { code: 'ENOTFOUND' })
}
const authenticate = createSenderAuthenticator({ resolver: offline, mta: 'mx.bench.test' })
const authOffload = createAuthOffload()
const authenticateServed = createSenderAuthenticator({
  resolver: offline,
  mta: 'mx.bench.test',
  offload: authOffload,
})
const extractor = createBuiltinExtractor()
const offload = createMailOffload()
const encoder = new TextEncoder()
const crlf = (lines: string[]) => encoder.encode(lines.join('\r\n'))

function nested(depth: number): string[] {
  const lines: string[] = []
  for (let level = 0; level < depth; level++)
    lines.push(`Content-Type: multipart/mixed; boundary="b${level}"`, '', `--b${level}`)
  lines.push('Content-Type: text/plain', '', 'Your code is 482913')
  for (let level = depth - 1; level >= 0; level--) lines.push(`--b${level}--`)
  return lines
}

/** The cases: each is a shape that has made a mail library superlinear somewhere. */
const CASES: Record<string, () => Uint8Array> = {
  'fold-100k': () =>
    crlf(['From: a@sender.example', 'Subject: f', `X-Fold: x${'\r\n a'.repeat(100_000)}`, '', 'body', '']),
  'fold-1999': () =>
    crlf(['From: a@sender.example', 'Subject: f', `X-Fold: x${'\r\n a'.repeat(1_997)}`, '', 'body', '']),
  // 16,000 addresses on 400 folded lines, each within SMTP's 998 octets: mailauth's From parser is quadratic.
  'from-16k': () =>
    crlf([
      `From: ${Array.from({ length: 400 }, (_, line) =>
        Array.from({ length: 40 }, (_, i) => `u${line}x${i}@s.example`).join(', '),
      ).join(',\r\n ')}`,
      'Subject: f',
      '',
      'body',
      '',
    ]),
  // The same, folded with LF CR, which mailauth reads as line breaks too.
  'from-lfcr': () =>
    crlf([
      `From: ${Array.from({ length: 1_600 }, (_, line) =>
        Array.from({ length: 4 }, (_, i) => `u${line}x${i}@s.example`).join(', '),
      ).join(',\n\r ')}`,
      'Subject: f',
      '',
      'body',
      '',
    ]),
  // mailauth verifies every signature.
  'dkim-1000': () =>
    crlf([
      ...Array.from(
        { length: 1_000 },
        (_, i) =>
          `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=s${i}.example; s=k; h=from; bh=YQ==; b=YQ==`,
      ),
      'From: a@sender.example',
      '',
      'word 123456 '.repeat(8_000),
      '',
    ]),
  // A signed message is hashed whole, in JavaScript.
  'signed-10mb': () =>
    crlf([
      'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=k; h=from; bh=YQ==; b=YQ==',
      'From: a@sender.example',
      'Subject: big',
      '',
      'word 123456 '.repeat(870_000),
      '',
    ]),
  'headers-50k': () =>
    crlf([
      'From: a@sender.example',
      ...Array.from({ length: 50_000 }, (_, i) => `X-H${i}: v`),
      '',
      'body',
      '',
    ]),
  'text-10mb': () => crlf(['From: a@sender.example', 'Subject: big', '', 'word 123456 '.repeat(870_000), '']),
  'html-5mb': () =>
    crlf([
      'From: a@sender.example',
      'Content-Type: text/html',
      '',
      '<div style="color:red"><a href="https://x.example/confirm?t=1">confirm</a> 482913</div>'.repeat(
        60_000,
      ),
      '',
    ]),
  'nested-30': () => crlf(['From: a@sender.example', 'MIME-Version: 1.0', ...nested(30), '']),
  'parts-5000': () =>
    crlf([
      'From: a@sender.example',
      'Content-Type: multipart/mixed; boundary="p"',
      '',
      ...Array.from({ length: 5_000 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}`),
      '--p--',
      '',
    ]),
}

/** Runs `work` and returns the longest stretch in which a 1 ms timer could not fire. */
async function longestBlock(work: () => Promise<unknown> | unknown): Promise<number> {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 1)
  await new Promise((resolve) => setTimeout(resolve, 5))
  last = performance.now()
  const started = performance.now()
  await work()
  const finished = performance.now()
  worst = Math.max(worst, finished - last)
  clearInterval(timer)
  // A stage that never yields is one block from start to end.
  return Math.max(worst, 0) || finished - started
}

const envelope = {
  mailFrom: 'a@sender.example',
  rcptTo: ['x@bench.test'],
  remoteAddress: '192.0.2.1',
  helo: 'sender.example',
  source: 'smtp',
}

async function measure(name: string, raw: Uint8Array) {
  const parsed = await parseMail(raw).catch(() => null)
  const stages: Record<string, () => unknown> = {
    parse: () => parseMail(raw).catch(() => null),
    'parse served': () => offload.parse(raw).catch(() => null),
    authenticate: () => authenticate(raw, envelope),
    'authenticate served': () => authenticateServed(raw, envelope),
    extract: () => extractFromMail(extractor, parsed),
    sanitize: () => (parsed?.html ? sanitizeHtml(parsed.html) : null),
    'sanitize served': () => (parsed?.html ? offload.sanitize(parsed.html) : null),
  }
  const row: Record<string, string> = { case: name, size: `${(raw.byteLength / 1024).toFixed(0)} KB` }
  for (const [stage, work] of Object.entries(stages)) {
    await work() // warm-up
    const runs = [await longestBlock(work), await longestBlock(work), await longestBlock(work)]
    row[stage] = `${Math.max(...runs).toFixed(1)} ms`
  }
  row.parsed = parsed ? 'yes' : 'refused'
  return row
}

const only = readArgs().get('case')
const rows = []
for (const [name, make] of Object.entries(CASES)) {
  if (only && name !== only) continue
  rows.push(await measure(name, make()))
}
console.table(rows)
await offload.close()
await authOffload.close()
