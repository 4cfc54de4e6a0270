import { Type, type Static } from 'typebox'
import { ASSET_TYPES } from './parsers/types.js'

export const SCAN_STATUSES = ['pending', 'queued', 'processing', 'completed', 'failed', 'cancelled'] as const
export const IMPORT_TYPES = ['new', 'merge', 'delta'] as const
/** Statuses a job does not leave. */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled'])

/** What a completed import did: the `complete` WebSocket message's and the webhook's data. */
export function completionSummary(job: {
  assets_imported: number | null; vulnerabilities_imported: number | null; findings_new: number | null
  findings_updated: number | null; findings_closed: number | null; assessment_name: string
}) {
  return {
    status: 'completed' as const, progress: 100, assets_imported: job.assets_imported, vulnerabilities_imported: job.vulnerabilities_imported,
    findings_new: job.findings_new, findings_updated: job.findings_updated, findings_closed: job.findings_closed, assessment_name: job.assessment_name,
  }
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

/** The Phoenix scanner service's error body (every error of these routes). */
export const PhoenixError = Type.Object({
  error: Type.String({ description: 'Machine code, e.g. `bad_request`, `unauthorized`, `forbidden`, `not_found`, `payload_too_large`.' }),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Context, e.g. `errors: [{field, message}]` naming each bad form field.' })),
  timestamp: Type.String({ format: 'date-time' }),
})

const err = (description: string) => ({ ...PhoenixError, description })
export const authErrors = {
  401: err('Missing credentials (`unauthorized`): send X-API-Key (or Authorization: Bearer).'),
  403: err('Invalid or revoked API key (`forbidden`), or the key\'s role lacks the permission.'),
}

export const UploadAccepted = Type.Object({
  job_id: Type.String({ description: 'Id of the import job, `job-` followed by 24 hex digits.' }),
  status: Type.Union(SCAN_STATUSES.map((s) => Type.Literal(s))),
  message: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  websocket_url: Type.String({ description: 'Where to stream this job\'s log and progress (WS /ws/{job_id}).' }),
})

export const BatchSummary = Type.Object({
  batches: Type.Integer({ description: 'Store write batches.' }),
  batch_size: Type.Integer(),
  assets: Type.Integer(),
  findings_written: Type.Integer({ description: 'Distinct findings written (the file\'s repeats merged by fingerprint).' }),
  duration_ms: Type.Integer(),
  parse_ms: Type.Integer(),
  store_ms: Type.Integer(),
}, { additionalProperties: true })

export const Job = Type.Object({
  job_id: Type.String(),
  status: Type.Union(SCAN_STATUSES.map((s) => Type.Literal(s))),
  progress: Type.Number({ minimum: 0, maximum: 100 }),
  current_step: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Nullable(Type.String({ format: 'date-time' })),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
  filename: Type.String(),
  file_size_bytes: Type.Integer(),
  scanner_type: Type.String({ description: 'The scanner the file was read as: the detected one, or the requested `scanner_type` (`auto` until detection ran).' }),
  detected_scanner: Nullable(Type.String({ description: 'What content detection found (null when scanner_type was given or detection has not run).' })),
  asset_type: Nullable(Type.String()),
  import_type: Type.Union(IMPORT_TYPES.map((s) => Type.Literal(s))),
  assets_imported: Nullable(Type.Integer({ description: 'Assets the file yielded.' })),
  vulnerabilities_imported: Nullable(Type.Integer({ description: 'Findings the file yielded.' })),
  findings_new: Nullable(Type.Integer({ description: 'Findings the store did not know before this import.' })),
  findings_updated: Nullable(Type.Integer({ description: 'Known findings this import saw again.' })),
  findings_closed: Nullable(Type.Integer({ description: '`delta` imports: open findings of the same scanner and assets absent from the file, now closed.' })),
  assessment_name: Type.String(),
  error_message: Nullable(Type.String()),
  error_traceback: Nullable(Type.String({ description: 'Always null: internal traces are logged, never returned.' })),
  batch_summary: Nullable(BatchSummary),
  recent_logs: Type.Array(Type.String(), { description: 'Newest log lines, oldest first: "YYYY-MM-DD HH:MM:SS - LEVEL - message".' }),
  webhook_deliveries: Type.Array(Type.Object({
    id: Type.String(),
    event: Type.String({ description: '`scan_import.completed`, `scan_import.failed` or `scan_import.cancelled`.' }),
    url: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Array(Type.Object({
      at: Type.String({ format: 'date-time' }), status_code: Nullable(Type.Integer()), error: Nullable(Type.String()), duration_ms: Type.Integer(),
    })),
    created_at: Type.String({ format: 'date-time' }),
    delivered_at: Nullable(Type.String({ format: 'date-time' })),
  }), { description: 'Notifications sent to webhook_url (signed with the tenant\'s Standard Webhooks secret) and each delivery attempt.' }),
})
export type JobOut = Omit<Static<typeof Job>, 'status' | 'import_type' | 'batch_summary' | 'webhook_deliveries'> & {
  webhook_deliveries: unknown[]
  status: (typeof SCAN_STATUSES)[number]
  import_type: (typeof IMPORT_TYPES)[number]
  batch_summary: Record<string, unknown> | null
}

export const JobsQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  status: Type.Optional(Type.Union(SCAN_STATUSES.map((s) => Type.Literal(s)))),
}, { additionalProperties: false })
export type JobsQuery = { page?: number; page_size?: number; status?: (typeof SCAN_STATUSES)[number] }

