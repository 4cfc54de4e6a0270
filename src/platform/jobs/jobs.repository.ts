import { sql, type Selectable } from 'kysely'
import type { Database } from '../db/database.js'
import type { JobsTable, JobState } from '../db/schema.js'
import { CANCELLABLE_STATES, FINISHED_STATES, fromState } from './state.js'
import type { JobRecord } from './types.js'
import { pgJson } from '../db/storable-text.js'

export type JobRow = Selectable<JobsTable>

/** Identifies one claim of a row: the owner and the attempt it claimed. Finishing writes match all three. */
export interface Fence { id: string; lockedBy: string; attempts: number }

export interface NewJob {
  id: string
  tenantId: string | null
  queue: string
  name: string
  payload: unknown
  maxAttempts: number
  backoffMs: number
  timeoutMs: number
  runAt: Date | undefined
  delayMs: number
}

/** Which rows a worker may touch: those of the job definitions it has registered. */
export interface Scope { queues: string[]; names: string[] }

export type ClaimOne =
  | { kind: 'claimed'; row: JobRow }
  | { kind: 'not_due'; waitMs: number }
  | { kind: 'gone' }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isJobId = (id: string): boolean => UUID.test(id)

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString())
const isoOrNull = (v: Date | string | null): string | null => (v === null ? null : iso(v))

export function toJobRecord(row: JobRow): JobRecord {
  return {
    id: row.id, tenant_id: row.tenant_id, queue: row.queue, name: row.name, payload: row.payload, state: row.state,
    attempts: row.attempts, max_attempts: row.max_attempts, progress: row.progress, result: row.result,
    last_error: row.last_error, cancel_requested: row.cancel_requested,
    created_at: iso(row.created_at), updated_at: iso(row.updated_at), started_at: isoOrNull(row.started_at),
    finished_at: isoOrNull(row.finished_at), run_at: iso(row.run_at),
  }
}

const ms = (n: number) => sql`(${Math.max(0, Math.round(n))}::bigint * interval '1 millisecond')`

function tenantFilter(tenantId: string | null | undefined) {
  if (tenantId === undefined) return sql`true`
  if (tenantId === null) return sql`tenant_id is null`
  return UUID.test(tenantId) ? sql`tenant_id = ${tenantId}::uuid` : sql`false`
}

const MAX_ERROR_LENGTH = 4000

