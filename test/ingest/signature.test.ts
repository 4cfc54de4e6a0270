import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyEnvelope } from '../../src/modules/ingest/ingest.envelope.js'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { post, sampleEvent, sign } from '../helpers/ingest.js'

const SECRET = 'spectra-signing-secret'

describe('request and response signatures', () => {
  let t: TestApp
  let tenant: TestTenant
  let auth: Record<string, string>
  beforeAll(async () => {
    t = await createTestApp({ VV_SPECTRASTRIKE_SIGNATURE_SECRET: SECRET })
    tenant = await createTenant(t.platform)
    auth = await tenant.auth('security_engineer')
  })
  afterAll(async () => { await t.close() })

  it('accepts a correctly signed request and signs the response', async () => {
    const body = JSON.stringify(sampleEvent({ message: 'signed ok' }))
    const { status, res, body: json } = await post(t.app, '/events', body, { ...auth, ...sign(SECRET, body) })
    expect(status).toBe(202)
    expect(json.signature).toMatchObject({ algorithm: 'hmac-sha256', signed_at: expect.any(String), signature: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(verifyEnvelope(res.body, SECRET)).toBe(true)
    expect(verifyEnvelope(res.body, 'another-secret')).toBe(false)
    // Tampering with any part of the body breaks it (the original signed only `data`).
    expect(verifyEnvelope(res.body.replace('"accepted"', '"failed"'), SECRET)).toBe(false)
  })

  it('signs error envelopes too', async () => {
    const body = JSON.stringify(sampleEvent({ severity: 'bogus' }))
    const { status, res } = await post(t.app, '/events', body, { ...auth, ...sign(SECRET, body) })
    expect(status).toBe(422)
    expect(verifyEnvelope(res.body, SECRET)).toBe(true)
  })

  it.each([
    ['missing headers', () => ({}), 'Missing request signature headers'],
    ['a wrong signature', (b: string) => ({ ...sign(SECRET, b), 'x-signature': 'ab'.repeat(32) }), 'Invalid request signature'],
    ['a signature with another secret', (b: string) => sign('not-the-secret', b), 'Invalid request signature'],
    ['a timestamp 301 s old', (b: string) => sign(SECRET, b, Math.floor(Date.now() / 1000) - 301), 'outside the allowed'],
    ['a timestamp 301 s ahead', (b: string) => sign(SECRET, b, Math.floor(Date.now() / 1000) + 301), 'outside the allowed'],
    ['a non-numeric timestamp', (b: string) => ({ ...sign(SECRET, b), 'x-timestamp': 'yesterday' }), 'Invalid X-Timestamp'],
  ])('rejects %s with 401 in the envelope and audits it', async (_n, headers, message) => {
    const body = JSON.stringify(sampleEvent({ message: `bad sig ${_n}` }))
    const { status, body: json } = await post(t.app, '/events', body, { ...auth, ...headers(body) })
    expect(status).toBe(401)
    expect(json).toMatchObject({ status: 'failed', data: {}, errors: [{ code: 'invalid_signature' }] })
    expect(json.errors[0].message).toContain(message)
    const audit = await t.platform.db.selectFrom('audit_log').select(['action', 'details']).where('tenant_id', '=', tenant.id)
      .where('request_id', '=', json.request_id).executeTakeFirstOrThrow()
    expect(audit.action).toBe('spectrastrike.auth_failed')
  })

  it('rejects a body changed after signing', async () => {
    const body = JSON.stringify(sampleEvent({ message: 'original' }))
    const tampered = body.replace('original', 'tampered')
    const { status } = await post(t.app, '/events', tampered, { ...auth, ...sign(SECRET, body) })
    expect(status).toBe(401)
  })

  it('rejects a replay of a signed request inside the skew window', async () => {
    const body = JSON.stringify(sampleEvent({ message: 'replay me' }))
    const headers = { ...auth, ...sign(SECRET, body) }
    expect((await post(t.app, '/events', body, headers)).status).toBe(202)
    const replay = await post(t.app, '/events', body, headers)
    expect(replay.status).toBe(401)
    expect(replay.body.errors[0].code).toBe('signature_replayed')
  })
})

describe('without a signature secret', () => {
  it('needs no signature headers and returns signature null', async () => {
    const t = await createTestApp()
    try {
      const tenant = await createTenant(t.platform)
      const { status, body } = await post(t.app, '/events', sampleEvent(), await tenant.auth())
      expect(status).toBe(202)
      expect(body.signature).toBeNull()
    } finally { await t.close() }
  })
})
