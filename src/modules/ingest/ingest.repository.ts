import { sql, type RawBuilder } from 'kysely'
import { type AuditChain, type AuditEntry } from '../../platform/audit.js'
import type { Database } from '../../platform/db/database.js'
import { idempotencyCompletionCte, type Completion } from '../../platform/idempotency.js'
import { SEVERITY_RANK } from '../findings/severity.js'
import type { NormalizedEvent, NormalizedFinding } from './ingest.items.js'
import type { ItemResult } from './ingest.schemas.js'
import { sha256Hex } from '../../platform/util/hash.js'
import { pgJson } from '../../platform/db/storable-text.js'

export const SOURCE = 'spectrastrike'
/** Rows in a group from which its data statement runs outside the audit lock, in parallel with other groups'. */
export const OVERLAP_ROWS = 500

/** Everything one ingest request writes; the group committer writes many of these in one transaction. */
export interface IngestUnit {
  tenantId: string
  requestId: string
  endpoint: string
  receivedAt: Date
  events: NormalizedEvent[]
  findings: NormalizedFinding[]
  status: 'accepted' | 'partial' | 'failed'
  total: number
  accepted: number
  failedItems: ItemResult[]
  audit: AuditEntry[]
  idempotency?: Completion | undefined
}

/** Fingerprint of a SpectraStrike finding in the shared store: its finding id, which the sender keeps stable. */
export function findingFingerprint(findingId: string): string {
  return sha256Hex(`${SOURCE}\n${findingId}`)
}

export function ingestRepository(db: Database, chain: AuditChain) {
  return {
    /**
     * Writes a group of requests atomically in one or two statements however many requests and items it holds: the
     * data (events, assets and findings, request records, idempotency results) as data-modifying CTEs, and the audit
     * entries. Everything commits or rolls back together.
     */
    async writeUnits(units: IngestUnit[]): Promise<void> {
      const ctes: RawBuilder<unknown>[] = []
      const events = units.flatMap((u) => u.events.map((e) => ({
        tenant_id: u.tenantId, event_id: e.event_id, source_system: e.source_system, event_type: e.event_type,
        occurred_at: e.occurred_at, severity: e.severity, severity_rank: SEVERITY_RANK[e.severity], asset_ref: e.asset_ref,
        message: e.message, metadata: e.metadata, request_id: u.requestId,
      })))
      if (events.length > 0) {
        ctes.push(sql`new_events as (
          insert into events (tenant_id, event_id, source, source_system, event_type, occurred_at, severity, severity_rank,
                              asset_ref, message, metadata, request_id)
          select tenant_id, event_id, ${SOURCE}, source_system, event_type, occurred_at, severity, severity_rank, asset_ref, message,
                 metadata, request_id
          from jsonb_to_recordset(${pgJson(events)}::jsonb) as x(tenant_id uuid, event_id text, source_system text,
            event_type text, occurred_at timestamptz, severity text, severity_rank smallint, asset_ref text, message text,
            metadata jsonb, request_id uuid)
          on conflict (tenant_id, event_id) do nothing returning 1)`)
      }

      // Findings: the last report of a fingerprint within the group wins (ON CONFLICT may touch a row once).
      const byFingerprint = new Map<string, Record<string, unknown>>()
      for (const u of units) {
        for (const f of u.findings) {
          const fingerprint = findingFingerprint(f.finding_id)
          byFingerprint.set(`${u.tenantId}|${fingerprint}`, {
            tenant_id: u.tenantId, fingerprint, external_id: f.finding_id, title: f.title, description: f.description,
            severity: f.severity, severity_rank: SEVERITY_RANK[f.severity], status: f.status, asset_ref: f.asset_ref,
            recommendation: f.recommendation, metadata: f.metadata, first_seen: f.first_seen, last_seen: f.last_seen ?? f.first_seen,
          })
        }
      }
      if (byFingerprint.size > 0) {
        ctes.push(
          sql`finding_rows as (
            select * from jsonb_to_recordset(${pgJson([...byFingerprint.values()])}::jsonb) as x(tenant_id uuid, fingerprint text,
              external_id text, title text, description text, severity text, severity_rank smallint, status text, asset_ref text,
              recommendation text, metadata jsonb, first_seen timestamptz, last_seen timestamptz))`,
          sql`finding_assets as (
            insert into assets (tenant_id, ref, type, name, first_seen, last_seen)
            select tenant_id, asset_ref, 'host', asset_ref, min(first_seen), max(last_seen)
            from finding_rows where asset_ref is not null group by tenant_id, asset_ref
            on conflict (tenant_id, ref) do update set
              first_seen = least(assets.first_seen, excluded.first_seen),
              last_seen = greatest(assets.last_seen, excluded.last_seen), updated_at = now()
            returning id, tenant_id, ref)`,
          sql`upserted_findings as (
            insert into findings (tenant_id, fingerprint, source, external_id, title, description, severity, severity_rank, status,
                                  asset_id, asset_ref, recommendation, metadata, first_seen, last_seen)
            select x.tenant_id, x.fingerprint, ${SOURCE}, x.external_id, x.title, x.description, x.severity, x.severity_rank, x.status,
                   a.id, x.asset_ref, x.recommendation, x.metadata, x.first_seen, x.last_seen
            from finding_rows x left join finding_assets a on a.tenant_id = x.tenant_id and a.ref = x.asset_ref
            on conflict (tenant_id, fingerprint) do update set
              title = excluded.title, description = excluded.description, severity = excluded.severity,
              severity_rank = excluded.severity_rank, status = excluded.status, asset_id = excluded.asset_id,
              asset_ref = excluded.asset_ref, recommendation = excluded.recommendation, metadata = excluded.metadata,
              first_seen = least(findings.first_seen, excluded.first_seen),
              last_seen = greatest(findings.last_seen, excluded.last_seen),
              occurrences = findings.occurrences + 1, updated_at = now()
            returning 1)`,
        )
      }

      const requests = pgJson(units.map((u) => ({
        request_id: u.requestId, tenant_id: u.tenantId, endpoint: u.endpoint, status: u.status, total: u.total,
        accepted: u.accepted, failed: u.failedItems.length, failed_items: u.failedItems, at: u.receivedAt.toISOString(),
      })))
      ctes.push(sql`new_requests as (
        insert into ingest_requests (request_id, tenant_id, endpoint, status, total, accepted, failed, failed_items, created_at, updated_at)
        select request_id, tenant_id, endpoint, status, total, accepted, failed, failed_items, at, at
        from jsonb_to_recordset(${requests}::jsonb) as x(request_id uuid, tenant_id uuid, endpoint text, status text, total int,
          accepted int, failed int, failed_items jsonb, at timestamptz)
        returning 1)`)
      const done = idempotencyCompletionCte(units.flatMap((u) => (u.idempotency ? [u.idempotency] : [])))
      if (done) ctes.push(done)

      // Heavy writes (batches) let their data statements overlap; light ones go as one statement (see AuditChain.append).
      const rows = units.reduce((n, u) => n + u.events.length + u.findings.length, 0)
      await chain.append(units.flatMap((u) => u.audit), ctes, { overlap: rows >= OVERLAP_ROWS })
    },

    async findRequest(tenantId: string, requestId: string) {
      return db.selectFrom('ingest_requests').selectAll().where('request_id', '=', requestId).where('tenant_id', '=', tenantId).executeTakeFirst()
    },
  }
}
export type IngestRepository = ReturnType<typeof ingestRepository>