export function jobRepository(db: Database) {
  return {
    async insert(job: NewJob): Promise<JobRow> {
      const base = job.runAt ? sql`${job.runAt.toISOString()}::timestamptz` : sql`now()`
      const res = await sql<JobRow>`
        insert into jobs (id, tenant_id, queue, name, payload, state, max_attempts, backoff_ms, timeout_ms, run_at)
        values (${job.id}::uuid, ${job.tenantId}::uuid, ${job.queue}, ${job.name}, ${pgJson(job.payload)}::jsonb, 'queued',
                ${job.maxAttempts}::int, ${job.backoffMs}::int, ${job.timeoutMs}::int, ${base} + ${ms(job.delayMs)})
        returning *`.execute(db)
      return res.rows[0]!
    },

    /** Claims up to `limit` due rows, oldest first; rows another worker is claiming are skipped, not waited for. */
    async claimDue(scope: Scope, lockedBy: string, leaseMs: number, limit: number): Promise<JobRow[]> {
      if (limit <= 0 || scope.names.length === 0) return []
      const res = await sql<JobRow>`
        update jobs set state = 'running', locked_by = ${lockedBy}, locked_until = now() + ${ms(leaseMs)},
               attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()
        where id in (
          select id from jobs
          where state = ${fromState('queued', 'running')} and queue = any(${scope.queues}::text[])
            and name = any(${scope.names}::text[]) and run_at <= now()
          order by run_at
          limit ${limit}::int
          for update skip locked)
        returning *`.execute(db)
      return res.rows
    },

    /** Claims one row that a dispatcher (BullMQ) handed over; says how long to wait when it is not due yet. */
    async claimOne(id: string, scope: Scope, lockedBy: string, leaseMs: number): Promise<ClaimOne> {
      if (!UUID.test(id)) return { kind: 'gone' }
      const res = await sql<JobRow>`
        update jobs set state = 'running', locked_by = ${lockedBy}, locked_until = now() + ${ms(leaseMs)},
               attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()
        where id = ${id}::uuid and state = ${fromState('queued', 'running')} and run_at <= now()
          and name = any(${scope.names}::text[])
        returning *`.execute(db)
      const row = res.rows[0]
      if (row) return { kind: 'claimed', row }
      const left = await sql<{ wait_ms: number }>`
        select greatest(0, extract(epoch from run_at - now()) * 1000)::float8 as wait_ms
        from jobs where id = ${id}::uuid and state = 'queued' and run_at > now()`.execute(db)
      const wait = left.rows[0]
      return wait ? { kind: 'not_due', waitMs: Math.ceil(Number(wait.wait_ms)) } : { kind: 'gone' }
    },

    /** Extends the leases this worker still holds; reports which it holds and whether cancellation was asked. */
    async renewLeases(lockedBy: string, ids: string[], leaseMs: number): Promise<{ id: string; attempts: number; cancel_requested: boolean }[]> {
      if (ids.length === 0) return []
      const res = await sql<{ id: string; attempts: number; cancel_requested: boolean }>`
        update jobs set locked_until = now() + ${ms(leaseMs)}
        where id = any(${ids}::uuid[]) and state = 'running' and locked_by = ${lockedBy}
        returning id, attempts, cancel_requested`.execute(db)
      return res.rows
    },

    async setProgress(fence: Fence, progress: string): Promise<boolean> {
      const res = await sql`
        update jobs set progress = ${progress}::jsonb, updated_at = now()
        where id = ${fence.id}::uuid and state = 'running' and locked_by = ${fence.lockedBy} and attempts = ${fence.attempts}::int`.execute(db)
      return Number(res.numAffectedRows ?? 0) > 0
    },

    /** Success; a cancellation asked for meanwhile wins. */
    async complete(fence: Fence, result: string | null): Promise<JobRow | undefined> {
      const res = await sql<JobRow>`
        update jobs set state = case when cancel_requested then 'cancelled' else 'completed' end,
               result = case when cancel_requested then null else ${result}::jsonb end,
               finished_at = now(), locked_by = null, locked_until = null, updated_at = now()
        where id = ${fence.id}::uuid and state = ${fromState('running', 'completed', 'cancelled')}
          and locked_by = ${fence.lockedBy} and attempts = ${fence.attempts}::int
        returning *`.execute(db)
      return res.rows[0]
    },

    /** A failed attempt: queued again after `backoffMs` while attempts remain and `retry` holds, else failed. */
    async fail(fence: Fence, error: string, retry: boolean, backoffMs: number): Promise<JobRow | undefined> {
      const again = sql`(not cancel_requested and ${retry}::boolean and attempts < max_attempts)`
      const res = await sql<JobRow>`
        update jobs set
          state = case when cancel_requested then 'cancelled' when ${again} then 'queued' else 'failed' end,
          last_error = ${error.slice(0, MAX_ERROR_LENGTH)},
          run_at = case when ${again} then now() + ${ms(backoffMs)} else run_at end,
          finished_at = case when ${again} then null else now() end,
          locked_by = null, locked_until = null, updated_at = now()
        where id = ${fence.id}::uuid and state = ${fromState('running', 'queued', 'failed', 'cancelled')}
          and locked_by = ${fence.lockedBy} and attempts = ${fence.attempts}::int
        returning *`.execute(db)
      return res.rows[0]
    },

    async finishCancelled(fence: Fence): Promise<JobRow | undefined> {
      const res = await sql<JobRow>`
        update jobs set state = 'cancelled', finished_at = now(), locked_by = null, locked_until = null, updated_at = now()
        where id = ${fence.id}::uuid and state = ${fromState('running', 'cancelled')}
          and locked_by = ${fence.lockedBy} and attempts = ${fence.attempts}::int
        returning *`.execute(db)
      return res.rows[0]
    },

    /**
     * Running rows whose lease expired (their worker stopped or died): queued again at once while attempts
     * remain (the interrupted attempt counts, so a job that kills its worker cannot loop forever), else failed;
     * cancelled if that was asked for.
     */
    async recoverExpired(scope: Scope, limit = 500): Promise<JobRow[]> {
      if (scope.names.length === 0) return []
      const again = sql`(not cancel_requested and attempts < max_attempts)`
      const res = await sql<JobRow>`
        update jobs set
          state = case when cancel_requested then 'cancelled' when ${again} then 'queued' else 'failed' end,
          last_error = case when cancel_requested then last_error
                            else 'attempt ' || attempts || ' was interrupted: its worker stopped renewing the lease' end,
          run_at = case when ${again} then now() else run_at end,
          finished_at = case when ${again} then null else now() end,
          locked_by = null, locked_until = null, updated_at = now()
        where id in (
          select id from jobs
          where state = ${fromState('running', 'queued', 'failed', 'cancelled')} and locked_until < now()
            and queue = any(${scope.queues}::text[]) and name = any(${scope.names}::text[])
          order by locked_until
          limit ${limit}::int
          for update skip locked)
        returning *`.execute(db)
      return res.rows
    },

    /** Queued rows of the scope, by id, for re-dispatch (BullMQ reconciliation). */
    async queued(scope: Scope, opts: { afterId?: string | undefined; dueBefore?: Date | undefined; limit: number }): Promise<JobRow[]> {
      if (scope.names.length === 0) return []
      const res = await sql<JobRow>`
        select * from jobs
        where state = 'queued' and queue = any(${scope.queues}::text[]) and name = any(${scope.names}::text[])
          and ${opts.afterId ? sql`id > ${opts.afterId}::uuid` : sql`true`}
          and ${opts.dueBefore ? sql`run_at < ${opts.dueBefore.toISOString()}::timestamptz` : sql`true`}
        order by id
        limit ${opts.limit}::int`.execute(db)
      return res.rows
    },

    /**
     * queued → cancelled in place; running → cancel_requested (the worker finishes the move). One statement, so a
     * job claimed meanwhile is flagged rather than missed.
     */
    async cancel(id: string, tenantId: string | null | undefined): Promise<{ outcome: 'cancelled' | 'cancelling'; row: JobRow } | { outcome: 'not_found' | 'finished' }> {
      if (!UUID.test(id)) return { outcome: 'not_found' }
      fromState('queued', 'cancelled')
      const res = await sql<JobRow>`
        update jobs set
          state = case when state = 'queued' then 'cancelled' else state end,
          finished_at = case when state = 'queued' then now() else finished_at end,
          cancel_requested = true, updated_at = now()
        where id = ${id}::uuid and ${tenantFilter(tenantId)} and state = any(${[...CANCELLABLE_STATES]}::text[])
        returning *`.execute(db)
      const row = res.rows[0]
      if (row) return { outcome: row.state === 'cancelled' ? 'cancelled' : 'cancelling', row }
      const exists = await sql`select 1 from jobs where id = ${id}::uuid and ${tenantFilter(tenantId)}`.execute(db)
      return { outcome: exists.rows.length > 0 ? 'finished' : 'not_found' }
    },

    async get(id: string, tenantId: string | null | undefined): Promise<JobRow | undefined> {
      if (!UUID.test(id)) return undefined
      const res = await sql<JobRow>`select * from jobs where id = ${id}::uuid and ${tenantFilter(tenantId)}`.execute(db)
      return res.rows[0]
    },

    async list(opts: { tenantId: string | null; states?: readonly JobState[] | undefined; name?: string | undefined; limit: number; offset: number }): Promise<{ total: number; rows: JobRow[] }> {
      const where = sql`${tenantFilter(opts.tenantId)}
        and ${opts.states ? sql`state = any(${[...opts.states]}::text[])` : sql`true`}
        and ${opts.name !== undefined ? sql`name = ${opts.name}` : sql`true`}`
      const [count, page] = await Promise.all([
        sql<{ n: number }>`select count(*)::int as n from jobs where ${where}`.execute(db),
        sql<JobRow>`select * from jobs where ${where} order by created_at desc, id desc
                    limit ${opts.limit}::int offset ${opts.offset}::int`.execute(db),
      ])
      return { total: Number(count.rows[0]?.n ?? 0), rows: page.rows }
    },

    /** Deletes finished rows older than `olderThan`, in batches so no statement holds many row locks. */
    async purgeFinished(olderThan: Date, batchSize = 5000): Promise<number> {
      let total = 0
      for (;;) {
        const res = await sql`
          delete from jobs where id in (
            select id from jobs where state = any(${[...FINISHED_STATES]}::text[])
              and finished_at < ${olderThan.toISOString()}::timestamptz
            limit ${batchSize}::int)`.execute(db)
        const n = Number(res.numAffectedRows ?? 0)
        total += n
        if (n < batchSize) return total
      }
    },
  }
}
export type JobRepository = ReturnType<typeof jobRepository>
