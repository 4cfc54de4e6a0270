import { sql, type RawBuilder } from 'kysely'
import type { Database } from './db/database.js'
import { AppError, ConflictError, ValidationError } from './errors.js'
import { canonicalJson } from './util/canonical-json.js'
import { sha256Hex } from './util/hash.js'
import { pgJson } from './db/storable-text.js'

/**
 * Idempotency-Key with Stripe's semantics, for any POST: keys up to 255 characters, scoped per tenant and
 * endpoint, kept for VV_IDEMPOTENCY_TTL_HOURS. The first request claims the key (a row in state in_progress);
 * its response is stored in the same statement as its writes, then replayed for the same key and body.
 * A different body → 409 idempotency_conflict; the same key while the first is still running → 409
 * idempotency_in_progress. Requests rejected before execution (auth, validation) claim nothing.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key'
const MAX_KEY_LENGTH = 255
/** A claim left by a crashed process is taken over after this long. */
const CLAIM_LEASE_SECONDS = 60

export interface StoredResponse { status: number; body: string; headers: Record<string, string> }
export type Claim =
  | { kind: 'claimed'; tenantId: string; endpoint: string; key: string }
  | { kind: 'replay'; response: StoredResponse }

export interface Completion { tenantId: string; endpoint: string; key: string; response: StoredResponse }

export function requestHash(body: unknown): string {
  return sha256Hex(canonicalJson(body ?? null))
}

/** Reads and checks the header; undefined when absent. */
export function idempotencyKeyFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers[IDEMPOTENCY_HEADER]
  if (raw === undefined) return undefined
  const key = (Array.isArray(raw) ? raw[0] ?? '' : raw).trim()
  if (key === '') return undefined
  if (key.length > MAX_KEY_LENGTH) {
    throw new ValidationError(`Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters`, [{ field: 'Idempotency-Key', message: `must be at most ${MAX_KEY_LENGTH} characters` }])
  }
  return key
}

export function createIdempotencyService(db: Database, ttlHours: number) {
  return {
    async claim(tenantId: string, endpoint: string, key: string, hash: string): Promise<Claim> {
      const claimed = await sql<{ ok: number }>`
        insert into idempotency_keys (tenant_id, endpoint, key, request_hash, state, locked_until, expires_at)
        values (${tenantId}, ${endpoint}, ${key}, ${hash}, 'in_progress',
                now() + make_interval(secs => ${CLAIM_LEASE_SECONDS}), now() + make_interval(hours => ${ttlHours}))
        on conflict (tenant_id, endpoint, key) do update set
          request_hash = excluded.request_hash, state = 'in_progress', locked_until = excluded.locked_until,
          expires_at = excluded.expires_at, created_at = now(), response_status = null, response_body = null, response_headers = null
        where idempotency_keys.expires_at < now()
           or (idempotency_keys.state = 'in_progress' and idempotency_keys.locked_until < now()
               and idempotency_keys.request_hash = excluded.request_hash)
        returning 1 as ok`.execute(db)
      if (claimed.rows.length === 1) return { kind: 'claimed', tenantId, endpoint, key }
      const row = await db.selectFrom('idempotency_keys').selectAll()
        .where('tenant_id', '=', tenantId).where('endpoint', '=', endpoint).where('key', '=', key).executeTakeFirst()
      if (!row) throw new AppError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key is being processed; retry shortly')
      if (row.request_hash !== hash) {
        throw new ConflictError('Idempotency-Key was already used with a different payload', 'idempotency_conflict')
      }
      if (row.state === 'in_progress' || row.response_status === null || row.response_body === null) {
        throw new ConflictError('A request with this Idempotency-Key is still being processed; retry shortly', 'idempotency_in_progress')
      }
      return { kind: 'replay', response: { status: row.response_status, body: row.response_body, headers: (row.response_headers ?? {}) as Record<string, string> } }
    },

    /** Releases a claim whose request failed before it completed, so a retry can run. */
    async release(c: { tenantId: string; endpoint: string; key: string }): Promise<void> {
      await db.deleteFrom('idempotency_keys').where('tenant_id', '=', c.tenantId).where('endpoint', '=', c.endpoint)
        .where('key', '=', c.key).where('state', '=', 'in_progress').execute()
    },

    async purgeExpired(): Promise<number> {
      const r = await db.deleteFrom('idempotency_keys').where('expires_at', '<', new Date()).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
export type IdempotencyService = ReturnType<typeof createIdempotencyService>

/** A CTE storing completed responses, for the caller's single write statement (one CTE for many). */
export function idempotencyCompletionCte(completions: Completion[]): RawBuilder<unknown> | undefined {
  if (completions.length === 0) return undefined
  const rows = pgJson(completions.map((c) => ({
    tenant_id: c.tenantId, endpoint: c.endpoint, key: c.key, status: c.response.status, body: c.response.body, headers: c.response.headers,
  })))
  return sql`idempotency_done as (
    update idempotency_keys k set state = 'completed', response_status = x.status, response_body = x.body, response_headers = x.headers
    from jsonb_to_recordset(${rows}::jsonb) as x(tenant_id uuid, endpoint text, key text, status int, body text, headers jsonb)
    where k.tenant_id = x.tenant_id and k.endpoint = x.endpoint and k.key = x.key returning 1)`
}
