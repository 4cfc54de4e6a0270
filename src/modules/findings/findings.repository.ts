import { sql, type SelectQueryBuilder } from 'kysely'
import type { Database, DB } from '../../platform/db/database.js'
import { isUuid } from '../../platform/auth/identity.repository.js'
import type { EventsQuery, FindingsQuery } from './findings.schemas.js'

export interface Page<T> { data: T[]; pagination: { page: number; per_page: number; total: number; total_pages: number } }

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
const csv = (s: string | undefined) => (s ? s.split(',').filter(Boolean) : undefined)

async function paginate<T, O>(base: SelectQueryBuilder<DB, keyof DB, O>, page: number, perPage: number, map: (row: O) => T): Promise<Page<T>> {
  const [rows, count] = await Promise.all([
    base.limit(perPage).offset((page - 1) * perPage).execute(),
    base.clearSelect().clearOrderBy().select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow() as Promise<{ n: number }>,
  ])
  const total = Number(count.n)
  return { data: rows.map(map), pagination: { page, per_page: perPage, total, total_pages: Math.ceil(total / perPage) } }
}

const iso = (d: Date) => d.toISOString()

export function findingsRepository(db: Database) {
  const findingRow = (r: Record<string, unknown>) => ({
    id: r.id as string, source: r.source as string, external_id: r.external_id as string | null, fingerprint: r.fingerprint as string,
    title: r.title as string, description: r.description as string | null, severity: r.severity as string, status: r.status as string,
    asset_id: r.asset_id as string | null, asset_ref: r.asset_ref as string | null, recommendation: r.recommendation as string | null,
    metadata: r.metadata as Record<string, unknown>, first_seen: iso(r.first_seen as Date), last_seen: iso(r.last_seen as Date),
    occurrences: Number(r.occurrences), created_at: iso(r.created_at as Date), updated_at: iso(r.updated_at as Date),
  })
  const eventRow = (r: Record<string, unknown>) => ({
    event_id: r.event_id as string, source: r.source as string, source_system: r.source_system as string, event_type: r.event_type as string,
    occurred_at: iso(r.occurred_at as Date), severity: r.severity as string, asset_ref: r.asset_ref as string | null,
    message: r.message as string | null, metadata: r.metadata as Record<string, unknown>, request_id: r.request_id as string | null,
    received_at: iso(r.received_at as Date),
  })

  return {
    async listFindings(tenantId: string, q: FindingsQuery) {
      let query = db.selectFrom('findings').selectAll().where('tenant_id', '=', tenantId)
      const severities = csv(q.severity)
      if (severities) query = query.where('severity', 'in', severities)
      const statuses = csv(q.status)
      if (statuses) query = query.where('status', 'in', statuses)
      const sources = csv(q.source)
      if (sources) query = query.where('source', 'in', sources)
      if (q.asset) {
        const asset = q.asset
        query = isUuid(asset) ? query.where((eb) => eb.or([eb('asset_id', '=', asset), eb('asset_ref', '=', asset)])) : query.where('asset_ref', '=', asset)
      }
      if (q.q) {
        const pattern = likePattern(q.q)
        query = query.where((eb) => eb.or([eb('title', 'ilike', pattern), eb('description', 'ilike', pattern), eb('external_id', 'ilike', pattern)]))
      }
      if (q.since) query = query.where('last_seen', '>=', new Date(q.since))
      if (q.until) query = query.where('last_seen', '<', new Date(q.until))
      const column = q.sort === 'severity' ? 'severity_rank' : q.sort
      query = query.orderBy(column, q.order).orderBy('id', q.order)
      return paginate(query, q.page, q.per_page, (r) => findingRow(r as unknown as Record<string, unknown>))
    },

    async getFinding(tenantId: string, id: string) {
      if (!isUuid(id)) return undefined
      const r = await db.selectFrom('findings').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      return r ? findingRow(r as unknown as Record<string, unknown>) : undefined
    },

    async listEvents(tenantId: string, q: EventsQuery) {
      let query = db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId)
      const severities = csv(q.severity)
      if (severities) query = query.where('severity', 'in', severities)
      const sources = csv(q.source)
      if (sources) query = query.where('source', 'in', sources)
      if (q.source_system) query = query.where('source_system', '=', q.source_system)
      if (q.event_type) query = query.where('event_type', '=', q.event_type)
      if (q.asset) query = query.where('asset_ref', '=', q.asset)
      if (q.q) query = query.where('message', 'ilike', likePattern(q.q))
      if (q.since) query = query.where('occurred_at', '>=', new Date(q.since))
      if (q.until) query = query.where('occurred_at', '<', new Date(q.until))
      const column = q.sort === 'severity' ? 'severity_rank' : q.sort
      query = query.orderBy(column, q.order).orderBy('event_id', q.order)
      return paginate(query, q.page, q.per_page, (r) => eventRow(r as unknown as Record<string, unknown>))
    },

    async getEvent(tenantId: string, eventId: string) {
      const r = await db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId).where('event_id', '=', eventId).executeTakeFirst()
      return r ? eventRow(r as unknown as Record<string, unknown>) : undefined
    },
  }
}
export type FindingsRepository = ReturnType<typeof findingsRepository>
