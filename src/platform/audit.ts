import { sql, type RawBuilder } from 'kysely'
import type { Database } from './db/database.js'
import { storableJson, storableText } from './db/storable-text.js'
import { canonicalJson } from './util/canonical-json.js'
import { GroupCommitter } from './util/group-commit.js'
import { sha256Hex } from './util/hash.js'

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

/** The stored fields of an entry, as hashed. */
interface EntryFields {
  tenant_id: string; seq: number; occurred_at: Date; action: string; outcome: string; actor_type: string
  actor_id: string | null; resource_type: string | null; resource_id: string | null; request_id: string | null
}

/** A row as read back from audit_log. */
interface ChainedRow extends EntryFields { details: Record<string, unknown>; prev_hash: string; hash: string }

/** A row being appended: its details already in canonical JSON, which is both hashed and stored. */
interface PendingRow extends EntryFields { details_json: string; prev_hash: string; hash: string }

const str = (v: string | null) => (v === null ? 'null' : JSON.stringify(v))
const nullableText = (v: string | null | undefined) => (v === undefined || v === null ? null : storableText(v))

/**
 * canonicalJson of the entry's fields with `detailsJson` (canonical already) as its details: the keys written in
 * sorted order directly, so the details are not canonicalised twice on the write path.
 */
function entryBody(f: EntryFields, detailsJson: string): string {
  return `{"action":${str(f.action)},"actor_id":${str(f.actor_id)},"actor_type":${str(f.actor_type)},"details":${detailsJson},`
    + `"occurred_at":${str(f.occurred_at.toISOString())},"outcome":${str(f.outcome)},"request_id":${str(f.request_id)},`
    + `"resource_id":${str(f.resource_id)},"resource_type":${str(f.resource_type)},"seq":${f.seq},"tenant_id":${str(f.tenant_id)}}`
}

/** The hash of one entry: over the previous hash and the canonical JSON of every stored field. */
export function auditHash(prevHash: string, row: EntryFields & { details: unknown }): string {
  return sha256Hex(`${prevHash}\n${entryBody(row, canonicalJson(row.details))}`)
}

/** The chain tip of one tenant. */
interface Head { seq: number; hash: string }

/** Column list and record type shared by every statement that appends audit rows. */
const AUDIT_COLUMNS = sql`tenant_id, seq, occurred_at, action, outcome, actor_type, actor_id, resource_type, resource_id, request_id, details, prev_hash, hash`
const AUDIT_RECORD = sql`x(tenant_id uuid, seq bigint, occurred_at timestamptz, action text, outcome text, actor_type text, actor_id text,
  resource_type text, resource_id text, request_id text, details jsonb, prev_hash text, hash text)`

/**
 * Appends hash-chained entries with optimistic concurrency, so a writer needs no lock round trip to the
 * database: the tips of the chains are cached in-process and the new rows are computed on them. If another process
 * appended first, the insert hits the (tenant_id, seq) primary key (waiting for that process to commit), the
 * transaction rolls back as a whole, and it is retried on fresh tips.
 */
