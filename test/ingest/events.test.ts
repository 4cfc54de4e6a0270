import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { post, sampleEvent, sampleFinding } from '../helpers/ingest.js'

describe('SpectraStrike events', () => {
  let t: TestApp
  let tenant: TestTenant
  let auth: Record<string, string>
  beforeAll(async () => {
    t = await createTestApp({ VV_SPECTRASTRIKE_MAX_BATCH_SIZE: '5' })
    tenant = await createTenant(t.platform)
    auth = await tenant.auth('security_engineer')
  })
  afterAll(async () => { await t.close() })

  it('accepts one event with 202, the envelope, and stores it before answering', async () => {
    const { status, body, res } = await post(t.app, '/events', sampleEvent({ event_id: 'evt-one-1' }), auth)
    expect(status).toBe(202)
    expect(body).toEqual({ request_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'accepted', data: { event_id: 'evt-one-1' }, errors: [], signature: null })
    expect(res.headers['x-request-id']).toBeTruthy()
    const row = await t.platform.db.selectFrom('events').selectAll().where('tenant_id', '=', tenant.id).where('event_id', '=', 'evt-one-1').executeTakeFirst()
    expect(row).toMatchObject({ source: 'spectrastrike', severity: 'high', asset_ref: 'host-nyc-01', request_id: body.request_id })
    expect(row!.metadata).toEqual({ pid: 2244, parent_pid: 2210, technique: 'T1059' })
  })

  it('derives the id exactly as the original service (SHA-256 over Python canonical JSON)', async () => {
    // Reference value computed with the original's Python: json.dumps(subset, sort_keys=True, default=str, separators=(',', ':')).
    const { body } = await post(t.app, '/events', sampleEvent({ metadata: undefined }), auth)
    expect(body.data.event_id).toBe('evt_f6886339162b994e61320291')
    // Same content again → same id (de-duplicated, still accepted).
    const again = await post(t.app, '/events', sampleEvent({ metadata: { other: true } }), auth)
    expect(again.body.data.event_id).toBe('evt_f6886339162b994e61320291')
    const n = await t.platform.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenant.id).where('event_id', '=', 'evt_f6886339162b994e61320291').executeTakeFirstOrThrow()
    expect(Number(n.n)).toBe(1)
  })

  it('derives the same id as Python for non-ASCII text, DEL and fractional seconds with an offset', async () => {
    // json.dumps(..., sort_keys=True, separators=(',', ':')) escapes DEL and every non-ASCII character (astral ones as
    // surrogate pairs); str(datetime) writes microseconds and +02:00. Reference computed with Python 3.
    const event = sampleEvent({
      event_id: undefined, metadata: undefined, source_system: 'sensor-1', occurred_at: '2026-02-22T10:00:00.250+02:00',
      asset_ref: 'host-東京-01', message: 'Ünexpected chain 😀 \u007f tab\t',
    })
    const { res, body } = await post(t.app, '/events', event, auth)
    expect(res.statusCode).toBe(202)
    expect(body.data.event_id).toBe('evt_edc8e03af1ff34b16717a955')
  })

  it('stores NULs (a /proc command line is NUL-separated) and unpaired surrogates as U+FFFD instead of failing the request or its batch', async () => {
    const one = await post(t.app, '/events', sampleEvent({ event_id: 'evt-nul-1', message: 'bash\u0000-c\u0000id \ud83d', metadata: { 'argv\u0000': ['sh\u0000'] } }), auth)
    expect(one.status).toBe(202)
    const batch = await post(t.app, '/events/batch', [sampleEvent({ event_id: 'evt-nul-2', asset_ref: 'host\u0000' }), sampleEvent({ event_id: 'evt-nul-3' })], auth)
    expect(batch.status).toBe(202)
    expect(batch.body.data.summary).toEqual({ total: 2, accepted: 2, failed: 0 })
    const rows = await t.platform.db.selectFrom('events').select(['event_id', 'message', 'metadata', 'asset_ref']).where('tenant_id', '=', tenant.id)
      .where('event_id', 'in', ['evt-nul-1', 'evt-nul-2', 'evt-nul-3']).orderBy('event_id').execute()
    expect(rows).toEqual([
      expect.objectContaining({ event_id: 'evt-nul-1', message: 'bash\uFFFD-c\uFFFDid \uFFFD', metadata: { 'argv\uFFFD': ['sh\uFFFD'] } }),
      expect.objectContaining({ event_id: 'evt-nul-2', asset_ref: 'host\uFFFD' }),
      expect.objectContaining({ event_id: 'evt-nul-3', asset_ref: 'host-nyc-01' }),
    ])
    expect(await t.platform.audit.verify(tenant.id)).toMatchObject({ ok: true })
  })

  it('refuses year 0000 (which PostgreSQL cannot store) with 422 naming the field', async () => {
    const finding = await post(t.app, '/findings', sampleFinding({ finding_id: 'fnd-y0', first_seen: '0000-06-01T00:00:00Z' }), auth)
    expect(finding.status).toBe(422)
    expect(finding.body.errors.map((e: { field: string }) => e.field)).toEqual(['first_seen'])
    const { status, body } = await post(t.app, '/events', sampleEvent({ event_id: 'evt-y0', occurred_at: '0000-01-01T00:00:00Z' }), auth)
    expect(status).toBe(422)
    expect(body.errors).toEqual([{ code: 'validation_failed', message: 'occurred_at: must be an RFC 3339 date-time with a UTC offset, in year 0001 or later, e.g. 2026-02-22T10:00:00Z', field: 'occurred_at' }])
  })

  it('refuses a body nested deeper than 64 levels, and prototype keys, with 422 and a message that says so', async () => {
    let deep = '1'
    for (let i = 0; i < 5000; i++) deep = `{"a":${deep}}`
    const nested = JSON.stringify(sampleEvent({ event_id: 'evt-deep', metadata: { d: 0 } })).replace('{"d":0}', deep)
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/integrations/spectrastrike/events', headers: { ...auth, 'content-type': 'application/json' }, payload: nested })
    expect(r.statusCode).toBe(422)
    expect(r.json().errors).toEqual([{ code: 'validation_failed', message: 'Request body nests objects and arrays more than 64 levels deep' }])
    const proto = JSON.stringify(sampleEvent({ event_id: 'evt-proto', metadata: { d: 0 } })).replace('{"d":0}', '{"__proto__":{"admin":true}}')
    const p = await t.app.inject({ method: 'POST', url: '/api/v1/integrations/spectrastrike/events', headers: { ...auth, 'content-type': 'application/json' }, payload: proto })
    expect(p.statusCode).toBe(422)
    expect(p.json().errors[0].message).toMatch(/"__proto__" or "constructor.prototype" key/)
    // 64 levels are fine
    let ok = '1'
    for (let i = 0; i < 62; i++) ok = `{"a":${ok}}`
    const fine = JSON.stringify(sampleEvent({ event_id: 'evt-deep-ok', metadata: { d: 0 } })).replace('{"d":0}', ok)
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/integrations/spectrastrike/events', headers: { ...auth, 'content-type': 'application/json' }, payload: fine })).statusCode).toBe(202)
  })

  it('normalises severity case-insensitively, with aliases', async () => {
    for (const [given, stored] of [['HIGH', 'high'], ['Informational', 'info'], ['med', 'medium'], ['Critical', 'critical']] as const) {
      const id = `evt-sev-${given}`
      const { status } = await post(t.app, '/events', sampleEvent({ event_id: id, severity: given }), auth)
      expect(status).toBe(202)
      const row = await t.platform.db.selectFrom('events').select('severity').where('tenant_id', '=', tenant.id).where('event_id', '=', id).executeTakeFirstOrThrow()
      expect(row.severity).toBe(stored)
    }
  })

  it.each([
    ['missing source_system', { source_system: undefined }, 'source_system', 'field required'],
    ['bad characters in event_type', { event_type: 'PROCESS ANOMALY!' }, 'event_type', 'must match'],
    ['event_type too long', { event_type: 'X'.repeat(65) }, 'event_type', 'at most 64'],
    ['timestamp without offset', { occurred_at: '2026-02-22T10:00:00' }, 'occurred_at', 'RFC 3339'],
    ['unknown severity', { severity: 'urgent' }, 'severity', 'must be one of'],
    ['asset_ref too long', { asset_ref: 'a'.repeat(129) }, 'asset_ref', 'at most 128'],
    ['message too long', { message: 'm'.repeat(1025) }, 'message', 'at most 1024'],
    ['empty message', { message: '' }, 'message', 'must not be empty'],
    ['metadata not an object', { metadata: [1, 2] }, 'metadata', 'must be an object'],
    ['metadata too large', { metadata: { blob: 'x'.repeat(17_000) } }, 'metadata', 'at most 16384 bytes'],
    ['unknown field', { colour: 'red' }, 'colour', 'not an allowed field'],
  ])('rejects %s with 422 validation_failed naming the field, storing nothing', async (_name, over, field, message) => {
    const { status, body } = await post(t.app, '/events', sampleEvent({ event_id: `evt-bad-${field}`, ...over }), auth)
    expect(status).toBe(422)
    expect(body.status).toBe('failed')
    expect(body.data).toEqual({})
    expect(body.signature).toBeNull()
    expect(body.errors[0]).toMatchObject({ code: 'validation_failed', field })
    expect(body.errors[0].message).toContain(message)
    const row = await t.platform.db.selectFrom('events').select('event_id').where('tenant_id', '=', tenant.id).where('event_id', '=', `evt-bad-${field}`).executeTakeFirst()
    expect(row).toBeUndefined()
  })

  it('answers malformed JSON with the envelope (422, as the original did)', async () => {
    const { status, body } = await post(t.app, '/events', '{"source_system": ', auth)
    expect(status).toBe(422)
    expect(body).toMatchObject({ status: 'failed', data: {}, errors: [{ code: 'validation_failed' }] })
  })

  it('answers a body that is not an object with 422', async () => {
    const { status, body } = await post(t.app, '/events', [sampleEvent()], auth)
    expect(status).toBe(422)
    expect(body.errors[0].message).toContain('must be an object')
  })

  describe('batch', () => {
    it('accepts a whole batch with per-item results', async () => {
      const items = [sampleEvent({ message: 'b1' }), sampleEvent({ event_id: 'evt_external_22', event_type: 'AUTH_SPIKE', severity: 'medium' })]
      const { status, body } = await post(t.app, '/events/batch', items, auth)
      expect(status).toBe(202)
      expect(body.status).toBe('accepted')
      expect(body.data.summary).toEqual({ total: 2, accepted: 2, failed: 0 })
      expect(body.data.results).toEqual([
        { index: 0, item_id: expect.stringMatching(/^evt_[0-9a-f]{24}$/), status: 'accepted', error_code: null, error_message: null },
        { index: 1, item_id: 'evt_external_22', status: 'accepted', error_code: null, error_message: null },
      ])
      const rows = await t.platform.db.selectFrom('events').select('event_id').where('tenant_id', '=', tenant.id).where('request_id', '=', body.request_id).execute()
      expect(rows.map((r) => r.event_id).sort()).toEqual([body.data.results[0].item_id, 'evt_external_22'].sort())
    })

    it('stores the valid items of a partial batch and reports the others', async () => {
      const items = [sampleEvent({ event_id: 'evt-partial-ok' }), sampleEvent({ event_id: 'evt-partial-bad', source_system: undefined })]
      const { status, body } = await post(t.app, '/events/batch', items, auth)
      expect(status).toBe(202)
      expect(body.status).toBe('partial')
      expect(body.data.summary).toEqual({ total: 2, accepted: 1, failed: 1 })
      expect(body.data.results[1]).toEqual({ index: 1, item_id: null, status: 'failed', error_code: 'validation_failed', error_message: 'source_system: field required' })
      const ok = await t.platform.db.selectFrom('events').select('event_id').where('tenant_id', '=', tenant.id).where('event_id', 'in', ['evt-partial-ok', 'evt-partial-bad']).execute()
      expect(ok.map((r) => r.event_id)).toEqual(['evt-partial-ok'])
    })

    it('reports a batch whose items all fail as failed', async () => {
      const { status, body } = await post(t.app, '/events/batch', [{ nope: 1 }, 'text'], auth)
      expect(status).toBe(202)
      expect(body.status).toBe('failed')
      expect(body.data.summary).toEqual({ total: 2, accepted: 0, failed: 2 })
      expect(body.data.results[1].error_message).toContain('must be an object')
    })

    it('rejects a batch over VV_SPECTRASTRIKE_MAX_BATCH_SIZE with batch_too_large', async () => {
      const items = Array.from({ length: 6 }, (_, i) => sampleEvent({ message: `over-${i}` }))
      const { status, body } = await post(t.app, '/events/batch', items, auth)
      expect(status).toBe(422)
      expect(body).toMatchObject({ status: 'failed', data: {}, errors: [{ code: 'batch_too_large' }] })
      expect(body.errors[0].message).toContain('exceeds configured maximum (5)')
    })

    it('rejects a body that is not an array, and an empty array', async () => {
      const notArray = await post(t.app, '/events/batch', sampleEvent(), auth)
      expect(notArray.status).toBe(422)
      expect(notArray.body.errors[0].message).toContain('JSON array')
      const empty = await post(t.app, '/events/batch', [], auth)
      expect(empty.status).toBe(422)
      expect(empty.body.errors[0].message).toContain('must not be empty')
    })
  })
})

describe('batch size setting', () => {
  it('is clamped to 1..1000', async () => {
    const { loadConfig } = await import('../../src/config.js')
    expect(loadConfig({}, { VV_SPECTRASTRIKE_MAX_BATCH_SIZE: '5000' }).SPECTRASTRIKE_MAX_BATCH_SIZE).toBe(1000)
    expect(loadConfig({}, { VV_SPECTRASTRIKE_MAX_BATCH_SIZE: '0' }).SPECTRASTRIKE_MAX_BATCH_SIZE).toBe(1)
    expect(loadConfig({}).SPECTRASTRIKE_MAX_BATCH_SIZE).toBe(250)
  })
})
