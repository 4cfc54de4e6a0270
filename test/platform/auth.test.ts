import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, TEST_JWT_SECRET, type TestApp, type TestTenant } from '../helpers/app.js'
import { startJwksServer, type JwksServer } from '../fakes/jwks-server.js'

const me = (t: TestApp, headers: Record<string, string>) => t.app.inject({ url: '/api/v1/auth/me', headers })
const hs256 = (claims: Record<string, unknown>, opts: { exp?: number; iss?: string; aud?: string } = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(opts.iss ?? 'verivault').setAudience(opts.aud ?? 'verivault')
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600).sign(new TextEncoder().encode(TEST_JWT_SECRET))

describe('tokens and API keys', () => {
  let t: TestApp
  let tenant: TestTenant
  beforeAll(async () => {
    t = await createTestApp()
    tenant = await createTenant(t.platform)
  })
  afterAll(async () => { await t.close() })

  it('accepts its own tokens with tenant_id, org_id or org (id or slug)', async () => {
    for (const claims of [{ tenant_id: tenant.id }, { org_id: tenant.id }, { org: tenant.slug }]) {
      const res = await me(t, { authorization: `Bearer ${await hs256({ ...claims, role: 'analyst', sub: 'u1' })}` })
      expect(res.statusCode, JSON.stringify(claims)).toBe(200)
      expect(res.json().data).toMatchObject({ tenant_id: tenant.id, tenant_slug: tenant.slug, role: 'analyst', subject: 'u1', kind: 'user' })
    }
  })

  it.each([
    ['no tenant claim', { role: 'admin' }, 'tenant_id'],
    ['no role claim', { tenant_id: 'x' }, 'role'],
    ['an unknown role', { role: 'overlord' }, 'not a known role'],
    ['an unknown tenant', { tenant_id: '9b2c8a5e-0000-4000-8000-000000000000', role: 'admin' }, 'tenant does not exist'],
  ])('rejects a token with %s', async (_n, claims, message) => {
    const full = { tenant_id: tenant.id, ...claims }
    if (!('role' in claims)) delete (full as Record<string, unknown>).role
    if (_n === 'no tenant claim') delete (full as Record<string, unknown>).tenant_id
    const res = await me(t, { authorization: `Bearer ${await hs256(full)}` })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.message).toContain(message)
  })

  it('rejects wrong issuer, wrong audience and other HMAC algorithms', async () => {
    expect((await me(t, { authorization: `Bearer ${await hs256({ tenant_id: tenant.id, role: 'admin' }, { iss: 'evil' })}` })).statusCode).toBe(401)
    expect((await me(t, { authorization: `Bearer ${await hs256({ tenant_id: tenant.id, role: 'admin' }, { aud: 'other' })}` })).statusCode).toBe(401)
    const hs512 = await new SignJWT({ tenant_id: tenant.id, role: 'admin' }).setProtectedHeader({ alg: 'HS512' }).setIssuer('verivault').setAudience('verivault')
      .setExpirationTime('10m').sign(new TextEncoder().encode(TEST_JWT_SECRET))
    const res = await me(t, { authorization: `Bearer ${hs512}` })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.message).toContain('HS512')
  })

  it('accepts API keys in X-API-Key (any case) and as Bearer, and records last_used_at', async () => {
    const { key, record } = await t.platform.identity.createApiKey(tenant.id, { role: 'auditor', tier: 'professional', name: 'ci' })
    expect(key).toMatch(/^vv_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/)
    expect(key.startsWith(record.prefix)).toBe(true)
    const stored = await t.platform.db.selectFrom('api_keys').select('key_hash').where('id', '=', record.id).executeTakeFirstOrThrow()
    expect(stored.key_hash).not.toContain(key.slice(12))
    for (const headers of [{ 'x-api-key': key }, { 'X-API-KEY': key }, { authorization: `Bearer ${key}` }] as Record<string, string>[]) {
      const res = await me(t, headers)
      expect(res.statusCode).toBe(200)
      expect(res.json().data).toMatchObject({ kind: 'api_key', role: 'auditor', tier: 'professional', subject: record.prefix })
    }
    await t.platform.authenticator.flushTouches()
    const touched = await t.platform.db.selectFrom('api_keys').select('last_used_at').where('id', '=', record.id).executeTakeFirstOrThrow()
    expect(touched.last_used_at).toBeInstanceOf(Date)
  })

  it('stops accepting a revoked key at once', async () => {
    const { key, record } = await t.platform.identity.createApiKey(tenant.id, { role: 'admin' })
    expect((await me(t, { 'x-api-key': key })).statusCode).toBe(200)
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${record.prefix}`, headers: await tenant.auth('admin') })
    expect(revoke.statusCode).toBe(204)
    const res = await me(t, { 'x-api-key': key })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.message).toContain('revoked')
  })

  it('audits authentication failures', async () => {
    const res = await me(t, { authorization: 'Bearer not-a-token', 'x-request-id': 'audit-auth-failure-1' })
    expect(res.statusCode).toBe(401)
    const entry = await t.platform.db.selectFrom('audit_log').selectAll().where('request_id', '=', 'audit-auth-failure-1').executeTakeFirstOrThrow()
    expect(entry).toMatchObject({ action: 'auth.failed', outcome: 'failure', tenant_id: '00000000-0000-0000-0000-000000000000' })
  })
})

describe('API key management and login over HTTP', () => {
  let t: TestApp
  let a: TestTenant
  let b: TestTenant
  beforeAll(async () => {
    t = await createTestApp()
    a = await createTenant(t.platform, 'a')
    b = await createTenant(t.platform, 'b')
  })
  afterAll(async () => { await t.close() })

  it('creates a key once, lists prefixes only, and keeps tenants apart', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: await a.auth('admin'), payload: { name: 'ingest bot', role: 'security_engineer' } })
    expect(created.statusCode).toBe(201)
    const { data } = created.json()
    expect(data.key).toMatch(/^vv_/)
    const list = (await t.app.inject({ url: '/api/v1/api-keys', headers: await a.auth('admin') })).json().data
    expect(list.find((k: { prefix: string }) => k.prefix === data.prefix)).toMatchObject({ name: 'ingest bot', role: 'security_engineer' })
    expect(JSON.stringify(list)).not.toContain(data.key)
    // Tenant B can neither see nor revoke tenant A's key.
    const otherList = (await t.app.inject({ url: '/api/v1/api-keys', headers: await b.auth('admin') })).json().data
    expect(otherList.find((k: { prefix: string }) => k.prefix === data.prefix)).toBeUndefined()
    const crossRevoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${data.prefix}`, headers: await b.auth('admin') })
    expect(crossRevoke.statusCode).toBe(404)
    expect((await me(t, { 'x-api-key': data.key })).statusCode).toBe(200)
  })

  it('rejects a key with an unknown role naming the field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: await a.auth('admin'), payload: { role: 'god' } })
    expect(res.statusCode).toBe(422)
    expect(res.json().error.details[0].field).toBe('role')
  })

  it('issues a token for a correct password and one message for every wrong part', async () => {
    await t.platform.identity.createUser(a.id, 'alice@example.com', 'analyst', 'correct horse battery staple')
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { tenant: a.slug, email: 'ALICE@example.com', password: 'correct horse battery staple' } })
    expect(ok.statusCode).toBe(200)
    const { access_token, token_type, expires_in } = ok.json()
    expect(token_type).toBe('Bearer')
    expect(expires_in).toBe(3600)
    expect((await me(t, { authorization: `Bearer ${access_token}` })).json().data).toMatchObject({ tenant_id: a.id, role: 'analyst' })
    for (const payload of [
      { tenant: a.slug, email: 'alice@example.com', password: 'wrong' },
      { tenant: a.slug, email: 'nobody@example.com', password: 'x' },
      { tenant: 'no-such-tenant', email: 'alice@example.com', password: 'correct horse battery staple' },
      { tenant: b.slug, email: 'alice@example.com', password: 'correct horse battery staple' },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/token', payload })
      expect(res.statusCode).toBe(401)
      expect(res.json().error).toMatchObject({ code: 'invalid_credentials', message: 'Invalid tenant, e-mail or password' })
    }
  })
})

