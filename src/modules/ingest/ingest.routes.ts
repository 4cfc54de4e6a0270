import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { idempotencyKeyFrom } from '../../platform/idempotency.js'
import { jsonBodyParser } from '../../platform/http/server.js'
import type { IngestKind, IngestResponse, IngestService } from './ingest.service.js'
import {
  BatchOut, Envelope, ErrorEnvelope, SingleEventOut, SingleFindingOut, SpectraFinding, StatusOut, TelemetryEvent,
} from './ingest.schemas.js'

export const INGEST_PREFIX = '/api/v1/integrations/spectrastrike'
export const INGEST_FAMILY = 'spectrastrike'

const TAG = 'SpectraStrike ingest'
const errorResponses = {
  401: { ...ErrorEnvelope, description: 'Missing/invalid token or API key (`unauthorized`, `invalid_token`, `token_expired`), or a missing, invalid or replayed request signature (`invalid_signature`, `signature_replayed`).' },
  403: { ...ErrorEnvelope, description: 'The role lacks the permission (`forbidden`).' },
  429: { ...ErrorEnvelope, description: '`rate_limited` (client_rate_limit); see Retry-After.' },
}
const postErrors = {
  ...errorResponses,
  400: { ...ErrorEnvelope, description: 'HTTPS required (`https_required`) or a bad header.' },
  409: { ...ErrorEnvelope, description: '`idempotency_conflict` (key reused with another body) or `idempotency_in_progress` (first request still running).' },
  413: { ...ErrorEnvelope, description: '`payload_too_large`: body over VV_MAX_BODY_MB.' },
  415: { ...ErrorEnvelope, description: '`unsupported_media_type`: send application/json.' },
  422: { ...ErrorEnvelope, description: '`validation_failed` (each error names its field) or `batch_too_large`.' },
  503: { ...ErrorEnvelope, description: '`ingest_failed`: storage unavailable; nothing was written.' },
}
const headers = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ maxLength: 255, description: 'Makes the POST safe to retry: same key + same body replays the first response (X-Idempotent-Replay: true) for 24 h.' })),
  'x-signature': Type.Optional(Type.String({ description: 'Hex HMAC-SHA256 over "{X-Timestamp}.{raw body}" (required when VV_SPECTRASTRIKE_SIGNATURE_SECRET is set).' })),
  'x-timestamp': Type.Optional(Type.String({ description: 'Unix seconds; within ±300 s.' })),
})
// The body schemas document the contract; the service validates (with severity normalisation and per-item results).
const documentOnly = () => (data: unknown) => ({ value: data })

export async function ingestRoutes(app: FastifyInstance, opts: { service: IngestService }) {
  const { service } = opts
  const jsonParser = jsonBodyParser(app)
  // JSON only: other content types get 415 rather than being handed to the validator as text.
  app.removeAllContentTypeParsers()
  // Keep the raw body: request signatures are computed over the exact bytes.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string
    jsonParser(request, body as string, done)
  })
  app.addHook('onRequest', async (request) => {
    // A client-chosen X-Request-Id stays the log correlation id; the envelope id is always a fresh UUID.
    request.envelopeId = request.headers['x-request-id'] === request.id ? randomUUID() : request.id
  })

  const send = (reply: FastifyReply, r: IngestResponse, request: FastifyRequest) => {
    request.outcome = r.outcome
    return reply.code(r.statusCode).headers(r.headers).type('application/json; charset=utf-8').send(r.body)
  }

  const post = (path: string, kind: IngestKind, batch: boolean, summary: string, description: string, body: unknown, okData: ReturnType<typeof Type.Object>) => {
    app.post(path, {
      config: { family: INGEST_FAMILY, auth: { permission: 'ingest:write' }, clientRateLimit: true },
      schema: {
        summary, description, tags: [TAG], headers, body,
        response: { 202: Envelope(okData, 'Accepted: `accepted`, `partial` (batch with failed items) or `failed` (batch whose items all failed).'), ...postErrors },
      },
      validatorCompiler: documentOnly,
    }, async (request, reply) => {
      const r = await service.ingest({
        principal: request.principal!, envelopeId: request.envelopeId!, endpoint: `${INGEST_PREFIX}${path}`, kind, batch,
        body: request.body, rawBody: request.rawBody ?? '',
        headers: { signature: request.headers['x-signature'] as string | undefined, timestamp: request.headers['x-timestamp'] as string | undefined },
        idempotencyKey: idempotencyKeyFrom(request.headers),
      })
      return send(reply, r, request)
    })
  }

  post('/events', 'event', false, 'Ingest one telemetry event',
    'Stores one event durably before answering. A missing event_id is derived from the content, so re-sending the same event is a no-op.',
    TelemetryEvent, SingleEventOut)
  post('/events/batch', 'event', true, 'Ingest a batch of telemetry events',
    'A JSON array of up to VV_SPECTRASTRIKE_MAX_BATCH_SIZE (default 250) events. Valid items are stored, invalid ones reported per index.',
    Type.Array(TelemetryEvent, { description: 'Events; the limit is VV_SPECTRASTRIKE_MAX_BATCH_SIZE.' }), BatchOut)
  post('/findings', 'finding', false, 'Ingest one finding',
    'Upserts the finding into the shared findings store (by finding_id), creating its asset. Emits a tenant audit entry.',
    SpectraFinding, SingleFindingOut)
  post('/findings/batch', 'finding', true, 'Ingest a batch of findings',
    'A JSON array of up to VV_SPECTRASTRIKE_MAX_BATCH_SIZE findings with per-item results.',
    Type.Array(SpectraFinding), BatchOut)

  app.get('/ingest/status/:request_id', {
    config: { family: INGEST_FAMILY, auth: { permission: 'ingest:read' }, clientRateLimit: true },
    schema: {
      summary: 'Status of one ingest request',
      description: 'Counts, failed items and timestamps of an earlier POST in the caller\'s tenant. Unknown ids and other tenants\' ids both answer 404 `Request not found`.',
      tags: [TAG],
      params: Type.Object({ request_id: Type.String({ maxLength: 128 }) }),
      response: { 200: Envelope(StatusOut, 'The request\'s recorded outcome.'), 404: { ...ErrorEnvelope, description: 'Request not found' }, ...errorResponses },
    },
  }, async (request, reply) => send(reply, await service.status(request.principal!, request.envelopeId!, (request.params as { request_id: string }).request_id), request))
}
