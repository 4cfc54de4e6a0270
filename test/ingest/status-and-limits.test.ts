import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { BASE, post, sampleEvent } from '../helpers/ingest.js'

describe('ingest status', () => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  beforeAll(async () => {
    t = await createTestApp()
    a = await createTenant(t.platform, 'a')
    b = await createTenant(t.platform, 'b')
  })
  afterAll(async () => { await t.close() })

  it('returns counts, failed items and timestamps of an earlier request', async () => {
    const { body: ingest } = await post(t.app, '/events/batch', [sampleEvent({ message: 'st 1' }), { bad: 1 }], await a.auth())
    const res = await t.app.inject({ method: 'GET', url: `${BASE}/ingest/status/${ingest.request_id}`, headers: await a.auth('auditor') })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ status: 'accepted', errors: [], signature: null })
    expect(body.request_id).not.toBe(ingest.request_id)
    expect(body.data).toEqual({
      request_id: ingest.request_id, status: 'partial', endpoint: `${BASE}/events/batch`,
      counts: { total: 2, accepted: 1, failed: 1 },
      failed_items: [{ index: 1, item_id: null, status: 'failed', error_code: 'validation_failed', error_message: expect.stringContaining('field required') }],
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/), updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    })
  })

  it('answers another tenant\'s id, an unknown id and a malformed id with the same 404', async () => {
    const { body: ingest } = await post(t.app, '/events', sampleEvent({ message: 'tenant a only' }), await a.auth())
    const ask = async (id: string) => {
      const res = await t.app.inject({ method: 'GET', url: `${BASE}/ingest/status/${id}`, headers: await b.auth() })
      const json = res.json()
      return { status: res.statusCode, shape: { ...json, request_id: 'x' } }
    }
    const crossTenant = await ask(ingest.request_id)
    const unknown = await ask('6b1f4f8e-1111-4222-8333-444455556666')
    const malformed = await ask('not-a-uuid')
    expect(crossTenant.status).toBe(404)
    expect(crossTenant.shape).toEqual({ request_id: 'x', status: 'failed', data: {}, errors: [{ code: 'not_found', message: 'Request not found' }], signature: null })
    expect(unknown).toEqual(crossTenant)
    expect(malformed).toEqual(crossTenant)
  })
})

describe('limits', () => {
  let t: TestApp
  let tenant: TestTenant
  beforeAll(async () => {
    t = await createTestApp({ VV_MAX_BODY_MB: '1', VV_CLIENT_RATE_LIMIT: '3' })
    tenant = await createTenant(t.platform)
  })
  afterAll(async () => { await t.close() })

  it('answers a body over VV_MAX_BODY_MB with 413 in the envelope', async () => {
    const huge = JSON.stringify([sampleEvent({ message: 'x'.repeat(1000) })]).padEnd(1024 * 1024 + 10, ' ')
    const { status, body } = await post(t.app, '/events/batch', huge, await tenant.auth())
    expect(status).toBe(413)
    expect(body).toMatchObject({ status: 'failed', data: {}, errors: [{ code: 'payload_too_large' }] })
    expect(body.errors[0].message).toContain('1 MiB')
  })

  it('answers a non-JSON content type with 415 in the envelope', async () => {
    const res = await t.app.inject({ method: 'POST', url: `${BASE}/events`, headers: { ...(await tenant.auth()), 'content-type': 'text/plain' }, payload: 'hello' })
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ status: 'failed', errors: [{ code: 'unsupported_media_type' }] })
  })

  it('limits each API key / token subject per minute with X-RateLimit-* headers and a 429 envelope', async () => {
    const key = await tenant.apiKey('security_engineer')
    const headers = { 'x-api-key': key }
    const first = await post(t.app, '/events', sampleEvent({ message: 'rl 1' }), headers)
    expect(first.res.headers['x-ratelimit-limit']).toBe('3')
    expect(first.res.headers['x-ratelimit-remaining']).toBe('2')
    expect(Number(first.res.headers['x-ratelimit-reset'])).toBeGreaterThan(0)
    await post(t.app, '/events', sampleEvent({ message: 'rl 2' }), headers)
    // The limit is shared by every client route (one bucket per principal).
    const third = await t.app.inject({ method: 'GET', url: '/api/v1/findings', headers })
    expect(third.statusCode).toBe(200)
    const limited = await post(t.app, '/events', sampleEvent({ message: 'rl 4' }), headers)
    expect(limited.status).toBe(429)
    expect(limited.body).toMatchObject({ status: 'failed', data: {}, errors: [{ code: 'rate_limited' }] })
    expect(Number(limited.res.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.res.headers['x-ratelimit-remaining']).toBe('0')
    // Another principal of the same tenant has its own budget.
    const other = await post(t.app, '/events', sampleEvent({ message: 'rl other' }), await tenant.auth('analyst'))
    expect(other.status).toBe(202)
  })
})
