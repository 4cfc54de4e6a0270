import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Logger } from 'pino'
import type { AuditEntry, AuditService } from '../../platform/audit.js'
import type { Principal } from '../../platform/auth/authenticator.js'
import { AppError, NotFoundError, UnauthorizedError, ValidationError, type FieldError } from '../../platform/errors.js'
import { requestHash, type IdempotencyService } from '../../platform/idempotency.js'
import type { Metrics } from '../../platform/metrics.js'
import type { NonceStore } from '../../platform/nonces.js'
import { GroupCommitter } from '../../platform/util/group-commit.js'
import { normalizeEvent, normalizeFinding, type ItemOutcome, type NormalizedEvent, type NormalizedFinding } from './ingest.items.js'
import { OVERLAP_ROWS, type IngestRepository, type IngestUnit } from './ingest.repository.js'
import type { ItemResult } from './ingest.schemas.js'
import { serializeEnvelope, type Envelope, type EnvelopeStatus } from './ingest.envelope.js'

export type IngestKind = 'event' | 'finding'

export interface IngestRequest {
  principal: Principal
  envelopeId: string
  /** Route path, e.g. /api/v1/integrations/spectrastrike/events/batch. */
  endpoint: string
  kind: IngestKind
  batch: boolean
  body: unknown
  rawBody: string
  headers: { signature?: string | undefined; timestamp?: string | undefined }
  idempotencyKey?: string | undefined
}

export interface IngestResponse { statusCode: number; body: string; headers: Record<string, string>; outcome: string }

export interface IngestSettings {
  maxBatchSize: number
  signatureSecret: string | undefined
  signatureSkewSeconds: number
}

export interface IngestDeps {
  repository: IngestRepository
  idempotency: IdempotencyService
  nonces: NonceStore
  audit: AuditService
  metrics: Metrics
  logger: Logger
  settings: IngestSettings
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function createIngestService(deps: IngestDeps) {
  const { repository, idempotency, nonces, audit, metrics, settings } = deps
  const m = {
    ingestTotal: metrics.counter({ name: 'ingest_total', help: 'SpectraStrike ingest requests executed (accepted, partial, failed batches and replays)', labelNames: ['endpoint', 'status'] }),
    ingestFailed: metrics.counter({ name: 'ingest_failed', help: 'SpectraStrike items that failed to ingest', labelNames: ['endpoint'] }),
    validationFailed: metrics.counter({ name: 'validation_failed', help: 'SpectraStrike requests or batch items rejected by validation', labelNames: ['endpoint'] }),
    authFailed: metrics.authFailed,
    batchSize: metrics.histogram({ name: 'batch_size', help: 'Items per SpectraStrike batch request', labelNames: ['endpoint'], buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000] }),
  }

  const committer = new GroupCommitter<IngestUnit, void>(async (units) => {
    await repository.writeUnits(units)
    return units.map(() => undefined)
  }, {
    maxUnits: 1000,
    // Heavy groups (batches) run up to four at once: their data statements proceed in parallel and only the audit
    // append is serialised. Light ones (single items) go one at a time so each statement carries more of them.
    concurrency: 4,
    parallelWeight: OVERLAP_ROWS,
    weigh: (u) => (u as IngestUnit).events.length + (u as IngestUnit).findings.length + 1,
    maxWeight: 5000,
  })

  const actor = (p: Principal) => ({ actorType: p.kind, actorId: p.subject })

  async function rejectSignature(req: IngestRequest, code: string, message: string): Promise<never> {
    m.authFailed.inc({ endpoint: req.endpoint, reason: code })
    await audit.record({
      tenantId: req.principal.tenantId, action: 'spectrastrike.auth_failed', outcome: 'failure', ...actor(req.principal),
      resourceType: 'spectrastrike_request', resourceId: req.envelopeId, requestId: req.envelopeId, details: { endpoint: req.endpoint, reason: code, message },
    })
    throw new UnauthorizedError(message, code)
  }

