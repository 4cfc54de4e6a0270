import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { post, sampleEvent, sampleFinding } from '../helpers/ingest.js'

describe('findings and events read API', () => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  let get: (url: string, tenant?: TestTenant) => Promise<{ status: number; body: any }>
  beforeAll(async () => {
    t = await createTestApp()
    a = await createTenant(t.platform, 'a')
    b = await createTenant(t.platform, 'b')
    get = async (url, tenant = a) => {
      const res = await t.app.inject({ url, headers: await tenant.auth('analyst') })
      return { status: res.statusCode, body: res.json() }
    }
    const findings = [
      sampleFinding({ finding_id: 'f-crit', severity: 'critical', title: 'Remote code execution in agent', last_seen: '2026-02-25T00:00:00Z', asset_ref: 'web-01' }),
      sampleFinding({ finding_id: 'f-high', severity: 'high', title: 'Credential dumping', status: 'in_progress', first_seen: '2026-02-10T00:00:00Z', last_seen: '2026-02-11T00:00:00Z', asset_ref: 'db-01' }),
      sampleFinding({ finding_id: 'f-low', severity: 'low', title: 'Verbose banner 100%_match', status: 'resolved', first_seen: '2026-01-01T00:00:00Z', asset_ref: 'web-01' }),
      sampleFinding({ finding_id: 'f-info', severity: 'info', title: 'TLS inventory', first_seen: '2026-02-01T00:00:00Z', asset_ref: undefined }),
    ]
    await post(t.app, '/findings/batch', findings, await a.auth())
    await post(t.app, '/findings', sampleFinding({ finding_id: 'b-only', title: 'Tenant B secret finding' }), await b.auth())
    await post(t.app, '/events/batch', [
      sampleEvent({ event_id: 'e1', severity: 'low', occurred_at: '2026-02-01T00:00:00Z', message: 'first login burst' }),
      sampleEvent({ event_id: 'e2', severity: 'critical', occurred_at: '2026-02-02T00:00:00Z', event_type: 'LATERAL', asset_ref: 'dc-01' }),
      sampleEvent({ event_id: 'e3', severity: 'medium', occurred_at: '2026-02-03T00:00:00Z', source_system: 'edr' }),
    ], await a.auth())
  })
  afterAll(async () => { await t.close() })

  const ids = (body: { data: { external_id?: string; event_id?: string }[] }) => body.data.map((d) => d.external_id ?? d.event_id)

  it('lists the tenant\'s findings newest first by default', async () => {
    const { status, body } = await get('/api/v1/findings')
    expect(status).toBe(200)
    expect(ids(body)).toEqual(['f-crit', 'f-high', 'f-info', 'f-low'])
    expect(body.pagination).toEqual({ page: 1, per_page: 50, total: 4, total_pages: 1 })
    expect(body.data[0]).toMatchObject({ source: 'spectrastrike', severity: 'critical', status: 'open', asset_ref: 'web-01', occurrences: 1, asset_id: expect.any(String) })
  })

  it.each([
    ['severity=critical,high', ['f-crit', 'f-high']],
    ['status=resolved', ['f-low']],
    ['asset=web-01', ['f-crit', 'f-low']],
    ['q=CREDENTIAL', ['f-high']],
    ['q=100%25_', ['f-low']],
    ['source=scan', []],
    ['since=2026-02-01T00:00:00Z&until=2026-02-24T00:00:00Z', ['f-high', 'f-info']],
    ['sort=severity&order=asc', ['f-info', 'f-low', 'f-high', 'f-crit']],
    ['sort=title&order=asc', ['f-high', 'f-crit', 'f-info', 'f-low']],
    ['sort=first_seen&order=asc&per_page=2&page=2', ['f-high', 'f-crit']],
  ])('filters and sorts: %s', async (query, expected) => {
    const { status, body } = await get(`/api/v1/findings?${query}`)
    expect(status).toBe(200)
    expect(ids(body)).toEqual(expected)
  })

  it.each([
    ['severity=urgent', 'severity'],
    ['per_page=501', 'per_page'],
    ['page=0', 'page'],
    ['sort=password', 'sort'],
    ['since=yesterday', 'since'],
    ['colour=red', 'colour'],
  ])('rejects %s with 400 naming the parameter', async (query, field) => {
    const { status, body } = await get(`/api/v1/findings?${query}`)
    expect(status).toBe(400)
    expect(body.error.code).toBe('validation_failed')
    expect(JSON.stringify(body.error)).toContain(field)
  })

  it('gets one finding, and another tenant\'s finding is 404', async () => {
    const list = await get('/api/v1/findings?q=Credential')
    const id = list.body.data[0].id
    const one = await get(`/api/v1/findings/${id}`)
    expect(one.status).toBe(200)
    expect(one.body.data).toMatchObject({ id, external_id: 'f-high', title: 'Credential dumping' })
    expect((await get(`/api/v1/findings/${id}`, b)).status).toBe(404)
    expect((await get('/api/v1/findings/not-a-uuid')).status).toBe(404)
    const bList = await get('/api/v1/findings', b)
    expect(ids(bList.body)).toEqual(['b-only'])
  })

  it('lists, filters and gets events, scoped to the tenant', async () => {
    expect(ids((await get('/api/v1/events')).body)).toEqual(['e3', 'e2', 'e1'])
    expect(ids((await get('/api/v1/events?severity=critical')).body)).toEqual(['e2'])
    expect(ids((await get('/api/v1/events?source_system=edr')).body)).toEqual(['e3'])
    expect(ids((await get('/api/v1/events?event_type=LATERAL&asset=dc-01')).body)).toEqual(['e2'])
    expect(ids((await get('/api/v1/events?q=login')).body)).toEqual(['e1'])
    expect(ids((await get('/api/v1/events?sort=severity&order=desc')).body)).toEqual(['e2', 'e3', 'e1'])
    expect(ids((await get('/api/v1/events?since=2026-02-02T00:00:00Z')).body)).toEqual(['e3', 'e2'])
    expect((await get('/api/v1/events/e2')).body.data).toMatchObject({ event_id: 'e2', severity: 'critical', asset_ref: 'dc-01' })
    expect((await get('/api/v1/events/e2', b)).status).toBe(404)
    expect((await get('/api/v1/events', b)).body.pagination.total).toBe(0)
  })
})
