import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp } from '../helpers/app.js'
import { post, sampleEvent } from '../helpers/ingest.js'

describe('cross-cutting HTTP behaviour', () => {
  let t: TestApp
  beforeAll(async () => { t = await createTestApp() })
  afterAll(async () => { await t.close() })

  it('echoes a valid X-Request-Id and generates one otherwise', async () => {
    const given = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'client-abc.123' } })
    expect(given.headers['x-request-id']).toBe('client-abc.123')
    const generated = await t.app.inject({ url: '/healthz' })
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const hostile = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\twith spaces' } })
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('keeps a client request id for logs but gives the ingest envelope its own UUID', async () => {
    const tenant = await createTenant(t.platform)
    const { res, body } = await post(t.app, '/events', sampleEvent({ message: 'rid' }), { ...(await tenant.auth()), 'x-request-id': 'trace-42' })
    expect(res.headers['x-request-id']).toBe('trace-42')
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('answers bodies that are not JSON, nest deeper than 64 levels or carry prototype keys with 400 malformed_json', async () => {
    const send = (payload: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { 'content-type': 'application/json' }, payload })
    const bad = await send('{"tenant":')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error).toMatchObject({ code: 'malformed_json', message: 'Request body is not valid JSON' })
    const deep = await send(`{"tenant":"t","email":"a@b.c","password":"p","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)
    expect(deep.statusCode).toBe(400)
    expect(deep.json().error).toMatchObject({ code: 'malformed_json', message: 'Request body nests objects and arrays more than 64 levels deep' })
    const proto = await send('{"tenant":"t","constructor":{"prototype":{"admin":true}}}')
    expect(proto.statusCode).toBe(400)
    expect(proto.json().error.message).toMatch(/"__proto__" or "constructor.prototype" key/)
  })

  it('sets security headers', async () => {
    const res = await t.app.inject({ url: '/healthz' })
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(res.headers['content-security-policy']).toContain("default-src 'self'")
  })

  it('reports liveness and readiness', async () => {
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' })
    const ready = await t.app.inject({ url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().checks.database.status).toBe('ok')
    if (process.env.VV_TEST_REDIS_URL) expect(ready.json().checks.redis.status).toBe('ok')
  })

  it('exposes Prometheus metrics including the ingest counters', async () => {
    const tenant = await createTenant(t.platform)
    await post(t.app, '/events/batch', [sampleEvent({ message: 'm1' }), { bad: 1 }], await tenant.auth())
    await post(t.app, '/events', {}, await tenant.auth())
    await t.app.inject({ url: '/api/v1/findings' })
    const text = (await t.app.inject({ url: '/metrics' })).body
    const endpoint = 'endpoint="/api/v1/integrations/spectrastrike/events/batch"'
    expect(text).toMatch(new RegExp(`ingest_total\\{${endpoint.replace(/[/.]/g, '\\$&')},status="partial"\\} 1`))
    expect(text).toContain(`ingest_failed{${endpoint}} 1`)
    expect(text).toContain(`batch_size_count{${endpoint}} 1`)
    expect(text).toContain('validation_failed{endpoint="/api/v1/integrations/spectrastrike/events"} 1')
    expect(text).toContain('auth_failed{endpoint="/api/v1/findings",reason="unauthorized"} 1')
    expect(text).toContain('http_requests_total')
  })

  it('serves the OpenAPI document, Swagger UI and ReDoc without reaching the internet', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json()
    expect(spec.openapi).toMatch(/^3\./)
    expect(spec.paths['/api/v1/integrations/spectrastrike/events'].post.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }])
    expect((await t.app.inject({ url: '/docs/' })).statusCode).toBe(200)
    const redoc = await t.app.inject({ url: '/redoc' })
    expect(redoc.body).toContain('/redoc/redoc.standalone.js')
    expect(redoc.body).not.toMatch(/https?:\/\/cdn/)
    expect((await t.app.inject({ url: '/redoc/redoc.standalone.js' })).statusCode).toBe(200)
  })
})

describe('HTTPS enforcement', () => {
  it('rejects plain HTTP when VV_REQUIRE_HTTPS=1 and trusts X-Forwarded-Proto only with VV_TRUST_PROXY=1', async () => {
    const strict = await createTestApp({ VV_REQUIRE_HTTPS: '1' })
    const proxied = await createTestApp({ VV_REQUIRE_HTTPS: '1', VV_TRUST_PROXY: '1' })
    try {
      const tenant = await createTenant(strict.platform)
      const plain = await post(strict.app, '/events', sampleEvent(), await tenant.auth())
      expect(plain.status).toBe(400)
      expect(plain.body.errors[0]).toMatchObject({ code: 'https_required' })
      const spoofed = await post(strict.app, '/events', sampleEvent(), { ...(await tenant.auth()), 'x-forwarded-proto': 'https' })
      expect(spoofed.status).toBe(400)
      const viaProxy = await post(proxied.app, '/events', sampleEvent({ message: 'via proxy' }), { ...(await tenant.auth()), 'x-forwarded-proto': 'https' })
      expect(viaProxy.status).toBe(202)
      expect(viaProxy.res.headers['strict-transport-security']).toContain('max-age=')
      expect((await strict.app.inject({ url: '/healthz' })).statusCode).toBe(200)
    } finally {
      await strict.close()
      await proxied.close()
    }
  })
})

describe('metrics token', () => {
  it('protects /metrics when VV_METRICS_TOKEN is set', async () => {
    const t = await createTestApp({ VV_METRICS_TOKEN: 'scrape-me' })
    try {
      expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(401)
      expect((await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-me' } })).statusCode).toBe(200)
    } finally { await t.close() }
  })
})