export const JobList = Type.Object({
  total: Type.Integer(),
  jobs: Type.Array(Job),
  page: Type.Integer(),
  page_size: Type.Integer(),
})

export const JobParams = Type.Object({ job_id: Type.String({ maxLength: 64 }) })

export const Health = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
  version: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  workers: Type.Object({
    status: Type.String(),
    active_workers: Type.Integer({ description: 'Processes of this deployment running jobs (1 when this process does; with Redis, the BullMQ workers seen).' }),
    max_concurrent_jobs: Type.Integer({ description: 'VV_JOBS_CONCURRENCY per worker process.' }),
  }),
  queue: Type.Object({
    redis_status: Type.String({ description: '`healthy`, `unhealthy`, or `not_configured` (embedded queue in Postgres).' }),
    pending_jobs: Type.Integer(),
    processing_jobs: Type.Integer(),
    total_jobs: Type.Integer(),
  }),
})

export const Ping = Type.Object({ status: Type.Literal('ok'), timestamp: Type.String({ format: 'date-time' }) })

/** The multipart form fields of POST /api/v1/upload (besides `file`), documented for OpenAPI. */
export const UploadForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'Scanner output file (JSON, JSON lines, XML or CSV); at most VV_MAX_UPLOAD_MB.' }),
  scanner_type: Type.Optional(Type.String({ default: 'auto', description: '`auto` (detect from content) or a scanner id / alias, e.g. trivy, grype, nessus, sarif.' })),
  asset_type: Type.Optional(Type.Union(ASSET_TYPES.map((t) => Type.Literal(t)), { description: 'Override the asset type of every asset.' })),
  assessment_name: Type.Optional(Type.String({ maxLength: 200, description: 'Default: "<file name> <date time>".' })),
  import_type: Type.Optional(Type.Union(IMPORT_TYPES.map((t) => Type.Literal(t)), { default: 'new', description: '`delta` closes open findings of the same scanner and assets that the file no longer reports.' })),
  phoenix_client_id: Type.Optional(Type.String()),
  phoenix_client_secret: Type.Optional(Type.String({ description: 'Stored encrypted, never logged or returned.' })),
  phoenix_api_url: Type.Optional(Type.String()),
  enable_batching: Type.Optional(Type.Boolean({ default: true })),
  fix_data: Type.Optional(Type.Boolean({ default: true, description: 'Repair known format quirks; each repair is logged.' })),
  anonymize: Type.Optional(Type.Boolean({ default: false, description: 'Replace hosts, IPs, e-mails, user names and paths with stable keyed pseudonyms before storing.' })),
  just_tags: Type.Optional(Type.Boolean({ default: false, description: 'Only update tags of assets already in the store; no findings.' })),
  create_empty_assets: Type.Optional(Type.Boolean({ default: false, description: 'Store the assets without their findings.' })),
  create_inventory_assets: Type.Optional(Type.Boolean({ default: false, description: 'Also store assets the file lists without findings.' })),
  max_batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 500 })),
  max_payload_mb: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 25 })),
  webhook_url: Type.Optional(Type.String({ description: 'http(s) URL notified when the job completes or fails.' })),
  webhook_headers: Type.Optional(Type.String({ description: 'JSON object of extra headers for the webhook, e.g. {"Authorization": "Bearer …"}; stored encrypted.' })),
})
