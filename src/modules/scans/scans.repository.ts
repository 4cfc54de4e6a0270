import { sql, type Insertable, type Selectable, type Updateable } from 'kysely'
import type { Database } from '../../platform/db/database.js'
import type { ScanImportStatus, ScanImportsTable } from '../../platform/db/schema.js'
import type { StoreAsset, StoreFinding } from './normalize.js'
import { pgJson } from '../../platform/db/storable-text.js'

export type ScanImportRow = Selectable<ScanImportsTable>
export type ScanImportPatch = Updateable<ScanImportsTable>

export const SCAN_SOURCE = 'scan'

export interface ListImportsOptions { status?: ScanImportStatus | undefined; limit: number; offset: number }

export interface BatchWriteResult { inserted: number; updated: number; assetIds: string[] }

export function scansRepository(db: Database) {
  return {
    async create(row: Insertable<ScanImportsTable>): Promise<ScanImportRow> {
      return db.insertInto('scan_imports').values(row).returningAll().executeTakeFirstOrThrow()
    },

    /** Tenant-scoped: another tenant's import is undefined. */
    async get(tenantId: string, id: string): Promise<ScanImportRow | undefined> {
      return db.selectFrom('scan_imports').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst()
    },

    /** For the job handler, which has the id from its own payload. */
    async getById(id: string): Promise<ScanImportRow | undefined> {
      return db.selectFrom('scan_imports').selectAll().where('id', '=', id).executeTakeFirst()
    },

    async list(tenantId: string, opts: ListImportsOptions): Promise<{ total: number; rows: ScanImportRow[] }> {
      let q = db.selectFrom('scan_imports').where('tenant_id', '=', tenantId)
      if (opts.status) q = q.where('status', '=', opts.status)
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).offset(opts.offset).execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ])
      return { total: Number(count.n), rows }
    },

    async update(id: string, patch: ScanImportPatch): Promise<ScanImportRow | undefined> {
      return db.updateTable('scan_imports').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst()
    },

    /**
     * Moves an import to `to` only from one of `from` (e.g. processing → completed, never cancelled → completed);
     * undefined when the row was in another state.
     */
    async transition(id: string, from: ScanImportStatus[], to: ScanImportStatus, patch: ScanImportPatch = {}): Promise<ScanImportRow | undefined> {
      return db.updateTable('scan_imports').set({ ...patch, status: to, updated_at: new Date() })
        .where('id', '=', id).where('status', 'in', from).returningAll().executeTakeFirst()
    },

    async appendLog(importId: string, level: string, message: string, at = new Date()): Promise<void> {
      await db.insertInto('scan_import_logs').values({ import_id: importId, level, message, at }).execute()
    },

    /** The newest `n` log lines of each import, oldest first. */
    async recentLogs(importIds: string[], n: number): Promise<Map<string, { at: Date; level: string; message: string }[]>> {
      const out = new Map<string, { at: Date; level: string; message: string }[]>()
      if (importIds.length === 0) return out
      const rows = await sql<{ import_id: string; at: Date; level: string; message: string }>`
        select import_id, at, level, message from (
          select import_id, seq, at, level, message, row_number() over (partition by import_id order by seq desc) as rn
          from scan_import_logs where import_id in (${sql.join(importIds)})
        ) x where rn <= ${n} order by import_id, seq`.execute(db)
      for (const r of rows.rows) {
        const list = out.get(r.import_id) ?? []
        list.push({ at: new Date(r.at), level: r.level, message: r.message })
        out.set(r.import_id, list)
      }
      return out
    },

    async statusCounts(tenantId: string): Promise<Record<string, number>> {
      const rows = await db.selectFrom('scan_imports').select(['status', (eb) => eb.fn.countAll<string>().as('n')])
        .where('tenant_id', '=', tenantId).groupBy('status').execute()
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
    },

    /**
     * One batch of an import, set-based: upserts the assets, then the findings (de-duplicated by fingerprint per
     * tenant; a known finding gets the new details, last_seen and its occurrences added). Returns how many findings
     * were new and how many already known.
     */
    async writeBatch(tenantId: string, importId: string, scanner: string, now: Date, assets: StoreAsset[], findings: StoreFinding[]): Promise<BatchWriteResult> {
      return db.transaction().execute(async (trx) => {
        const assetRows = assets.length === 0 ? [] : (await sql<{ id: string; ref: string }>`
          insert into assets (tenant_id, ref, type, name, attributes, first_seen, last_seen)
          select ${tenantId}::uuid, ref, type, name, attributes, ${now}::timestamptz, ${now}::timestamptz
          from jsonb_to_recordset(${pgJson(assets.map((a) => ({ ref: a.ref, type: a.type, name: a.name, attributes: { ...a.attributes, ...(a.tags.length ? { tags: a.tags } : {}) } })))}::jsonb)
            as x(ref text, type text, name text, attributes jsonb)
          on conflict (tenant_id, ref) do update set
            type = case when assets.type in ('unknown', 'host') then excluded.type else assets.type end,
            attributes = assets.attributes || excluded.attributes,
            last_seen = greatest(assets.last_seen, excluded.last_seen), updated_at = now()
          returning id, ref`.execute(trx)).rows
        if (findings.length === 0) return { inserted: 0, updated: 0, assetIds: assetRows.map((r) => r.id) }
        const rows = pgJson(findings.map((f) => ({
          fingerprint: f.fingerprint, external_id: f.externalId, title: f.title, description: f.description, severity: f.severity,
          severity_rank: f.severityRank, status: f.status, asset_ref: f.assetRef, recommendation: f.recommendation,
          metadata: f.metadata, occurrences: f.occurrences,
        })))
        const result = await sql<{ inserted: boolean }>`
          insert into findings (tenant_id, fingerprint, source, scanner, last_import_id, external_id, title, description, severity,
                                severity_rank, status, asset_id, asset_ref, recommendation, metadata, first_seen, last_seen, occurrences)
          select ${tenantId}::uuid, x.fingerprint, ${SCAN_SOURCE}, ${scanner}, ${importId}, x.external_id, x.title, x.description,
                 x.severity, x.severity_rank, x.status, a.id, x.asset_ref, x.recommendation, x.metadata,
                 ${now}::timestamptz, ${now}::timestamptz, x.occurrences
          from jsonb_to_recordset(${rows}::jsonb) as x(fingerprint text, external_id text, title text, description text,
            severity text, severity_rank smallint, status text, asset_ref text, recommendation text, metadata jsonb, occurrences int)
          left join assets a on a.tenant_id = ${tenantId}::uuid and a.ref = x.asset_ref
          on conflict (tenant_id, fingerprint) do update set
            title = excluded.title, description = excluded.description, severity = excluded.severity,
            severity_rank = excluded.severity_rank,
            -- A finding a person triaged (false positive, risk accepted) keeps that status; a fixed one reopens.
            status = case when findings.status in ('false_positive', 'risk_accepted') and excluded.status = 'open' then findings.status else excluded.status end,
            asset_id = excluded.asset_id, asset_ref = excluded.asset_ref, recommendation = excluded.recommendation,
            metadata = excluded.metadata, scanner = excluded.scanner, last_import_id = excluded.last_import_id,
            last_seen = greatest(findings.last_seen, excluded.last_seen),
            occurrences = findings.occurrences + excluded.occurrences, updated_at = now()
          returning (xmax = 0) as inserted`.execute(trx)
        const inserted = result.rows.filter((r) => r.inserted).length
        return { inserted, updated: result.rows.length - inserted, assetIds: assetRows.map((r) => r.id) }
      })
    },

    /**
     * `delta` imports: open findings of the same scanner on the imported assets that this import did not report
     * are closed. Returns how many.
     */
    async closeAbsent(tenantId: string, importId: string, scanner: string, assetIds: string[]): Promise<number> {
      if (assetIds.length === 0) return 0
      const r = await db.updateTable('findings')
        .set({ status: 'closed', updated_at: new Date() })
        .where('tenant_id', '=', tenantId).where('source', '=', SCAN_SOURCE).where('scanner', '=', scanner)
        .where('asset_id', 'in', assetIds).where('status', 'in', ['open', 'in_progress'])
        .where((eb) => eb.or([eb('last_import_id', 'is', null), eb('last_import_id', '<>', importId)]))
        .executeTakeFirst()
      return Number(r.numUpdatedRows)
    },

    /** Finished imports that ended before `before`, with their log lines (cascade); returns how many. */
    async purgeFinished(before: Date): Promise<number> {
      const r = await db.deleteFrom('scan_imports').where('status', 'in', ['completed', 'failed', 'cancelled']).where('completed_at', '<', before).executeTakeFirst()
      return Number(r.numDeletedRows)
    },

    /** `just_tags`: merges the file's tags into assets already in the store; creates nothing. */
    async writeTagsOnly(tenantId: string, assets: StoreAsset[]): Promise<BatchWriteResult> {
      if (assets.length === 0) return { inserted: 0, updated: 0, assetIds: [] }
      const rows = await sql<{ id: string }>`
        update assets a set
          attributes = jsonb_set(a.attributes, '{tags}', (
            select coalesce(jsonb_agg(distinct t), '[]'::jsonb)
            from jsonb_array_elements(coalesce(a.attributes->'tags', '[]'::jsonb) || x.tags) as t)),
          updated_at = now()
        from jsonb_to_recordset(${pgJson(assets.map((x) => ({ ref: x.ref, tags: x.tags })))}::jsonb) as x(ref text, tags jsonb)
        where a.tenant_id = ${tenantId}::uuid and a.ref = x.ref
        returning a.id`.execute(db)
      return { inserted: 0, updated: 0, assetIds: rows.rows.map((r) => r.id) }
    },
  }
}
export type ScansRepository = ReturnType<typeof scansRepository>
