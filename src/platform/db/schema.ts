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
  schema_migrations: SchemaMigrationsTable
}
