import { Type, type Static } from 'typebox'

/** SpectraStrike wire contract (specs/ingest-spectrastrike.md, REFERENCE §1). */

const ID = { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }
const NAME = { minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }
const SEVERITY_DOC = 'info, low, medium, high or critical; case-insensitive, `informational`/`information` → info, `med`/`moderate` → medium, `crit` → critical.'
const TIMESTAMP_DOC = 'RFC 3339 date-time with a UTC offset, in year 0001 or later, e.g. 2026-02-22T10:00:00Z.'
export const METADATA_MAX_BYTES = 16_384
const METADATA = Type.Record(Type.String(), Type.Unknown(), { description: `Free-form object, at most ${METADATA_MAX_BYTES} bytes as JSON.` })

export const TelemetryEvent = Type.Object({
  event_id: Type.Optional(Type.String({ ...ID, description: 'Caller\'s id; when absent one is derived: `evt_` + 24 hex of SHA-256 over source_system, event_type, occurred_at, asset_ref, message.' })),
  source_system: Type.String({ ...NAME, description: 'Emitting system, 1-64 of `A-Z a-z 0-9 . _ : -`.' }),
  event_type: Type.String({ ...NAME, description: 'Event type, 1-64 of `A-Z a-z 0-9 . _ : -`.' }),
  occurred_at: Type.String({ format: 'date-time', description: TIMESTAMP_DOC }),
  severity: Type.String({ minLength: 1, maxLength: 16, description: SEVERITY_DOC }),
  asset_ref: Type.String({ minLength: 1, maxLength: 128, description: 'Asset the event concerns.' }),
  message: Type.String({ minLength: 1, maxLength: 1024 }),
  metadata: Type.Optional(METADATA),
}, { additionalProperties: false, description: 'One telemetry event. Unknown fields are rejected.' })
export type TelemetryEvent = Static<typeof TelemetryEvent>

export const FINDING_STATUSES = ['open', 'in_progress', 'resolved', 'closed'] as const

export const SpectraFinding = Type.Object({
  finding_id: Type.Optional(Type.String({ ...ID, description: 'Caller\'s id; when absent one is derived: `fnd_` + 24 hex of SHA-256 over title, severity, first_seen, asset_ref.' })),
  title: Type.String({ minLength: 3, maxLength: 256 }),
  description: Type.String({ minLength: 1, maxLength: 4096 }),
  severity: Type.String({ minLength: 1, maxLength: 16, description: SEVERITY_DOC }),
  status: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'open (default), in_progress, resolved or closed; case-insensitive.' })),
  first_seen: Type.String({ format: 'date-time', description: TIMESTAMP_DOC }),
  last_seen: Type.Optional(Type.String({ format: 'date-time', description: `${TIMESTAMP_DOC} Not before first_seen.` })),
  asset_ref: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  recommendation: Type.Optional(Type.String({ maxLength: 2048 })),
  metadata: Type.Optional(METADATA),
}, { additionalProperties: false, description: 'One finding. Unknown fields are rejected.' })
export type SpectraFinding = Static<typeof SpectraFinding>

export const EnvelopeError = Type.Object({
  code: Type.String({ description: 'validation_failed, batch_too_large, idempotency_conflict, idempotency_in_progress, unauthorized, invalid_token, invalid_signature, signature_replayed, forbidden, payload_too_large, rate_limited, not_found, …' }),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'The offending field, when there is one.' })),
})

export const EnvelopeSignature = Type.Object({
  algorithm: Type.Literal('hmac-sha256'),
  signed_at: Type.String({ description: 'Time of signing (ISO 8601).' }),
  signature: Type.String({ description: 'Hex HMAC-SHA256 with VV_SPECTRASTRIKE_SIGNATURE_SECRET over `"{signed_at}.{canonical JSON of {request_id, status, data, errors}}"` (keys sorted, no whitespace).' }),
})

const STATUS = Type.Union([Type.Literal('accepted'), Type.Literal('partial'), Type.Literal('failed'), Type.Literal('replayed')])

export function Envelope<T extends ReturnType<typeof Type.Object>>(data: T, description: string) {
  return Type.Object({
    request_id: Type.String({ description: 'Id of this request (UUID); poll it at /ingest/status/{request_id}.' }),
    status: STATUS,
    data,
    errors: Type.Array(EnvelopeError),
    signature: Type.Union([EnvelopeSignature, Type.Null()], { description: 'Present when VV_SPECTRASTRIKE_SIGNATURE_SECRET is set.' }),
  }, { description })
}

export const ItemResult = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  item_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('failed')]),
  error_code: Type.Union([Type.String(), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
})
export type ItemResult = Static<typeof ItemResult>

export const Summary = Type.Object({ total: Type.Integer(), accepted: Type.Integer(), failed: Type.Integer() })

export const BatchOut = Type.Object({ summary: Summary, results: Type.Array(ItemResult) })
export const SingleEventOut = Type.Object({ event_id: Type.String() })
export const SingleFindingOut = Type.Object({ finding_id: Type.String() })
export const StatusOut = Type.Object({
  request_id: Type.String(),
  status: STATUS,
  endpoint: Type.String(),
  counts: Summary,
  failed_items: Type.Array(ItemResult),
  created_at: Type.String(),
  updated_at: Type.String(),
})

export const ErrorEnvelope = Envelope(Type.Object({}), 'Error envelope: status `failed`, data `{}`, errors[] populated.')
