import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp } from '../helpers/app.js'

describe('smoke', () => {
  let t: TestApp
  beforeAll(async () => { t = await createTestApp() })
  afterAll(async () => { await t.close() })
  it('ingests an event', async () => {
    const tenant = await createTenant(t.platform)
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/integrations/spectrastrike/events', headers: await tenant.auth(), payload: {
      source_system: 'spectrastrike-sensor', event_type: 'PROCESS_ANOMALY', occurred_at: '2026-02-22T10:00:00Z', severity: 'HIGH', asset_ref: 'host-nyc-01', message: 'x',
    } })
    console.log(res.statusCode, res.body)
    expect(res.statusCode).toBe(202)
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/events', headers: await tenant.auth() })
    console.log(list.body)
  })
})
