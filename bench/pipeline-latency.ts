// Benchmark: from the end of SMTP DATA to the code being available (message.processed), in-process queue vs BullMQ on Redis.
// Usage: bun bench/pipeline-latency.ts [--messages 200] [--setup embedded,redis]
// Each message goes to a fresh mailbox that a client is long-polling (GET /otp?wait=); the time from the 250 reply
// to that poll's answer is the DATA-end-to-processed latency plus one loopback HTTP response.

import nodemailer from 'nodemailer'
import { adminApi, percentile, readArgs, withPostgresDatabase, withServer } from './support.ts'

const args = readArgs()
const MESSAGES = Number(args.get('messages') ?? 200)
const SETUPS = (args.get('setup') ?? 'embedded,redis').split(',')
const REDIS_URL = process.env.EPHEMAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function measure(label: string, env: Record<string, string>) {
  return withServer(env, async (ports) => {
    const api = adminApi(ports)
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.smtp,
      pool: true,
      maxConnections: 1,
      maxMessages: Number.POSITIVE_INFINITY,
      ignoreTLS: true,
    })
    const toReply: number[] = []
    const toProcessed: number[] = []
    for (let i = 0; i < MESSAGES + 20; i++) {
      const mailbox = await (await api('/v1/mailboxes', { method: 'POST', body: '{}' })).json()
      const answered = api(`/v1/mailboxes/${mailbox.address}/otp?wait=30`).then(async (response) => ({
        at: performance.now(),
        body: await response.json(),
      }))
      await Bun.sleep(2) // the poll is registered before the mail arrives
      const code = String(100000 + i)
      const sentAt = performance.now()
      await transport.sendMail({
        from: '"Acme" <login@acme.example>',
        to: mailbox.address,
        subject: 'Your sign-in code',
        text: `Your verification code is ${code}. It expires in 10 minutes.`,
      })
      const repliedAt = performance.now()
      const { at, body } = await answered
      if (body.otp !== code) throw new Error(`${label}: expected ${code}, got ${body.otp}`)
      if (i < 20) continue // warm-up
      toReply.push(repliedAt - sentAt)
      toProcessed.push(at - repliedAt)
    }
    transport.close()
    toReply.sort((a, b) => a - b)
    toProcessed.sort((a, b) => a - b)
    const ms = (value: number) => Number(value.toFixed(2))
    return {
      setup: label,
      messages: MESSAGES,
      sendTo250P50: ms(percentile(toReply, 50)),
      sendTo250P99: ms(percentile(toReply, 99)),
      dataEndToProcessedP50: ms(percentile(toProcessed, 50)),
      dataEndToProcessedP99: ms(percentile(toProcessed, 99)),
    }
  })
}

const results = []
for (const setup of SETUPS) {
  if (setup === 'embedded') results.push(await measure('PGlite + in-process queue', {}))
  if (setup === 'redis')
    results.push(
      await withPostgresDatabase((url) =>
        measure('PostgreSQL + BullMQ/Redis', { DATABASE_URL: url, REDIS_URL }),
      ),
    )
}
console.table(results)
console.log(JSON.stringify(results))
