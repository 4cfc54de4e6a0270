/**
 * Malformed multipart bodies on POST /api/v1/upload: always a 4xx in the spec's error body, never a 500, nothing kept.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp } from '../helpers/app.js'

const uploadDir = `/tmp/vv-test-hostile-${process.pid}`
let t: TestApp
let base: string
let key: string
let tenantId: string

beforeAll(async () => {
  t = await createTestApp({ VV_UPLOAD_DIR: uploadDir, VV_MAX_UPLOAD_MB: '1' })
  base = await t.app.listen({ port: 0, host: '127.0.0.1' })
  const tenant = await createTenant(t.platform, 'hostile')
  tenantId = tenant.id
  key = await tenant.apiKey('admin')
})
afterAll(async () => { await t.close() })

const raw = (body: string | Buffer, contentType: string) =>
  fetch(`${base}/api/v1/upload`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': contentType }, body })

const part = (name: string, value: string, filename?: string) =>
  `--B\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n${filename ? 'Content-Type: application/json\r\n' : ''}\r\n${value}\r\n`

describe('hostile multipart bodies', () => {
  const cases: [string, () => Promise<Response>, number, RegExp][] = [
    ['two files', () => raw(`${part('file', '{}', 'a.json')}${part('file', '{}', 'b.json')}--B--\r\n`, 'multipart/form-data; boundary=B'), 400, /exactly one file/],
    ['the file under another field name', () => raw(`${part('upload', '{}', 'a.json')}--B--\r\n`, 'multipart/form-data; boundary=B'), 400, /send the file as "file"/],
    ['a field given twice', () => raw(`${part('import_type', 'new')}${part('import_type', 'delta')}${part('file', '{}', 'a.json')}--B--\r\n`, 'multipart/form-data; boundary=B'), 400, /given twice/],
    ['a truncated body', () => raw(`${part('scanner_type', 'trivy')}--B\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n{"Sche`, 'multipart/form-data; boundary=B'), 400, /./],
    ['no boundary', () => raw('hello', 'multipart/form-data'), 400, /./],
    ['a form field over 64 KiB', () => raw(`${part('assessment_name', 'x'.repeat(70 * 1024))}${part('file', '{}', 'a.json')}--B--\r\n`, 'multipart/form-data; boundary=B'), 400, /./],
    ['an empty file', () => raw(`${part('file', '', 'a.json')}--B--\r\n`, 'multipart/form-data; boundary=B'), 400, /empty/],
    ['a file over the limit', () => raw(`${part('file', 'x'.repeat(1_200_000), 'a.json')}--B--\r\n`, 'multipart/form-data; boundary=B'), 413, /maximum upload size/],
    ['a url-encoded form', () => raw('file=abc', 'application/x-www-form-urlencoded'), 415, /multipart/],
  ]
  for (const [name, send, status, message] of cases) {
    it(`${name} → ${status}`, async () => {
      const res = await send()
      const body = await res.json() as Record<string, unknown>
      expect(res.status, JSON.stringify(body)).toBe(status)
      expect(body).toMatchObject({ error: expect.any(String), message: expect.stringMatching(message), timestamp: expect.any(String) })
    })
  }

  it('keeps no partial file from any of them', () => {
    const dir = join(uploadDir, tenantId)
    expect(readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile())).toHaveLength(0)
  })
})
