import { SignJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { can, ROLES, type Permission, type Role } from '../../src/platform/auth/permissions.js'
import type { RouteCatalogEntry } from '../../src/platform/http/types.js'
import { createTenant, createTestApp, TEST_JWT_SECRET, type TestApp, type TestTenant } from '../helpers/app.js'

/**
 * Shared route tests: every route the app registers is found in its route catalog and checked for missing
 * auth, bad tokens, wrong roles and malformed bodies, so routes added by later modules inherit the checks.
 */
const t: TestApp = await createTestApp()
const tenant: TestTenant = await createTenant(t.platform)
afterAll(async () => { await t.close() })

const authed = t.app.routeCatalog.filter((r): r is RouteCatalogEntry & { auth: { permission: Permission } } => Boolean(r.auth))
const concrete = (url: string) => url.replace(/:([a-z_]+)/g, '00000000-0000-4000-8000-000000000001')

/** The error body's shape for the route's family: the envelope for SpectraStrike, `{error:{…}}` elsewhere. */
function expectFamilyError(route: RouteCatalogEntry, body: Record<string, any>, code?: string) {
  if (route.family === 'spectrastrike') {
    expect(body).toMatchObject({ request_id: expect.any(String), status: 'failed', data: {}, errors: [expect.objectContaining({ code: expect.any(String), message: expect.any(String) })] })
    if (code) expect(body.errors[0].code).toBe(code)
  } else if (route.family === 'phoenix') {
    // specs/scanner-import-phoenix.md: {error, message, details?, timestamp}
    expect(body).toMatchObject({ error: expect.any(String), message: expect.any(String), timestamp: expect.any(String) })
    if (code) expect(body.error).toBe(code)
  } else if (route.family === 'securevector') {
    // specs/prompt-analysis-securevector.md: {error, status}
    expect(body).toMatchObject({ error: expect.any(String), status: expect.any(Number) })
  } else {
    expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), request_id: expect.any(String) } })
    if (code) expect(body.error.code).toBe(code)
  }
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+|select |insert into/i)
}

describe('route catalog', () => {
  it('has the platform and ingest routes, each with a summary and tags in the OpenAPI document', async () => {
    expect(authed.length).toBeGreaterThan(10)
    const spec = (await t.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses: Record<string, unknown> }>> }
    for (const route of t.app.routeCatalog) {
      if (['/openapi.json', '/redoc', '/redoc/redoc.standalone.js'].includes(route.url) || route.url.startsWith('/docs')) continue
      // OpenAPI 3 cannot describe a WebSocket; WS /ws/{job_id} is documented on POST /api/v1/upload and in the README.
      if (route.url.startsWith('/ws/')) continue
      const path = route.url.replace(/:([a-z_]+)/g, '{$1}')
      const op = spec.paths[path]?.[route.method.toLowerCase()]
      expect(op, `${route.method} ${route.url} in OpenAPI`).toBeDefined()
      expect(op!.summary, `${route.method} ${route.url} summary`).toBeTruthy()
      expect(op!.tags?.length, `${route.method} ${route.url} tags`).toBeGreaterThan(0)
      if (route.auth) {
        expect(Object.keys(op!.responses), `${route.method} ${route.url} documents 401/403`).toEqual(expect.arrayContaining(['401', '403']))
      }
    }
  })
})

describe.each(authed.map((r) => [`${r.method} ${r.url}`, r] as const))('%s', (_name, route) => {
  const url = concrete(route.url)
  const inject = (headers: Record<string, string>, payload?: string) =>
    t.app.inject({ method: route.method as 'GET', url, headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers }, ...(payload === undefined ? {} : { payload }) })
  const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}'

  it('rejects a request without credentials with 401', async () => {
    const res = await inject({}, body)
    expect(res.statusCode).toBe(401)
    expectFamilyError(route, res.json(), 'unauthorized')
  })

  it('rejects a bad token, a token signed with another secret, alg:none and an expired token with 401', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = { tenant_id: tenant.id, role: 'admin' }
    const wrongSecret = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('verivault').setAudience('verivault').setExpirationTime(now + 600).sign(new TextEncoder().encode('x'.repeat(40)))
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: 'verivault', aud: 'verivault', exp: now + 600 })}.`
    const expired = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('verivault').setAudience('verivault').setExpirationTime(now - 10).sign(new TextEncoder().encode(TEST_JWT_SECRET))
    for (const token of ['garbage', wrongSecret, algNone, expired]) {
      const res = await inject({ authorization: `Bearer ${token}` }, body)
      expect(res.statusCode, token.slice(0, 20)).toBe(401)
      expectFamilyError(route, res.json())
    }
    const badKey = await inject({ 'x-api-key': 'vv_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, body)
    // The Phoenix scanner API answers an invalid key with 403 (its spec); every other family with 401.
    expect(badKey.statusCode).toBe(route.family === 'phoenix' ? 403 : 401)
    expectFamilyError(route, badKey.json())
  })

  // Only the cases that apply to the route are generated (admin holds every permission, so one always lacks it unless
  // the permission is universal).
  const lacking = ROLES.find((r: Role) => !can(r, route.auth.permission))
  if (lacking) it(`rejects a role without ${route.auth.permission} with 403`, async () => {
    const res = await inject({ authorization: `Bearer ${await tenant.token(lacking)}` }, body)
    expect(res.statusCode).toBe(403)
    expectFamilyError(route, res.json(), 'forbidden')
  })

  if (body !== undefined) it('answers malformed JSON with a 4xx in the family shape, never 500', async () => {
    const res = await inject(await tenant.auth('admin'), '{"broken": ')
    expect(res.statusCode).toBeGreaterThanOrEqual(400)
    expect(res.statusCode).toBeLessThan(500)
    expectFamilyError(route, res.json())
  })
})

describe('unknown routes', () => {
  it('answer 404 in the platform shape', async () => {
    const res = await t.app.inject({ url: '/api/v1/nothing-here' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ error: { code: 'route_not_found' } })
  })
})
