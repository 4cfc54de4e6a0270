import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { UnauthorizedError } from '../errors.js'

const Check = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('error')]), detail: Type.Optional(Type.String()), latency_ms: Type.Number() })

export async function systemRoutes(app: FastifyInstance) {
  const { platform } = app
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process is serving requests', tags: ['System'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: the database (and Redis, when configured) are reachable',
      tags: ['System'],
      response: {
        200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Check) }),
        503: Type.Object({ status: Type.Literal('unavailable'), checks: Type.Record(Type.String(), Check) }),
      },
    },
  }, async (_req, reply) => {
    const checks: Record<string, { status: 'ok' | 'error'; detail?: string; latency_ms: number }> = {}
    const probe = async (name: string, fn: () => Promise<unknown>) => {
      const t0 = performance.now()
      try {
        await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timed out after 2 s')), 2000).unref())])
        checks[name] = { status: 'ok', latency_ms: Math.round((performance.now() - t0) * 100) / 100 }
      } catch (err) {
        checks[name] = { status: 'error', detail: err instanceof Error ? err.message : String(err), latency_ms: Math.round(performance.now() - t0) }
      }
    }
    await Promise.all([
      probe('database', () => platform.database.ping()),
      ...(platform.redis ? [probe('redis', () => platform.redis!.ping())] : []),
    ])
    const ok = Object.values(checks).every((c) => c.status === 'ok')
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks })
  })

  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text exposition format)',
      description: 'When VV_METRICS_TOKEN is set, requires `Authorization: Bearer <VV_METRICS_TOKEN>`.',
      tags: ['System'],
      produces: ['text/plain'],
      response: { 200: Type.String() },
    },
  }, async (request, reply) => {
    const token = platform.config.METRICS_TOKEN
    if (token) {
      const given = Buffer.from((request.headers.authorization ?? '').replace(/^bearer\s+/i, ''))
      const want = Buffer.from(token)
      if (given.length !== want.length || !timingSafeEqual(given, want)) throw new UnauthorizedError('Metrics token required')
    }
    return reply.type(platform.metrics.registry.contentType).send(await platform.metrics.registry.metrics())
  })
}