  /** X-Signature = hex HMAC-SHA256 over "{X-Timestamp}.{raw body}", ±skew, each signature usable once. */
  async function verifySignature(req: IngestRequest) {
    const secret = settings.signatureSecret
    if (!secret) return
    const { signature, timestamp } = req.headers
    if (!signature || !timestamp) return rejectSignature(req, 'invalid_signature', 'Missing request signature headers (X-Signature, X-Timestamp)')
    if (!/^\d{1,12}$/.test(timestamp)) return rejectSignature(req, 'invalid_signature', 'Invalid X-Timestamp: expected Unix seconds')
    if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > settings.signatureSkewSeconds) {
      return rejectSignature(req, 'invalid_signature', `Signature timestamp outside the allowed ±${settings.signatureSkewSeconds} s window`)
    }
    const expected = createHmac('sha256', secret).update(`${timestamp}.${req.rawBody}`).digest()
    const given = /^[0-9a-fA-F]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return rejectSignature(req, 'invalid_signature', 'Invalid request signature')
    // A valid signature may be used once: without this a captured request could be replayed inside the window.
    const fresh = await nonces.claim('spectrastrike-signature', signature.toLowerCase(), settings.signatureSkewSeconds * 2)
    if (!fresh) return rejectSignature(req, 'signature_replayed', 'Request signature was already used (replay)')
  }

  async function rejectSchema(req: IngestRequest, message: string, details: FieldError[], code = 'validation_failed'): Promise<never> {
    m.validationFailed.inc({ endpoint: req.endpoint })
    await audit.record({
      tenantId: req.principal.tenantId, action: 'spectrastrike.schema_rejected', outcome: 'failure', ...actor(req.principal),
      resourceType: `spectrastrike_${req.kind}${req.batch ? 's_batch' : ''}`, resourceId: req.envelopeId, requestId: req.envelopeId,
      details: { endpoint: req.endpoint, code, errors: details.slice(0, 20) },
    })
    throw new ValidationError(message, details, code)
  }

  function envelope(status: EnvelopeStatus, data: unknown, envelopeId: string): Envelope {
    return { request_id: envelopeId, status, data, errors: [] }
  }

  return {
    /** Waits for queued writes (shutdown, tests). */
    drain: () => committer.drain(),

    async ingest(req: IngestRequest): Promise<IngestResponse> {
      await verifySignature(req)
      const normalize = req.kind === 'event' ? normalizeEvent : normalizeFinding
      let outcomes: ItemOutcome<NormalizedEvent | NormalizedFinding>[]
      if (req.batch) {
        if (!Array.isArray(req.body)) return rejectSchema(req, 'Batch payload must be a JSON array of items', [])
        if (req.body.length === 0) return rejectSchema(req, 'Batch payload must not be empty', [])
        if (req.body.length > settings.maxBatchSize) {
          return rejectSchema(req, `Batch size ${req.body.length} exceeds configured maximum (${settings.maxBatchSize})`, [], 'batch_too_large')
        }
        outcomes = req.body.map((item) => normalize(item))
      } else {
        const one = normalize(req.body)
        if (!one.ok) return rejectSchema(req, `Payload validation failed: ${one.errors[0]?.field} ${one.errors[0]?.message}`, one.errors)
        outcomes = [one]
      }

      const claim = req.idempotencyKey
        ? await idempotency.claim(req.principal.tenantId, req.endpoint, req.idempotencyKey, requestHash(req.body)).catch(async (err: unknown) => {
          if (err instanceof AppError) {
            await audit.record({
              tenantId: req.principal.tenantId, action: 'spectrastrike.idempotency_rejected', outcome: 'failure', ...actor(req.principal),
              resourceType: 'spectrastrike_request', resourceId: req.envelopeId, requestId: req.envelopeId, details: { endpoint: req.endpoint, code: err.code },
            })
          }
          throw err
        })
        : undefined
      if (claim?.kind === 'replay') {
        m.ingestTotal.inc({ endpoint: req.endpoint, status: 'replayed' })
        return { statusCode: claim.response.status, body: claim.response.body, headers: { ...claim.response.headers, 'x-idempotent-replay': 'true' }, outcome: 'replayed' }
      }

      const results: ItemResult[] = outcomes.map((o, index) => o.ok
        ? { index, item_id: req.kind === 'event' ? (o.item as NormalizedEvent).event_id : (o.item as NormalizedFinding).finding_id, status: 'accepted', error_code: null, error_message: null }
        : { index, item_id: null, status: 'failed', error_code: 'validation_failed', error_message: `${o.errors[0]?.field ?? ''}: ${o.errors[0]?.message ?? 'invalid'}`.replace(/^: /, '') })
      const accepted = outcomes.flatMap((o) => (o.ok ? [o.item] : []))
      const failedItems = results.filter((r) => r.status === 'failed')
      const status: 'accepted' | 'partial' | 'failed' = failedItems.length === 0 ? 'accepted' : accepted.length === 0 ? 'failed' : 'partial'

      const data = req.batch
        ? { summary: { total: results.length, accepted: accepted.length, failed: failedItems.length }, results }
        : req.kind === 'event' ? { event_id: results[0]!.item_id } : { finding_id: results[0]!.item_id }
      const body = serializeEnvelope(envelope(status, data, req.envelopeId), settings.signatureSecret)
      const statusCode = 202

      const action = status === 'accepted' ? 'spectrastrike.ingest_accepted' : status === 'partial' ? 'spectrastrike.batch_partial_failure' : 'spectrastrike.batch_failed'
      const auditEntry: AuditEntry = {
        tenantId: req.principal.tenantId, action, outcome: status === 'accepted' ? 'success' : status === 'partial' ? 'partial' : 'failure',
        ...actor(req.principal), resourceType: `spectrastrike_${req.kind}${req.batch ? 's_batch' : ''}`,
        resourceId: req.batch ? req.envelopeId : results[0]!.item_id, requestId: req.envelopeId,
        details: { endpoint: req.endpoint, total: results.length, accepted: accepted.length, failed: failedItems.length },
      }
      const unit: IngestUnit = {
        tenantId: req.principal.tenantId, requestId: req.envelopeId, endpoint: req.endpoint, receivedAt: new Date(),
        events: req.kind === 'event' ? accepted as NormalizedEvent[] : [],
        findings: req.kind === 'finding' ? accepted as NormalizedFinding[] : [],
        status, total: results.length, accepted: accepted.length, failedItems, audit: [auditEntry],
        idempotency: claim ? { tenantId: claim.tenantId, endpoint: claim.endpoint, key: claim.key, response: { status: statusCode, body, headers: {} } } : undefined,
      }
      try {
        await committer.submit(unit)
      } catch (err) {
        deps.logger.error({ err, request_id: req.envelopeId }, 'ingest write failed')
        if (claim) await idempotency.release(claim).catch(() => {})
        m.ingestFailed.inc({ endpoint: req.endpoint }, results.length)
        throw new AppError(503, 'ingest_failed', 'The items could not be stored; nothing was written. Retry the request.')
      }

      m.ingestTotal.inc({ endpoint: req.endpoint, status })
      if (failedItems.length > 0) {
        m.ingestFailed.inc({ endpoint: req.endpoint }, failedItems.length)
        m.validationFailed.inc({ endpoint: req.endpoint }, failedItems.length)
      }
      if (req.batch) m.batchSize.observe({ endpoint: req.endpoint }, results.length)
      return { statusCode, body, headers: {}, outcome: status }
    },

    /**
     * Another tenant's request id, an unknown one and a malformed one all take the same path (one indexed
     * lookup scoped to the caller's tenant) and get the same 404 body.
     */
    async status(principal: Principal, envelopeId: string, lookupId: string): Promise<IngestResponse> {
      const row = await repository.findRequest(principal.tenantId, UUID.test(lookupId) ? lookupId : NIL_UUID)
      if (!row) throw new NotFoundError('Request not found', 'not_found')
      const data = {
        request_id: row.request_id, status: row.status, endpoint: row.endpoint,
        counts: { total: row.total, accepted: row.accepted, failed: row.failed },
        failed_items: row.failed_items, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString(),
      }
      return { statusCode: 200, body: serializeEnvelope(envelope('accepted', data, envelopeId), settings.signatureSecret), headers: {}, outcome: 'success' }
    },
  }
}
export type IngestService = ReturnType<typeof createIngestService>
