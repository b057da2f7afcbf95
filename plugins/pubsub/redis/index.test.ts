// Redis pub/sub on the real Redis against the shared pub/sub contract, plus what only a Redis channel does.

import { afterEach, describe, expect, test } from 'bun:test'
import { Redis } from 'ioredis'
import type { PubSub } from '#contracts/pubsub.ts'
import {
  changed,
  recorder,
  runPubSubContract,
  settled,
  uniqueChannel,
} from '../../../test/contracts/pubsub.ts'
import { redisAvailable, TEST_REDIS_URL } from '../../../test/support/redis.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import { createRedisPubSub } from './index.ts'

// Prints why when Redis is not there (and throws under EPHEMAIL_REQUIRE_SERVICES=1).
const redisIsUp = await redisAvailable()

describe.skipIf(!redisIsUp)('redis', () => {
  // Channels are named as the runtime names them: `${prefix}:events`, with a prefix unique to the test.
  runPubSubContract('redis (real Redis)', (channel) => createRedisPubSub({ url: TEST_REDIS_URL, channel }))

  describe('on the Redis server', () => {
    const opened: PubSub[] = []
    const admins: Redis[] = []
    afterEach(async () => {
      for (const pubsub of opened.splice(0)) await pubsub.close()
      for (const admin of admins.splice(0)) admin.disconnect()
    })
    function admin(): Redis {
      const connection = new Redis(TEST_REDIS_URL)
      admins.push(connection)
      return connection
    }
    async function subscribersOf(channel: string): Promise<number> {
      const [, count] = (await admin().pubsub('NUMSUB', channel)) as [string, number]
      return Number(count)
    }

    test('close gives up its subscription on the server', async () => {
      const channel = uniqueChannel()
      const pubsub = createRedisPubSub({ url: TEST_REDIS_URL, channel })
      await settled(pubsub)
      expect(await subscribersOf(channel)).toBe(1)
      await pubsub.close()
      let count = await subscribersOf(channel)
      for (let poll = 0; count > 0 && poll < 200; poll++) {
        await Bun.sleep(10)
        count = await subscribersOf(channel)
      }
      expect(count).toBe(0)
    })

    test('a message on the channel that is not an event is ignored, and later events still arrive', async () => {
      const channel = uniqueChannel()
      const pubsub = createRedisPubSub({ url: TEST_REDIS_URL, channel })
      opened.push(pubsub)
      await settled(pubsub)
      const heard = recorder()
      pubsub.subscribe(heard.listener)
      await admin().publish(channel, 'not json {')
      const sent = changed(`after-garbage-${crypto.randomUUID()}`)
      await pubsub.publish(sent)
      await waitFor(() => heard.events.length > 0, 'the event after the garbage')
      await settled(pubsub)
      expect(heard.events).toEqual([sent])
    })
  })
})