describe('external identity provider (JWKS)', () => {
  let t: TestApp
  let tenant: TestTenant
  let jwks: JwksServer
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256')
    privateKey = pair.privateKey
    jwks = await startJwksServer([{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }])
    t = await createTestApp({ VV_JWT_JWKS_URL: `${jwks.url}/.well-known/jwks.json`, VV_JWT_ISSUER: 'https://idp.example.test/', VV_JWT_AUDIENCE: 'verivault-api' })
    tenant = await createTenant(t.platform)
  })
  afterAll(async () => { await t.close(); await jwks.close() })

  const idpToken = (claims: Record<string, unknown>, iss = 'https://idp.example.test/', aud = 'verivault-api') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(iss).setAudience(aud).setSubject('idp-user').setExpirationTime('5m').sign(privateKey)

  it('accepts an IdP token with the configured issuer and audience', async () => {
    const res = await me(t, { authorization: `Bearer ${await idpToken({ org_id: tenant.id, role: 'ciso' })}` })
    expect(res.statusCode).toBe(200)
    expect(res.json().data).toMatchObject({ tenant_id: tenant.id, role: 'ciso', subject: 'idp-user' })
  })

  it('rejects an IdP token with the wrong issuer or audience, or signed by an unknown key', async () => {
    expect((await me(t, { authorization: `Bearer ${await idpToken({ org_id: tenant.id, role: 'ciso' }, 'https://evil.test/')}` })).statusCode).toBe(401)
    expect((await me(t, { authorization: `Bearer ${await idpToken({ org_id: tenant.id, role: 'ciso' }, undefined, 'other')}` })).statusCode).toBe(401)
    const stranger = await generateKeyPair('RS256')
    const forged = await new SignJWT({ org_id: tenant.id, role: 'admin' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://idp.example.test/')
      .setAudience('verivault-api').setExpirationTime('5m').sign(stranger.privateKey)
    expect((await me(t, { authorization: `Bearer ${forged}` })).statusCode).toBe(401)
  })
})
