// GET /health (the process is up) and GET /ready (storage answers): for load balancers and orchestrators.

import { Elysia } from 'elysia'
import type { Storage } from '#contracts/storage.ts'
import { ProblemError } from '#lib/problem.ts'
import { HealthSchema, problemResponse, ReadySchema } from '#server/http/schemas.ts'

export function healthRoutes(storage: Storage) {
  return new Elysia({ name: 'routes.health' })
    .get('/health', () => ({ status: 'ok' as const }), {
      response: { 200: HealthSchema },
      detail: {
        tags: ['Health'],
        operationId: 'health',
        summary: 'Liveness',
        description:
          'Answers 200 while the process serves HTTP; it checks nothing else (see /ready for storage).',
        security: [],
      },
    })
    .get(
      '/ready',
      async () => {
        try {
          await storage.ping()
        } catch (error) {
          throw new ProblemError(
            503,
            'service-unavailable',
            `Storage (${storage.driver}) does not answer: ${(error as Error).message}`,
          )
        }
        return { status: 'ready' as const, storage: storage.driver }
      },
      {
        response: { 200: ReadySchema, 503: problemResponse('Storage is unreachable') },
        detail: {
          tags: ['Health'],
          operationId: 'ready',
          summary: 'Readiness: storage reachable',
          description:
            'Pings the storage backend: 200 with its driver name when it answers, 503 when it does not (take the instance out of rotation).',
          security: [],
        },
      },
    )
}
