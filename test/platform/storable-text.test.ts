/**
 * Characters PostgreSQL cannot store — U+0000 anywhere, unpaired surrogates in json(b) — are stored as U+FFFD
 * (REPLACEMENT CHARACTER): through the database layer for parameters, and through pgJson for JSON the code builds.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp } from '../helpers/app.js'
import { storableJson, storableValue, pgJson } from '../../src/platform/db/storable-text.js'

describe('storable text: NULs and unpaired surrogates', () => {
  it('replaces escaped NULs in JSON text, but not an escaped backslash followed by "u0000"', () => {
    const value = { a: 'x\u0000y', 'k\u0000': ['\u0000'] }
    // Exactly what JSON.stringify writes for the value with U+FFFD in place of each NUL (hashes depend on it).
    expect(pgJson(value)).toBe(JSON.stringify({ a: 'x\uFFFDy', 'k\uFFFD': ['\uFFFD'] }))
    // JSON.stringify('\\u0000') is the text backslash-u-0-0-0-0: six characters, no NUL, left alone.
    const literal = JSON.stringify({ a: '\\u0000', b: '\\\u0000' })
    expect(storableJson(literal)).toBe(JSON.stringify({ a: '\\u0000', b: '\\\uFFFD' }))
    const clean = '{"a":"no nul here 😀"}'
    expect(storableJson(clean)).toBe(clean)
  })

  it('replaces unpaired surrogates (half an emoji) and keeps pairs', () => {
    const value = { cut: 'ab\ud83d', low: '\ude00x', pair: '😀', 'k\udbff': 1 }
    expect(pgJson(value)).toBe(JSON.stringify({ cut: 'ab\uFFFD', low: '\uFFFDx', pair: '😀', 'k\uFFFD': 1 }))
    expect(storableValue(['a\ud800\u0000', '😀'])).toEqual(['a\uFFFD\uFFFD', '😀'])
  })

  it('copies a parameter only when it holds a NUL', () => {
    const clean = { a: ['x', { b: 'y' }], n: 1, d: new Date(0) }
    expect(storableValue(clean)).toBe(clean)
    const dirty = { a: ['x', { b: 'y\u0000' }], 'k\u0000': 1, d: new Date(0) }
    const safe = storableValue(dirty) as Record<string, unknown>
    expect(safe).toEqual({ a: ['x', { b: 'y\uFFFD' }], 'k\uFFFD': 1, d: new Date(0) })
    expect(dirty.a[1]).toEqual({ b: 'y\u0000' })
    expect(storableValue('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD')
  })

  describe('through the database', () => {
    let t: TestApp
    beforeAll(async () => { t = await createTestApp() })
    afterAll(async () => { await t.close() })

    it('stores text, text[] and jsonb parameters that contain NULs and unpaired surrogates', async () => {
      const r = await sql<{ t: string; a: string[]; j: unknown }>`select ${'a\u0000b'}::text as t, ${['x\u0000']}::text[] as a, ${pgJson({ k: 'v\u0000\ud800' })}::jsonb as j`.execute(t.platform.db)
      expect(r.rows[0]).toEqual({ t: 'a\uFFFDb', a: ['x\uFFFD'], j: { k: 'v\uFFFD\uFFFD' } })
    })

    it('keeps the audit chain verifiable when an entry holds NULs and unpaired surrogates', async () => {
      const tenant = await createTenant(t.platform)
      await t.platform.audit.record({
        tenantId: tenant.id, action: 'test.nul', outcome: 'success', actorType: 'system', resourceId: 'res\u0000', details: { text: 'a\u0000b\ud800', 'k\u0000': 1 },
      })
      const row = await t.platform.db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow()
      expect(row.resource_id).toBe('res\uFFFD')
      expect(row.details).toEqual({ text: 'a\uFFFDb\uFFFD', 'k\uFFFD': 1 })
      expect(await t.platform.audit.verify(tenant.id)).toEqual({ tenantId: tenant.id, entries: 1, ok: true })
    })
  })
})
