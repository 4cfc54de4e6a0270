import { createHash } from 'node:crypto'
import { sql, type Transaction } from 'kysely'
import type { Database, DB } from './db/database.js'
import { canonicalJson } from './util/canonical-json.js'
import { GroupCommitter } from './util/group-commit.js'

export const SYSTEM_TENANT_ID = '00000000-0000-0000-0000-000000000000'
export const GENESIS_HASH = '0'.repeat(64)

export interface AuditEntry {
  tenantId: string
  action: string
  outcome: 'success' | 'failure' | 'partial' | 'denied'
  actorType: 'user' | 'api_key' | 'token' | 'system' | 'anonymous'
  actorId?: string | null
  resourceType?: string | null
  resourceId?: string | null
  requestId?: string | null
  details?: Record<string, unknown>
  occurredAt?: Date
}

interface ChainedRow {
  tenant_id: string; seq: number; occurred_at: Date; action: string; outcome: string; actor_type: string
  actor_id: string | null; resource_type: string | null; resource_id: string | null; request_id: string | null
  details: Record<string, unknown>; prev_hash: string; hash: string
}

/** The hash of one entry: over the previous hash and the canonical form of every stored field. */
export function auditHash(prevHash: string, row: Omit<ChainedRow, 'hash' | 'prev_hash'>): string {
  const body = canonicalJson({
    tenant_id: row.tenant_id, seq: row.seq, occurred_at: row.occurred_at.toISOString(), action: row.action,
    outcome: row.outcome, actor_type: row.actor_type, actor_id: row.actor_id, resource_type: row.resource_type,
    resource_id: row.resource_id, request_id: row.request_id, details: row.details,
  })
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex')
}

/**
 * Appends entries to their tenants' chains inside the caller's transaction, set-based: lock the chain heads,
 * compute the links in order, insert all rows in one statement, move the heads.
 */
export async function appendAuditEntries(trx: Transaction<DB>, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  const tenants = [...new Set(entries.map((e) => e.tenantId))].sort()
  await sql`insert into audit_heads (tenant_id, seq, hash)
            select t, 0, ${GENESIS_HASH} from unnest(${tenants}::uuid[]) as t
            on conflict (tenant_id) do nothing`.execute(trx)
  const heads = await sql<{ tenant_id: string; seq: number; hash: string }>`
    select tenant_id, seq, hash from audit_heads where tenant_id = any(${tenants}::uuid[]) order by tenant_id for update`.execute(trx)
  const tip = new Map(heads.rows.map((h) => [h.tenant_id, { seq: Number(h.seq), hash: h.hash }]))
  const rows: ChainedRow[] = []
  const now = new Date()
  for (const e of entries) {
    const head = tip.get(e.tenantId)!
    const base = {
      tenant_id: e.tenantId, seq: head.seq + 1, occurred_at: e.occurredAt ?? now, action: e.action, outcome: e.outcome,
      actor_type: e.actorType, actor_id: e.actorId ?? null, resource_type: e.resourceType ?? null,
      resource_id: e.resourceId ?? null, request_id: e.requestId ?? null,
      details: JSON.parse(canonicalJson(e.details ?? {})) as Record<string, unknown>,
    }
    const hash = auditHash(head.hash, base)
    rows.push({ ...base, prev_hash: head.hash, hash })
    tip.set(e.tenantId, { seq: base.seq, hash })
  }
  const payload = JSON.stringify(rows.map((r) => ({ ...r, occurred_at: r.occurred_at.toISOString() })))
  await sql`insert into audit_log (tenant_id, seq, occurred_at, action, outcome, actor_type, actor_id, resource_type,
                                   resource_id, request_id, details, prev_hash, hash)
            select tenant_id, seq, occurred_at, action, outcome, actor_type, actor_id, resource_type, resource_id,
                   request_id, details, prev_hash, hash
            from jsonb_to_recordset(${payload}::jsonb) as x(tenant_id uuid, seq bigint, occurred_at timestamptz,
              action text, outcome text, actor_type text, actor_id text, resource_type text, resource_id text,
              request_id text, details jsonb, prev_hash text, hash text)`.execute(trx)
  const newHeads = JSON.stringify([...tip].map(([tenant_id, h]) => ({ tenant_id, seq: h.seq, hash: h.hash })))
  await sql`update audit_heads h set seq = x.seq, hash = x.hash
            from jsonb_to_recordset(${newHeads}::jsonb) as x(tenant_id uuid, seq bigint, hash text)
            where h.tenant_id = x.tenant_id`.execute(trx)
}

export interface AuditVerifyResult {
  tenantId: string
  entries: number
  ok: boolean
  /** The first broken link: the sequence number and what is wrong with it. */
  brokenAt?: { seq: number; reason: string }
}

export interface AuditService {
  /** Records entries durably (group-committed with other concurrent entries). */
  record(...entries: AuditEntry[]): Promise<void>
  verify(tenantId: string): Promise<AuditVerifyResult>
  drain(): Promise<void>
}

export function createAuditService(db: Database): AuditService {
  const committer = new GroupCommitter<AuditEntry[], void>(async (groups) => {
    await db.transaction().execute((trx) => appendAuditEntries(trx, groups.flat()))
    return groups.map(() => undefined)
  }, { maxUnits: 1000 })

  return {
    async record(...entries) { await committer.submit(entries) },
    drain: () => committer.drain(),
    async verify(tenantId) {
      let prev = GENESIS_HASH
      let expectedSeq = 1
      let entries = 0
      const PAGE = 5000
      for (;;) {
        const rows = await db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId)
          .where('seq', '>=', expectedSeq).orderBy('seq').limit(PAGE).execute() as unknown as ChainedRow[]
        for (const r of rows) {
          const seq = Number(r.seq)
          if (seq !== expectedSeq) return { tenantId, entries, ok: false, brokenAt: { seq: expectedSeq, reason: `entry ${expectedSeq} is missing (next is ${seq})` } }
          if (r.prev_hash !== prev) return { tenantId, entries, ok: false, brokenAt: { seq, reason: 'prev_hash does not match the previous entry' } }
          const recomputed = auditHash(prev, { ...r, seq })
          if (recomputed !== r.hash) return { tenantId, entries, ok: false, brokenAt: { seq, reason: 'content does not match its hash (entry altered)' } }
          prev = r.hash
          expectedSeq++
          entries++
        }
        if (rows.length < PAGE) break
      }
      const head = await db.selectFrom('audit_heads').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
      if (head && (Number(head.seq) !== entries || head.hash !== prev)) {
        return { tenantId, entries, ok: false, brokenAt: { seq: Number(head.seq), reason: 'chain ends before the recorded head (entries removed)' } }
      }
      return { tenantId, entries, ok: true }
    },
  }
}
