import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import type { Database } from '../../src/platform/db/database.js'

/** Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what = 'condition', timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export interface Deferred<T = void> { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void }
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** Resolves when `signal` aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason)
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
  })
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`

export async function insertTenant(db: Database): Promise<string> {
  const row = await db.insertInto('tenants').values({ slug: uniqueName('jobs'), name: 'Jobs test' }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

/** A job row written directly, as another (possibly dead) process would have left it. */
export async function insertJobRow(db: Database, row: {
  queue: string; name: string; payload: unknown; state: 'queued' | 'running'; attempts?: number; maxAttempts?: number
  lockedBy?: string; leaseExpiredMsAgo?: number; tenantId?: string | null
}): Promise<string> {
  const res = await sql<{ id: string }>`
    insert into jobs (tenant_id, queue, name, payload, state, attempts, max_attempts, backoff_ms, timeout_ms, locked_by, locked_until, started_at)
    values (${row.tenantId ?? null}::uuid, ${row.queue}, ${row.name}, ${JSON.stringify(row.payload)}::jsonb, ${row.state},
            ${row.attempts ?? 0}::int, ${row.maxAttempts ?? 3}::int, 10, 10000,
            ${row.lockedBy ?? null},
            ${row.state === 'running' ? sql`now() - (${row.leaseExpiredMsAgo ?? 1000}::int * interval '1 millisecond')` : sql`null`},
            ${row.state === 'running' ? sql`now() - interval '1 minute'` : sql`null`})
    returning id`.execute(db)
  return res.rows[0]!.id
}
