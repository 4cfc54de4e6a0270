// Baseline for bench/ingest.ts: a bare Fastify route that validates the same body with the same schema and
// echoes it, at the same log level, with no database.
import Fastify from 'fastify'
import { Type } from 'typebox'
import { TelemetryEvent } from '../src/modules/ingest/ingest.schemas.js'

const port = Number(process.env.PORT ?? 0)
const app = Fastify({ logger: { level: process.env.VV_LOG_LEVEL ?? 'warn' }, bodyLimit: 10 * 1024 * 1024 })
app.post('/events', { schema: { body: TelemetryEvent } }, async (request, reply) => reply.code(202).send({ status: 'accepted', data: request.body }))
app.post('/events/batch', { schema: { body: Type.Array(TelemetryEvent) } }, async (request, reply) => reply.code(202).send({ status: 'accepted', data: request.body }))
const url = await app.listen({ port, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ url })}\n`)
