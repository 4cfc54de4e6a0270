import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { post, sampleEvent, sampleFinding } from '../helpers/ingest.js'

describe('Idempotency-Key on every SpectraStrike POST', () => {
  let t: TestApp
  let tenant: TestTenant
  let auth: Record<string, string>
  beforeAll(async () => {
    t = await createTestApp()
    tenant = await createTenant(t.platform)
    auth = await tenant.auth('security_engineer')
  })
  afterAll(async () => { await t.close() })

  const countEvents = async (requestId: string) => Number((await t.platform.db.selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenant.id).where('request_id', '=', requestId).executeTakeFirstOrThrow()).n)

  it.each([
    ['/events', sampleEvent({ message: 'idem single' })],
    ['/events/batch', [sampleEvent({ message: 'idem batch 1' }), sampleEvent({ message: 'idem batch 2' })]],
    ['/findings', sampleFinding({ finding_id: 'idem-f1' })],
    ['/findings/batch', [sampleFinding({ finding_id: 'idem-f2' })]],
  ])('%s replays the first response for the same key and body', async (path, body) => {
    const key = `key-${path}-${Math.random()}`
    const first = await post(t.app, path, body, { ...auth, 'idempotency-key': key })
    expect(first.status).toBe(202)
    expect(first.res.headers['x-idempotent-replay']).toBeUndefined()
    // Whitespace and key order do not matter: the body is compared by content.
    const reversedKeys = (v: unknown): unknown => Array.isArray(v) ? v.map(reversedKeys)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)])) : v
    const reordered = JSON.stringify(reversedKeys(body), null, 2)
    const second = await post(t.app, path, reordered, { ...auth, 'idempotency-key': key })
    expect(second.status).toBe(202)
    expect(second.res.headers['x-idempotent-replay']).toBe('true')
    expect(second.res.body).toBe(first.res.body)
  })

  it('executes once: the replay writes nothing', async () => {
    const key = 'once-only'
    const first = await post(t.app, '/events/batch', [sampleEvent({ message: 'once a' }), sampleEvent({ message: 'once b' })], { ...auth, 'idempotency-key': key })
    await post(t.app, '/events/batch', [sampleEvent({ message: 'once a' }), sampleEvent({ message: 'once b' })], { ...auth, 'idempotency-key': key })
    expect(await countEvents(first.body.request_id)).toBe(2)
    const requests = await t.platform.db.selectFrom('ingest_requests').select('request_id').where('tenant_id', '=', tenant.id)
      .where('endpoint', '=', '/api/v1/integrations/spectrastrike/events/batch').execute()
    expect(requests.filter((r) => r.request_id === first.body.request_id)).toHaveLength(1)
  })

  it('answers 409 idempotency_conflict when the key is reused with another body', async () => {
    await post(t.app, '/events', sampleEvent({ message: 'conflict a' }), { ...auth, 'idempotency-key': 'conflicting' })
    const { status, body } = await post(t.app, '/events', sampleEvent({ message: 'conflict b' }), { ...auth, 'idempotency-key': 'conflicting' })
    expect(status).toBe(409)
    expect(body).toMatchObject({ status: 'failed', data: {}, errors: [{ code: 'idempotency_conflict' }] })
  })

  it('scopes keys per endpoint and per tenant', async () => {
    const key = 'shared-key'
    const a = await post(t.app, '/events', sampleEvent({ message: 'scope 1' }), { ...auth, 'idempotency-key': key })
    const b = await post(t.app, '/findings', sampleFinding({ finding_id: 'scope-f' }), { ...auth, 'idempotency-key': key })
    expect(a.status).toBe(202)
    expect(b.status).toBe(202)
    expect(b.res.headers['x-idempotent-replay']).toBeUndefined()
    const other = await createTenant(t.platform)
    const c = await post(t.app, '/events', sampleEvent({ message: 'scope 2' }), { ...(await other.auth('analyst')), 'idempotency-key': key })
    expect(c.status).toBe(202)
    expect(c.res.headers['x-idempotent-replay']).toBeUndefined()
  })

  it('lets two simultaneous requests with one key execute once', async () => {
    const key = 'simultaneous'
    const body = [sampleEvent({ message: 'race 1' }), sampleEvent({ message: 'race 2' })]
    const results = await Promise.all(Array.from({ length: 6 }, () => post(t.app, '/events/batch', body, { ...auth, 'idempotency-key': key })))
    const executed = results.filter((r) => r.status === 202 && r.res.headers['x-idempotent-replay'] === undefined)
    expect(executed).toHaveLength(1)
    for (const r of results) {
      if (r.status === 409) expect(r.body.errors[0].code).toBe('idempotency_in_progress')
      else expect(r.body.request_id).toBe(executed[0]!.body.request_id)
    }
    expect(await countEvents(executed[0]!.body.request_id)).toBe(2)
  })

  it('stores nothing for requests rejected before execution, so a corrected retry runs', async () => {
    const key = 'rejected-first'
    const bad = await post(t.app, '/events', sampleEvent({ severity: 'nope' }), { ...auth, 'idempotency-key': key })
    expect(bad.status).toBe(422)
    const good = await post(t.app, '/events', sampleEvent({ message: 'corrected' }), { ...auth, 'idempotency-key': key })
    expect(good.status).toBe(202)
    expect(good.res.headers['x-idempotent-replay']).toBeUndefined()
    const unauth = await post(t.app, '/events', sampleEvent(), { 'idempotency-key': 'never-stored' })
    expect(unauth.status).toBe(401)
    const row = await t.platform.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'never-stored').executeTakeFirst()
    expect(row).toBeUndefined()
  })

  it('rejects keys longer than 255 characters', async () => {
    const { status, body } = await post(t.app, '/events', sampleEvent(), { ...auth, 'idempotency-key': 'k'.repeat(256) })
    expect(status).toBe(422)
    expect(body.errors[0]).toMatchObject({ code: 'validation_failed', field: 'Idempotency-Key' })
  })

  it('takes over a claim left in progress by a crashed process once its lease expires', async () => {
    const key = 'crashed'
    const body = sampleEvent({ message: 'after crash' })
    const { requestHash } = await import('../../src/platform/idempotency.js')
    await t.platform.db.insertInto('idempotency_keys').values({
      tenant_id: tenant.id, endpoint: '/api/v1/integrations/spectrastrike/events', key, request_hash: requestHash(body),
      state: 'in_progress', locked_until: new Date(Date.now() - 1000), expires_at: new Date(Date.now() + 3600_000),
    }).execute()
    const r = await post(t.app, '/events', body, { ...auth, 'idempotency-key': key })
    expect(r.status).toBe(202)
    const replay = await post(t.app, '/events', body, { ...auth, 'idempotency-key': key })
    expect(replay.res.headers['x-idempotent-replay']).toBe('true')
  })
})
