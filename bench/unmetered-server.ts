// Bench only: Ephemail as `bun src/main.ts` runs it, but without request metering, so bench/api-reads.ts can measure what metering costs.

import { loadConfig } from '#server/config.ts'
import { startEphemail } from '#server/runtime.ts'

const running = await startEphemail(loadConfig(), { metered: false })
console.log(`ephemail (unmetered): HTTP API on port ${running.httpPort}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    running.stop().then(() => process.exit(0))
  })
