import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { post, sampleFinding } from '../helpers/ingest.js'

describe('SpectraStrike findings', () => {
  let t: TestApp
  let tenant: TestTenant
  let auth: Record<string, string>
  beforeAll(async () => {
    t = await createTestApp()
    tenant = await createTenant(t.platform)
    auth = await tenant.auth('security_engineer')
  })
  afterAll(async () => { await t.close() })

  const findingRow = (externalId: string) => t.platform.db.selectFrom('findings').selectAll()
    .where('tenant_id', '=', tenant.id).where('external_id', '=', externalId).executeTakeFirst()

  it('accepts a finding into the shared findings store, linked to its asset', async () => {
    const { status, body } = await post(t.app, '/findings', sampleFinding(), auth)
    expect(status).toBe(202)
    expect(body).toMatchObject({ status: 'accepted', data: { finding_id: expect.stringMatching(/^fnd_[0-9a-f]{24}$/) }, errors: [], signature: null })
    const row = await findingRow(body.data.finding_id)
    expect(row).toMatchObject({ source: 'spectrastrike', severity: 'critical', status: 'open', title: 'Suspicious PowerShell Script', asset_ref: 'host-nyc-01', occurrences: 1 })
    const asset = await t.platform.db.selectFrom('assets').selectAll().where('id', '=', row!.asset_id!).executeTakeFirstOrThrow()
    expect(asset).toMatchObject({ tenant_id: tenant.id, ref: 'host-nyc-01' })
  })

  it('derives finding ids as the original did (title, severity, first_seen, asset_ref)', async () => {
    // Reference: Python json.dumps({"asset_ref":null,"first_seen":"2026-02-22 09:45:00+00:00","severity":"medium","title":"Weak TLS"}, sort_keys=True, separators=(',',':'))
    const { body } = await post(t.app, '/findings', sampleFinding({ title: 'Weak TLS', severity: 'MED', asset_ref: undefined }), auth)
    expect(body.data.finding_id).toBe('fnd_e5ed866d8c4aab9ed9abbe4a')
  })

  it('defaults status to open and normalises severity and status', async () => {
    const { body } = await post(t.app, '/findings', sampleFinding({ finding_id: 'f-defaults', status: undefined, severity: 'Informational' }), auth)
    expect(await findingRow(body.data.finding_id)).toMatchObject({ status: 'open', severity: 'info' })
    await post(t.app, '/findings', sampleFinding({ finding_id: 'f-status', status: 'IN_PROGRESS' }), auth)
    expect(await findingRow('f-status')).toMatchObject({ status: 'in_progress' })
  })

  it('de-duplicates by finding_id: a re-report updates status and widens first/last seen', async () => {
    await post(t.app, '/findings', sampleFinding({ finding_id: 'f-dedupe', first_seen: '2026-02-20T00:00:00Z', last_seen: '2026-02-21T00:00:00Z' }), auth)
    await post(t.app, '/findings', sampleFinding({ finding_id: 'f-dedupe', status: 'resolved', first_seen: '2026-02-22T00:00:00Z', last_seen: '2026-02-23T00:00:00Z' }), auth)
    const rows = await t.platform.db.selectFrom('findings').selectAll().where('tenant_id', '=', tenant.id).where('external_id', '=', 'f-dedupe').execute()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ status: 'resolved', occurrences: 2 })
    expect(rows[0]!.first_seen.toISOString()).toBe('2026-02-20T00:00:00.000Z')
    expect(rows[0]!.last_seen.toISOString()).toBe('2026-02-23T00:00:00.000Z')
  })

  it.each([
    ['title too short', { title: 'ab' }, 'title', 'at least 3'],
    ['title too long', { title: 't'.repeat(257) }, 'title', 'at most 256'],
    ['missing description', { description: undefined }, 'description', 'field required'],
    ['description too long', { description: 'd'.repeat(4097) }, 'description', 'at most 4096'],
    ['unknown severity', { severity: 'severe' }, 'severity', 'must be one of'],
    ['unknown status', { status: 'wontfix' }, 'status', 'must be one of'],
    ['last_seen before first_seen', { last_seen: '2026-01-01T00:00:00Z' }, 'last_seen', 'not be before first_seen'],
    ['recommendation too long', { recommendation: 'r'.repeat(2049) }, 'recommendation', 'at most 2048'],
    ['unknown field', { cvss: 9.8 }, 'cvss', 'not an allowed field'],
  ])('rejects %s with 422 naming the field', async (_n, over, field, message) => {
    const { status, body } = await post(t.app, '/findings', sampleFinding(over), auth)
    expect(status).toBe(422)
    expect(body.errors[0]).toMatchObject({ code: 'validation_failed', field })
    expect(body.errors[0].message).toContain(message)
  })

  it('ingests a batch with partial failure and reports failed items', async () => {
    const items = [sampleFinding({ finding_id: 'fb-1' }), sampleFinding({ finding_id: 'fb-2', title: 'x' }), sampleFinding({ finding_id: 'fb-3', asset_ref: 'host-b' })]
    const { status, body } = await post(t.app, '/findings/batch', items, auth)
    expect(status).toBe(202)
    expect(body.status).toBe('partial')
    expect(body.data.summary).toEqual({ total: 3, accepted: 2, failed: 1 })
    expect(body.data.results[1]).toEqual({ index: 1, item_id: null, status: 'failed', error_code: 'validation_failed', error_message: 'title: must be at least 3 characters' })
    expect(await findingRow('fb-1')).toBeDefined()
    expect(await findingRow('fb-2')).toBeUndefined()
    expect(await findingRow('fb-3')).toMatchObject({ asset_ref: 'host-b' })
  })

  it('keeps one finding when a batch repeats a finding_id (the last report wins)', async () => {
    const items = [sampleFinding({ finding_id: 'fb-dup', status: 'open' }), sampleFinding({ finding_id: 'fb-dup', status: 'closed' })]
    const { body } = await post(t.app, '/findings/batch', items, auth)
    expect(body.data.summary.accepted).toBe(2)
    const rows = await t.platform.db.selectFrom('findings').selectAll().where('tenant_id', '=', tenant.id).where('external_id', '=', 'fb-dup').execute()
    expect(rows).toHaveLength(1)
    expect(rows[0]!.status).toBe('closed')
  })

  it('writes an audit entry for accepted ingestion and for a partial batch', async () => {
    const { body: single } = await post(t.app, '/findings', sampleFinding({ finding_id: 'f-audit' }), auth)
    const { body: partial } = await post(t.app, '/findings/batch', [sampleFinding({ finding_id: 'f-audit-2' }), { bad: true }], auth)
    const entries = await t.platform.db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenant.id)
      .where('request_id', 'in', [single.request_id, partial.request_id]).orderBy('seq').execute()
    expect(entries.map((e) => [e.action, e.outcome, e.resource_id])).toEqual([
      ['spectrastrike.ingest_accepted', 'success', 'f-audit'],
      ['spectrastrike.batch_partial_failure', 'partial', partial.request_id],
    ])
    expect(entries[1]!.details).toMatchObject({ total: 2, accepted: 1, failed: 1 })
  })
})
