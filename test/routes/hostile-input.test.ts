/**
 * No route answers hostile input with a 5xx: every route in the catalog, with odd path values, query strings and
 * bodies (bad numbers, year 0000, NULs, unpaired surrogates), gets a 2xx or a 4xx. Plus the specific answers for the
 * cases this sweep found (each was a 500).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'

describe('hostile input on every route', () => {
  let t: TestApp
  let tenant: TestTenant
  let auth: Record<string, string>
  beforeAll(async () => {
    t = await createTestApp()
    tenant = await createTenant(t.platform)
    auth = await tenant.auth('admin')
  })
  afterAll(async () => { await t.close() })

  it('never answers 5xx', async () => {
    const key = await tenant.apiKey('admin', 'enterprise')
    const pathValues = ['x', '%00', 'a'.repeat(3000), '00000000-0000-0000-0000-000000000000', '..%2F..%2Fetc', '%ED%A0%80', '1e400']
    const queries = ['', '?limit=-1', '?limit=1e400', '?limit=abc&offset=-5', '?offset=99999999999999999999', '?page=99999999999999999999',
      '?since=0000-01-01T00:00:00Z', '?until=0000-12-31T23:59:59Z', '?cursor=%00', `?cursor=${'A'.repeat(5000)}`, '?sort=;drop', '?q=%00%ED%A0%80']
    const bodies = ['{}', '[]', 'null', '"x"', '1e400', '{"limit":-1}',
      '{"name":"\\u0000\\ud800","prompt":"\\ud800","prompts":["\\u0000"],"id":"\\u0000","definition":{"patterns":["\\u0000"]}}']
    const failures: string[] = []
    let requests = 0
    for (const route of t.app.routeCatalog) {
      if (route.url.startsWith('/ws') || route.url.includes('*')) continue
      const urls = route.url.includes(':') ? pathValues.map((v) => route.url.replace(/:[A-Za-z_]+/g, v)) : [route.url]
      for (const url of urls) {
        for (const query of route.method === 'GET' ? queries : ['']) {
          for (const body of ['POST', 'PUT', 'PATCH'].includes(route.method) ? bodies : [undefined]) {
            for (const credentials of [auth, { 'x-api-key': key }]) {
              const res = await t.app.inject({
                method: route.method as 'GET', url: url + query,
                headers: { ...credentials, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
                ...(body !== undefined ? { payload: body } : {}),
              })
              requests++
              if (res.statusCode >= 500) failures.push(`${res.statusCode} ${route.method} ${(url + query).slice(0, 100)} ${body ?? ''}`)
            }
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(1000)
    expect(failures).toEqual([])
  }, 300_000)

  it('refuses a non-finite number in the query with 400 naming the field (Ajv coerces "1e400" to Infinity and skips maximum)', async () => {
    const res = await t.app.inject({ url: '/api/v1/prompt-analyses?limit=1e400', headers: auth })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'validation_failed', details: [{ field: 'limit', message: 'must be a finite number' }] })
  })

  it('refuses year 0000, which PostgreSQL cannot store, in date-time filters with 400', async () => {
    for (const url of ['/api/v1/findings', '/api/v1/events', '/api/v1/audit', '/api/v1/prompt-analyses']) {
      const res = await t.app.inject({ url: `${url}?since=0000-01-01T00:00:00Z`, headers: auth })
      expect(res.statusCode, url).toBe(400)
      expect(res.json().error.details[0].field).toBe('since')
    }
    expect((await t.app.inject({ url: '/api/v1/findings?since=0001-01-01T00:00:00Z', headers: auth })).statusCode).toBe(200)
  })

  it('caps the audit page number (an offset past bigint was a 500)', async () => {
    const res = await t.app.inject({ url: '/api/v1/audit?page=99999999999999999999', headers: auth })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.details[0]).toMatchObject({ field: 'page' })
  })
})