export function createAuditChain(db: Database) {
  const heads = new Map<string, Head>()
  let tail: Promise<unknown> = Promise.resolve()

  /** Reads missing tips through the given connection (PGlite has only one, which may be inside a transaction). */
  async function loadHeads(conn: Database, tenants: string[]) {
    const missing = tenants.filter((t) => !heads.has(t))
    if (missing.length === 0) return
    const rows = await conn.selectFrom('audit_heads').select(['tenant_id', 'seq', 'hash']).where('tenant_id', 'in', missing).execute()
    for (const t of missing) heads.set(t, { seq: 0, hash: GENESIS_HASH })
    for (const r of rows) heads.set(r.tenant_id, { seq: Number(r.seq), hash: r.hash })
  }

  function chain(entries: AuditEntry[]): { rows: PendingRow[]; tips: Map<string, Head> } {
    const tips = new Map<string, Head>()
    const rows: PendingRow[] = []
    const now = new Date()
    for (const e of entries) {
      const head = tips.get(e.tenantId) ?? heads.get(e.tenantId)!
      // Hashed as stored: NULs (which PostgreSQL cannot hold) are replaced before hashing, or verify would fail.
      const fields: EntryFields = {
        tenant_id: e.tenantId, seq: head.seq + 1, occurred_at: e.occurredAt ?? now, action: e.action, outcome: e.outcome,
        actor_type: e.actorType, actor_id: nullableText(e.actorId), resource_type: nullableText(e.resourceType),
        resource_id: nullableText(e.resourceId), request_id: nullableText(e.requestId),
      }
      const details_json = storableJson(canonicalJson(e.details ?? {}))
      const hash = sha256Hex(`${head.hash}\n${entryBody(fields, details_json)}`)
      rows.push({ ...fields, details_json, prev_hash: head.hash, hash })
      tips.set(e.tenantId, { seq: fields.seq, hash })
    }
    return { rows, tips }
  }

  /** CTEs that insert the rows and move the tips; to be placed in the caller's WITH clause. */
  function ctes(rows: PendingRow[], tips: Map<string, Head>): RawBuilder<unknown>[] {
    if (rows.length === 0) return []
    // The JSON text written out directly: the details are canonical JSON already.
    const payload = `[${rows.map((r) => `{"tenant_id":${str(r.tenant_id)},"seq":${r.seq},"occurred_at":${str(r.occurred_at.toISOString())},`
      + `"action":${str(r.action)},"outcome":${str(r.outcome)},"actor_type":${str(r.actor_type)},"actor_id":${str(r.actor_id)},`
      + `"resource_type":${str(r.resource_type)},"resource_id":${str(r.resource_id)},"request_id":${str(r.request_id)},`
      + `"details":${r.details_json},"prev_hash":${str(r.prev_hash)},"hash":${str(r.hash)}}`).join(',')}]`
    const newHeads = JSON.stringify([...tips].map(([tenant_id, h]) => ({ tenant_id, seq: h.seq, hash: h.hash })))
    return [
      sql`audit_rows as (insert into audit_log (${AUDIT_COLUMNS}) select ${AUDIT_COLUMNS} from jsonb_to_recordset(${payload}::jsonb) as ${AUDIT_RECORD} returning 1)`,
      sql`audit_tips as (insert into audit_heads (tenant_id, seq, hash)
            select tenant_id, seq, hash from jsonb_to_recordset(${newHeads}::jsonb) as x(tenant_id uuid, seq bigint, hash text)
            on conflict (tenant_id) do update set seq = excluded.seq, hash = excluded.hash returning 1)`,
    ]
  }

  /** Runs fn while holding the in-process chain lock (appends of this process never race each other). */
  function locked<T>(fn: () => Promise<T>): Promise<T> {
    const result = tail.then(fn, fn)
    tail = result.catch(() => undefined)
    return result
  }

  const isChainConflict = (err: unknown) => (err as { code?: string }).code === '23505'
    && /audit_log_pkey/.test(String((err as { constraint?: string }).constraint ?? (err as Error).message))

  /** Reads missing tips, chains the entries on them and runs one statement: the caller's CTEs and the append. */
  async function appendStatement(conn: Database, entries: AuditEntry[], tenants: string[], data: RawBuilder<unknown>[]) {
    await loadHeads(conn, tenants)
    const { rows, tips } = chain(entries)
    await executeCtes(conn, [...data, ...ctes(rows, tips)])
    return tips
  }

  return {
    /**
     * Appends the entries and runs the caller's data-modifying CTEs atomically: everything commits or nothing does.
     * Entries are chained on the cached tips under the in-process lock. A conflicting append by another process
     * fails on the (tenant_id, seq) key, the whole write rolls back, and it is retried on fresh tips.
     *
     * Two plans, chosen by the caller from the size of its write:
     * - small writes (the default) run as one statement under the lock: one round trip, implicit transaction. The
     *   lock is held per statement, and callers group-commit, so many requests share each statement.
     * - `overlap: true` (large writes): BEGIN and the data statement run outside the lock, so several groups' data
     *   statements proceed in parallel on their own connections; only the append and COMMIT are serialised. Worth
     *   its four round trips only when the data statement is heavy.
     */
    async append(entries: AuditEntry[], data: RawBuilder<unknown>[] = [], opts: { overlap?: boolean } = {}): Promise<void> {
      const tenants = [...new Set(entries.map((e) => e.tenantId))]
      for (let attempt = 0; ; attempt++) {
        try {
          // Both plans take a connection before the lock, never the other way round: a writer holding the lock
          // while waiting for a connection would deadlock against writers holding connections while waiting for the
          // lock (PGlite has one connection; a small pool can run out just the same).
          if (!opts.overlap) {
            await db.connection().execute((conn) => locked(async () => {
              const tips = await appendStatement(conn, entries, tenants, data)
              for (const [t, h] of tips) heads.set(t, h)
            }))
          } else {
            await db.connection().execute(async (conn) => {
              await sql`begin`.execute(conn)
              try {
                await executeCtes(conn, data)
                await locked(async () => {
                  const tips = await appendStatement(conn, entries, tenants, [])
                  await sql`commit`.execute(conn)
                  for (const [t, h] of tips) heads.set(t, h)
                })
              } catch (err) {
                await sql`rollback`.execute(conn).catch(() => undefined)
                throw err
              }
            })
          }
          return
        } catch (err) {
          for (const t of tenants) heads.delete(t)
          if (!isChainConflict(err) || attempt >= 20) throw err
        }
      }
    },
  }
}
export type AuditChain = ReturnType<typeof createAuditChain>

/** One statement: `with <ctes> select 1`. */
export async function executeCtes(db: Database, ctes: RawBuilder<unknown>[]): Promise<void> {
  if (ctes.length === 0) return
  await sql`with ${sql.join(ctes, sql`, `)} select 1`.execute(db)
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
  /** The process's chain writer, for modules that append audit entries in the same statement as their data. */
  readonly chain: AuditChain
}

export function createAuditService(db: Database): AuditService {
  const chain = createAuditChain(db)
  const committer = new GroupCommitter<AuditEntry[], void>(async (groups) => {
    await chain.append(groups.flat())
    return groups.map(() => undefined)
  }, { maxUnits: 1000 })

  return {
    chain,
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
