import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { post, sampleEvent } from '../helpers/ingest.js'
import { auditHash } from '../../src/platform/audit.js'
import { canonicalJson } from '../../src/platform/util/canonical-json.js'

describe('audit trail', () => {
  let t: TestApp
  let tenant: TestTenant
  beforeAll(async () => {
    t = await createTestApp()
    tenant = await createTenant(t.platform)
    for (let i = 0; i < 5; i++) await post(t.app, '/events', sampleEvent({ message: `audit ${i}` }), await tenant.auth())
    await post(t.app, '/events', sampleEvent({ severity: 'nope' }), await tenant.auth())
  })
  afterAll(async () => { await t.close() })

  it('chains each tenant\'s entries by hash and verifies them', async () => {
    const rows = await t.platform.db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenant.id).orderBy('seq').execute()
    expect(rows.map((r) => r.action)).toEqual([...Array(5).fill('spectrastrike.ingest_accepted'), 'spectrastrike.schema_rejected'])
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6])
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64))
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash)
    expect(await t.platform.audit.verify(tenant.id)).toEqual({ tenantId: tenant.id, entries: 6, ok: true })
    const api = await t.app.inject({ url: '/api/v1/audit/verify', headers: await tenant.auth('auditor') })
    expect(api.json().data).toEqual({ ok: true, entries: 6, broken_at: null })
  })

  it('keeps one valid chain when two processes append to the same tenant (optimistic append, retried on conflict)', async () => {
    const shared = await createTenant(t.platform)
    const other = await createTestApp()
    try {
      const writers = [t.platform.audit, other.platform.audit]
      // Interleave: each process's cached tip goes stale every time the other one appends.
      await Promise.all(Array.from({ length: 40 }, (_, i) => writers[i % 2]!.record({ tenantId: shared.id, action: 'test.append', outcome: 'success', actorType: 'system', details: { i } })))
      for (let i = 0; i < 6; i++) await writers[i % 2]!.record({ tenantId: shared.id, action: 'test.append', outcome: 'success', actorType: 'system', details: { i: 100 + i } })
      expect(await t.platform.audit.verify(shared.id)).toEqual({ tenantId: shared.id, entries: 46, ok: true })
    } finally { await other.close() }
  })

  it('keeps one chain and every row when two processes ingest heavy batches and single events at once', async () => {
    // Groups of 500+ rows take the overlapped plan (data statement outside the chain lock), small ones the
    // single-statement plan; both, from two processes, interleave on one tenant's chain.
    const shared = await createTenant(t.platform)
    const other = await createTestApp()
    try {
      const auth = await shared.auth()
      const apps = [t.app, other.app]
      const batch = (p: number, k: number) => Array.from({ length: 250 }, (_, i) => sampleEvent({ message: `heavy ${p}-${k}-${i}` }))
      const results = await Promise.all([
        ...Array.from({ length: 6 }, (_, k) => post(apps[k % 2]!, '/events/batch', batch(k % 2, k), auth)),
        ...Array.from({ length: 20 }, (_, k) => post(apps[k % 2]!, '/events', sampleEvent({ message: `light ${k}` }), auth)),
      ])
      expect(results.map((r) => r.res.statusCode)).toEqual(Array(26).fill(202))
      const n = await t.platform.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', shared.id).executeTakeFirstOrThrow()
      expect(Number(n.n)).toBe(6 * 250 + 20)
      expect(await t.platform.audit.verify(shared.id)).toEqual({ tenantId: shared.id, entries: 26, ok: true })
    } finally { await other.close() }
  })

  it('does not deadlock when a light append arrives while a heavy one holds a connection (one-connection PGlite too)', async () => {
    const x = await createTenant(t.platform)
    const slug = `slow-${x.slug}`
    const entry = (i: number) => ({ tenantId: x.id, action: 'test.plans', outcome: 'success' as const, actorType: 'system' as const, details: { i } })
    // The heavy plan's data statement takes a while; meanwhile a light append wants the chain lock and a connection.
    const heavy = t.platform.audit.chain.append([entry(1)], [sql`slow as (insert into tenants (id, slug, name)
      select gen_random_uuid(), ${slug}, 'slow' from pg_sleep(0.3) returning 1)`], { overlap: true })
    const light = t.platform.audit.chain.append([entry(2)])
    const outcome = await Promise.race([
      Promise.all([heavy, light]).then(() => 'done'),
      new Promise((r) => setTimeout(() => r('deadlocked'), 5000)),
    ])
    expect(outcome).toBe('done')
    expect(await t.platform.audit.verify(x.id)).toEqual({ tenantId: x.id, entries: 2, ok: true })
    const slow = await t.platform.db.selectFrom('tenants').select('id').where('slug', '=', slug).execute()
    expect(slow).toHaveLength(1)
  })

  it('hashes an entry over the previous hash and the canonical JSON of all its fields', () => {
    // The write path spells the canonical JSON out field by field; it must equal canonicalJson of the whole entry.
    const rows = [
      { tenant_id: 't', seq: 1, occurred_at: new Date('2026-11-23T10:00:00.123Z'), action: 'a', outcome: 'success', actor_type: 'system',
        actor_id: null, resource_type: null, resource_id: null, request_id: null, details: {} },
      { tenant_id: '00000000-0000-0000-0000-0000000000aa', seq: 123456, occurred_at: new Date(0), action: 'spectrastrike.ingest_accepted',
        outcome: 'partial', actor_type: 'api_key', actor_id: 'key "1"\n', resource_type: 'café ☕', resource_id: '\u2028x\ud83d\ude00',
        request_id: 'r', details: { z: [3, { b: null, a: 'é' }], a: 1.5, m: { y: true, x: 'q"uote' } } },
    ]
    for (const row of rows) {
      const expected = createHash('sha256').update(`${'f'.repeat(64)}\n${canonicalJson({ ...row, occurred_at: row.occurred_at.toISOString() })}`).digest('hex')
      expect(auditHash('f'.repeat(64), row)).toBe(expected)
    }
  })

  it('is append-only: UPDATE and DELETE are refused by the database', async () => {
    await expect(sql`update audit_log set action = 'x' where tenant_id = ${tenant.id}`.execute(t.platform.db)).rejects.toThrow(/append-only/)
    await expect(sql`delete from audit_log where tenant_id = ${tenant.id}`.execute(t.platform.db)).rejects.toThrow(/append-only/)
  })

  it('reports the first broken link when an entry is altered behind the trigger\'s back', async () => {
    const victim = await createTenant(t.platform)
    for (let i = 0; i < 4; i++) await post(t.app, '/events', sampleEvent({ message: `tamper ${i}` }), await victim.auth())
    await t.platform.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx)
      await sql`update audit_log set details = '{"total": 999}'::jsonb where tenant_id = ${victim.id} and seq = 3`.execute(trx)
    })
    const r = await t.platform.audit.verify(victim.id)
    expect(r.ok).toBe(false)
    expect(r.brokenAt).toEqual({ seq: 3, reason: 'content does not match its hash (entry altered)' })
  })

  it('detects a deleted entry', async () => {
    const victim = await createTenant(t.platform)
    for (let i = 0; i < 3; i++) await post(t.app, '/events', sampleEvent({ message: `gap ${i}` }), await victim.auth())
    await t.platform.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx)
      await sql`delete from audit_log where tenant_id = ${victim.id} and seq = 2`.execute(trx)
    })
    expect((await t.platform.audit.verify(victim.id)).brokenAt).toEqual({ seq: 2, reason: 'entry 2 is missing (next is 3)' })
  })

  it('lists entries with filters and pagination, only to roles with audit:read, only of the caller\'s tenant', async () => {
    const res = await t.app.inject({ url: '/api/v1/audit?action=spectrastrike.ingest_accepted&per_page=2&page=2&order=asc', headers: await tenant.auth('auditor') })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.pagination).toEqual({ page: 2, per_page: 2, total: 5, total_pages: 3 })
    expect(body.data.map((e: { seq: number }) => e.seq)).toEqual([3, 4])
    const other = await createTenant(t.platform)
    const otherList = (await t.app.inject({ url: '/api/v1/audit', headers: await other.auth('auditor') })).json()
    expect(otherList.pagination.total).toBe(0)
    expect((await t.app.inject({ url: '/api/v1/audit', headers: await tenant.auth('analyst') })).statusCode).toBe(403)
  })
})
