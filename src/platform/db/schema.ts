import type { ColumnType, Generated } from 'kysely'

/** Kysely table types; one interface per table in migrations/. */
type Timestamp = ColumnType<Date, Date | string, Date | string>
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json<T = unknown> = ColumnType<T, string, string>

export interface TenantsTable { id: Generated<string>; slug: string; name: string; created_at: GeneratedTimestamp }
export interface UsersTable {
  id: Generated<string>; tenant_id: string; email: string; password_hash: string; role: string
  created_at: GeneratedTimestamp; last_login_at: Timestamp | null; disabled_at: Timestamp | null
}
export interface ApiKeysTable {
  id: Generated<string>; tenant_id: string; name: string; prefix: string; key_hash: string; role: string; tier: string | null
  created_at: GeneratedTimestamp; last_used_at: Timestamp | null; revoked_at: Timestamp | null
}
export interface AuditLogTable {
  tenant_id: string; seq: number; id: Generated<string>; occurred_at: Timestamp; action: string; outcome: string
  actor_type: string; actor_id: string | null; resource_type: string | null; resource_id: string | null
  request_id: string | null; details: Json<Record<string, unknown>>; prev_hash: string; hash: string
}
export interface AuditHeadsTable { tenant_id: string; seq: number; hash: string }
export interface IdempotencyKeysTable {
  tenant_id: string; endpoint: string; key: string; request_hash: string; state: 'in_progress' | 'completed'
  response_status: number | null; response_body: string | null; response_headers: Json<Record<string, string>> | null
  created_at: GeneratedTimestamp; locked_until: Timestamp; expires_at: Timestamp
}
export interface ReplayNoncesTable { scope: string; nonce: string; expires_at: Timestamp }
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'
export interface JobsTable {
  id: Generated<string>; tenant_id: string | null; queue: string; name: string; payload: Json
  state: JobState; attempts: Generated<number>; max_attempts: number; backoff_ms: number; timeout_ms: number
  run_at: GeneratedTimestamp; locked_by: string | null; locked_until: Timestamp | null
  progress: Json | null; result: Json | null; last_error: string | null; cancel_requested: Generated<boolean>
  created_at: GeneratedTimestamp; updated_at: GeneratedTimestamp; started_at: Timestamp | null; finished_at: Timestamp | null
}
export interface AssetsTable {
  id: Generated<string>; tenant_id: string; ref: string; type: Generated<string>; name: string
  attributes: Json<Record<string, unknown>>; first_seen: Timestamp; last_seen: Timestamp
  created_at: GeneratedTimestamp; updated_at: GeneratedTimestamp
}
export interface FindingsTable {
  id: Generated<string>; tenant_id: string; fingerprint: string; source: string; external_id: string | null
  title: string; description: string | null; severity: string; severity_rank: number; status: string
  asset_id: string | null; asset_ref: string | null; recommendation: string | null; metadata: Json<Record<string, unknown>>
  first_seen: Timestamp; last_seen: Timestamp; occurrences: Generated<number>
  created_at: GeneratedTimestamp; updated_at: GeneratedTimestamp
  scanner: string | null; last_import_id: string | null
}
export type ScanImportStatus = 'pending' | 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled'
export interface ScanImportsTable {
  id: string; tenant_id: string; job_id: string | null; status: ScanImportStatus; progress: Generated<number>
  current_step: string | null; filename: string; file_size_bytes: ColumnType<string, number | string, number | string>
  file_sha256: string; storage_path: string | null; scanner_type: string; detected_scanner: string | null
  asset_type: string | null; assessment_name: string; import_type: string; options: Json<Record<string, unknown>>
  phoenix: Json<Record<string, unknown>> | null; webhook_url: string | null; webhook_headers: string | null
  assets_imported: number | null; vulnerabilities_imported: number | null; findings_new: number | null
  findings_updated: number | null; findings_closed: number | null; error_message: string | null
  batch_summary: Json<Record<string, unknown>> | null; created_by: string | null
  created_at: GeneratedTimestamp; updated_at: GeneratedTimestamp; started_at: Timestamp | null; completed_at: Timestamp | null
}
export interface ScanImportLogsTable { import_id: string; seq: Generated<string>; at: GeneratedTimestamp; level: string; message: string }
export interface WebhookSecretsTable { tenant_id: string; secret: string; created_at: GeneratedTimestamp; rotated_at: Timestamp | null }
export interface WebhookAttempt { at: string; status_code: number | null; error: string | null; duration_ms: number }
export interface WebhookDeliveriesTable {
  id: Generated<string>; tenant_id: string; source_type: string; source_id: string; event: string; url: string
  headers: string | null; payload: Json<Record<string, unknown>>; status: 'pending' | 'delivered' | 'failed'
  attempts: ColumnType<WebhookAttempt[], string | undefined, string>
  created_at: GeneratedTimestamp; updated_at: GeneratedTimestamp; delivered_at: Timestamp | null
}
export interface EventsTable {
  tenant_id: string; event_id: string; source: string; source_system: string; event_type: string
  occurred_at: Timestamp; severity: string; severity_rank: number; asset_ref: string | null; message: string | null
  metadata: Json<Record<string, unknown>>; request_id: string | null; received_at: GeneratedTimestamp
}
export interface IngestRequestsTable {
  request_id: string; tenant_id: string; endpoint: string; status: string; total: number; accepted: number; failed: number
  failed_items: Json<unknown[]>; created_at: Timestamp; updated_at: Timestamp
}
export interface PromptRulesTable {
  id: Generated<string>; tenant_id: string; rule_id: string; action: 'detect' | 'allow'; enabled: boolean
  definition: Json<Record<string, unknown>>; created_by: string | null; created_at: GeneratedTimestamp; updated_at: GeneratedTimestamp
}
export interface PromptAnalysesTable {
  id: Generated<string>; tenant_id: string; created_at: GeneratedTimestamp; principal: string; tier: string; source: 'analyze' | 'batch'
  prompt_sha256: string; prompt_chars: number; prompt: string | null; is_threat: boolean; risk_score: number; confidence: number
  threat_types: string[]; rule_ids: string[]; analysis_ms: number
}
export interface SchemaMigrationsTable { version: string; name: string; checksum: string; applied_at: GeneratedTimestamp }

export interface DB {
  tenants: TenantsTable
  users: UsersTable
  api_keys: ApiKeysTable
  audit_log: AuditLogTable
  audit_heads: AuditHeadsTable
  idempotency_keys: IdempotencyKeysTable
  replay_nonces: ReplayNoncesTable
  jobs: JobsTable
  assets: AssetsTable
  findings: FindingsTable
  events: EventsTable
  ingest_requests: IngestRequestsTable
  scan_imports: ScanImportsTable
  scan_import_logs: ScanImportLogsTable
  webhook_secrets: WebhookSecretsTable
  webhook_deliveries: WebhookDeliveriesTable
  prompt_rules: PromptRulesTable
  prompt_analyses: PromptAnalysesTable
  schema_migrations: SchemaMigrationsTable
}
