/**
 * The Phoenix scanner import API over real HTTP: uploads of real corpus files, the job lifecycle, the store, errors.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startFakeServer } from '../fakes/http-server.js'
import { startFakePhoenix, type FakePhoenix } from '../fakes/phoenix.js'
import { createTenant, createTestApp, type TestApp, type TestTenant } from '../helpers/app.js'
import { CORPUS_DIR } from './corpus.js'
import { scansModule } from '../../src/modules/scans/index.js'

const uploadDir = `/tmp/vv-test-uploads-${process.pid}`
let t: TestApp
let base: string
let tenant: TestTenant
let other: TestTenant
let key: string

beforeAll(async () => {
  t = await createTestApp({ VV_MAX_UPLOAD_MB: '2', VV_UPLOAD_DIR: uploadDir })
  await t.platform.jobs.start({ concurrency: 2 })
  base = await t.app.listen({ port: 0, host: '127.0.0.1' })
  tenant = await createTenant(t.platform, 'scan')
  other = await createTenant(t.platform, 'scan-other')
  key = await tenant.apiKey('security_engineer')
})
afterAll(async () => {
  await t.platform.jobs.stop({ timeoutMs: 5000 })
  await t.close()
})

const corpus = (file: string) => readFileSync(join(CORPUS_DIR, file))

// Each helper takes the caller's key and server (another tenant, another app instance) when the test needs them.
async function upload(content: Buffer | string, filename: string, fields: Record<string, string> = {}, apiKey = key, url = base) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append('file', new Blob([content]), filename)
  const res = await fetch(`${url}/api/v1/upload`, { method: 'POST', headers: { 'x-api-key': apiKey }, body: form })
  return { status: res.status, body: await res.json() as Record<string, any> }
}

async function getJob(id: string, apiKey = key, url = base) {
  const res = await fetch(`${url}/api/v1/jobs/${id}`, { headers: { 'x-api-key': apiKey } })
  return { status: res.status, body: await res.json() as Record<string, any> }
}

async function waitJob(id: string, apiKey = key, url = base): Promise<Record<string, any>> {
  for (let i = 0; i < 400; i++) {
    const { body } = await getJob(id, apiKey, url)
    if (['completed', 'failed', 'cancelled'].includes(body.status)) return body
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`job ${id} did not finish`)
}

/** Messages of a WebSocket until `until` accepts one (that one included). */
const collect = (ws: WebSocket, until: (m: Record<string, any>) => boolean) => new Promise<Record<string, any>[]>((resolve, reject) => {
  const seen: Record<string, any>[] = []
  const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(seen.map((m) => m.type))}`)), 15000)
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as Record<string, any>
    seen.push(m)
    if (until(m)) { clearTimeout(timer); resolve(seen) }
  })
  ws.on('error', reject)
})

async function importFile(content: Buffer | string, filename: string, fields: Record<string, string> = {}, apiKey = key, url = base) {
  const up = await upload(content, filename, fields, apiKey, url)
  expect(up.status, JSON.stringify(up.body)).toBe(202)
  return waitJob(up.body.job_id, apiKey, url)
}

describe('POST /api/v1/upload', () => {
  it('accepts a file with 202 and the spec\'s fields, then imports it (scanner detected from content)', async () => {
    const up = await upload(corpus('trivy/legacy_many_vulns.json'), 'trivy-results.json')
    expect(up.status).toBe(202)
    expect(up.body).toMatchObject({
      job_id: expect.stringMatching(/^job-[0-9a-f]{24}$/), status: 'queued',
      message: 'File uploaded successfully. Job queued for processing.', created_at: expect.any(String),
    })
    expect(up.body.websocket_url).toBe(`ws://${new URL(base).host}/ws/${up.body.job_id}`)
    const job = await waitJob(up.body.job_id)
    expect(job).toMatchObject({
      job_id: up.body.job_id, status: 'completed', progress: 100, filename: 'trivy-results.json', scanner_type: 'trivy',
      detected_scanner: 'trivy', import_type: 'new', error_message: null, error_traceback: null,
      file_size_bytes: corpus('trivy/legacy_many_vulns.json').length,
    })
    expect(job.vulnerabilities_imported).toBeGreaterThan(0)
    expect(job.assets_imported).toBeGreaterThan(0)
    expect(job.findings_new).toBeGreaterThan(0)
    expect(job.findings_new + job.findings_updated).toBeLessThanOrEqual(job.vulnerabilities_imported)
    expect(job.started_at).toEqual(expect.any(String))
    expect(job.completed_at).toEqual(expect.any(String))
    expect(job.batch_summary).toMatchObject({ batches: expect.any(Number), findings_written: expect.any(Number) })
    expect(job.recent_logs.join('\n')).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - INFO - Detected scanner type: trivy/)
    expect(job.recent_logs.join('\n')).toMatch(/Parsed \d+ assets with \d+ vulnerabilities/)

    // The findings are in the shared store, tenant-scoped.
    const findings = await fetch(`${base}/api/v1/findings?source=scan&per_page=100`, { headers: { 'x-api-key': key } }).then((r) => r.json()) as { data: Record<string, any>[]; pagination: { total: number } }
    expect(findings.pagination.total).toBeGreaterThanOrEqual(job.findings_new)
    const f = findings.data.find((x) => x.metadata?.scanner === 'trivy' && x.metadata?.component?.name === 'apt' && x.metadata?.vulnerability_ids?.includes('CVE-2011-3374'))
    expect(f).toBeDefined()
    expect(f!.metadata).toMatchObject({ scanner: 'trivy', phoenix_severity: expect.any(Number), component: { name: 'apt', version: '1.8.2.2' } })
    const otherKey = await other.apiKey('admin')
    const none = await fetch(`${base}/api/v1/findings?source=scan`, { headers: { 'x-api-key': otherKey } }).then((r) => r.json()) as { data: unknown[] }
    expect(none.data).toHaveLength(0)
  })

  it('re-importing the same file updates the known findings instead of duplicating them', async () => {
    const first = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'gitleaks.json')
    expect(first.status).toBe('completed')
    const again = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'gitleaks.json')
    expect(again).toMatchObject({ status: 'completed', findings_new: 0, findings_updated: first.findings_new + first.findings_updated })
  })

  it('delta imports close the findings the new file no longer reports', async () => {
    const full = JSON.parse(corpus('trivy/legacy_many_vulns.json').toString()) as { Vulnerabilities?: unknown[] }[] | Record<string, any>
    const subset = structuredClone(full) as any
    const list = Array.isArray(subset) ? subset[0].Vulnerabilities : subset.Results[0].Vulnerabilities
    list.splice(0, 3)
    const fresh = await createTenant(t.platform, 'delta')
    const k = await fresh.apiKey('admin')
    expect((await importFile(JSON.stringify(full), 'full.json', {}, k)).status).toBe('completed')
    const job = await importFile(JSON.stringify(subset), 'subset.json', { import_type: 'delta' }, k)
    expect(job).toMatchObject({ status: 'completed', import_type: 'delta', findings_new: 0 })
    expect(job.findings_closed).toBeGreaterThanOrEqual(1)
    const closed = await fetch(`${base}/api/v1/findings?status=closed`, { headers: { 'x-api-key': k } }).then((r) => r.json()) as { pagination: { total: number } }
    expect(closed.pagination.total).toBe(job.findings_closed)
  })

  it('applies asset_type, scanner_type and assessment_name from the form', async () => {
    const job = await importFile(corpus('trivy/legacy_many_vulns.json'), 'scan.json', { scanner_type: 'Trivy', asset_type: 'infra', assessment_name: 'Q4 Container Scan' })
    expect(job).toMatchObject({ status: 'completed', scanner_type: 'trivy', detected_scanner: null, asset_type: 'INFRA', assessment_name: 'Q4 Container Scan' })
    expect(job.recent_logs.join('\n')).toMatch(/Scanner type: trivy/)
  })

  it('generates an assessment name when none is given', async () => {
    const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'leaks.json')
    expect(job.assessment_name).toMatch(/^leaks \d{4}-\d\d-\d\d \d\d:\d\d$/)
  })

  it('anonymize replaces hosts and IPs with stable keyed pseudonyms before anything is stored', async () => {
    const file = corpus('tenable/nessus_many_vuln.xml')
    const plain = await createTenant(t.platform, 'plain')
    const anon = await createTenant(t.platform, 'anon')
    const [plainKey, anonKey] = [await plain.apiKey('admin'), await anon.apiKey('admin')]
    const run = (k: string, fields: Record<string, string>) => importFile(file, 'nessus.xml', fields, k)
    const listed = async (k: string) => (await fetch(`${base}/api/v1/findings?per_page=100`, { headers: { 'x-api-key': k } }).then((r) => r.json()) as { data: Record<string, any>[] }).data
    expect((await run(plainKey, {})).status).toBe('completed')
    const realRefs = [...new Set((await listed(plainKey)).map((f) => f.asset_ref as string))]
    expect(realRefs.length).toBeGreaterThan(0)

    const first = await run(anonKey, { anonymize: 'true' })
    expect(first.status).toBe('completed')
    expect(first.recent_logs.join('\n')).toMatch(/Anonymized/)
    const anonymized = await listed(anonKey)
    const text = JSON.stringify(anonymized)
    for (const ref of realRefs) expect(text).not.toContain(ref)
    for (const f of anonymized) expect(f.asset_ref).toMatch(/^host-[0-9a-f]{10}\.anon$|^10\.\d+\.\d+\.\d+$/)
    // Stable: the same file again maps to the same pseudonyms, so nothing is new.
    expect(await run(anonKey, { anonymize: 'true' })).toMatchObject({ status: 'completed', findings_new: 0 })
  })

  it('fix_data repairs known quirks and logs each repair; fix_data=false leaves the data as written', async () => {
    const fixed = await importFile(corpus('tenable/nessus-template.csv'), 'nessus.csv')
    expect(fixed.status).toBe('completed')
    expect(fixed.recent_logs.join('\n')).toMatch(/INFO - fix_data: Tenable report: 5 EPSS score\(s\) written without the leading "0\."/)
    const raw = await importFile(corpus('tenable/nessus-template.csv'), 'nessus.csv', { fix_data: 'false' })
    expect(raw.status).toBe('completed')
    expect(raw.recent_logs.join('\n')).not.toMatch(/fix_data:/)
  })

  it('stores NULs and unpaired surrogates in a report as U+FFFD instead of failing the import, with fix_data on or off', async () => {
    const image = `nul-image-${Date.now()}`
    const report = JSON.stringify({
      SchemaVersion: 2, ArtifactName: image, ArtifactType: 'container_image',
      Results: [{ Target: 'app\u0000', Class: 'os-pkgs', Type: 'debian', Vulnerabilities: [
        { VulnerabilityID: 'CVE-2024-0001', PkgName: 'libc\u0000', InstalledVersion: '1', Severity: 'HIGH', Title: 'overflow\u0000', Description: 'bytes \u0000\u0000 here, cut emoji \ud83d' },
      ] }],
    })
    for (const fix of ['true', 'false']) {
      const job = await importFile(report, 'trivy.json', { fix_data: fix })
      expect(job, JSON.stringify(job)).toMatchObject({ status: 'completed', vulnerabilities_imported: 1 })
    }
    const rows = await t.platform.db.selectFrom('findings').select(['title', 'description', 'metadata', 'occurrences']).where('tenant_id', '=', tenant.id).where('asset_ref', '=', image).execute()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ title: 'CVE-2024-0001 libc\uFFFD 1', occurrences: 2 })
    expect(rows[0]!.description).toContain('bytes \uFFFD\uFFFD here, cut emoji \uFFFD')
    expect(JSON.stringify(rows[0]!.metadata)).toContain('libc\uFFFD')
  })

  it('create_inventory_assets stores assets that have no findings; by default they are left out', async () => {
    const file = corpus('zap/empty_2.9.0.xml')
    const plain = await importFile(file, 'zap-empty.xml')
    expect(plain).toMatchObject({ status: 'completed', assets_imported: 1, vulnerabilities_imported: 0, batch_summary: { assets: 0 } })
    const inventory = await importFile(file, 'zap-empty.xml', { create_inventory_assets: 'true' })
    expect(inventory).toMatchObject({ status: 'completed', assets_imported: 1, batch_summary: { assets: 1 } })
  })

  it('create_empty_assets stores the assets without their findings; just_tags writes neither findings nor new assets', async () => {
    const fresh = await createTenant(t.platform, 'flags')
    const k = await fresh.apiKey('admin')
    const run = (fields: Record<string, string>) => importFile(corpus('trivy/legacy_many_vulns.json'), 'flags.json', fields, k)
    const empty = await run({ create_empty_assets: 'true' })
    expect(empty).toMatchObject({ status: 'completed', findings_new: 0, batch_summary: { assets: 1, findings_written: 0 } })
    const tags = await run({ just_tags: 'true' })
    expect(tags).toMatchObject({ status: 'completed', findings_new: 0, findings_updated: 0, batch_summary: { findings_written: 0 } })
    const listed = await fetch(`${base}/api/v1/findings`, { headers: { 'x-api-key': k } }).then((r) => r.json()) as { pagination: { total: number } }
    expect(listed.pagination.total).toBe(0)
  })

  it('rejects bad form fields with 400 naming each field, and keeps no file', async () => {
    const r = await upload('{}', 'x.json', { import_type: 'sideways', asset_type: 'MAINFRAME', max_batch_size: '0', color: 'red', webhook_headers: '{"Host": "evil"}' })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ error: 'bad_request', message: expect.stringContaining('Invalid form field'), timestamp: expect.any(String) })
    const fields = (r.body.details.errors as { field: string }[]).map((e) => e.field)
    expect(fields).toEqual(expect.arrayContaining(['import_type', 'asset_type', 'max_batch_size', 'color', 'webhook_headers.Host']))
    const unknown = await upload('{}', 'x.json', { scanner_type: 'nmapzilla' })
    expect(unknown.status).toBe(400)
    expect(unknown.body.message).toMatch(/scanner_type: unknown scanner "nmapzilla"/)
    expect(readdirSync(join(uploadDir, tenant.id)).length).toBe(0)
  })

  it('answers a missing file with 400, a non-multipart body with 415', async () => {
    const form = new FormData()
    form.append('scanner_type', 'trivy')
    const noFile = await fetch(`${base}/api/v1/upload`, { method: 'POST', headers: { 'x-api-key': key }, body: form })
    expect(noFile.status).toBe(400)
    expect(await noFile.json()).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/No file uploaded/) })
    const json = await fetch(`${base}/api/v1/upload`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{}' })
    expect(json.status).toBe(415)
    expect(await json.json()).toMatchObject({ error: 'unsupported_media_type' })
  })

  it('enforces VV_MAX_UPLOAD_MB while streaming: 413 in the spec\'s body, nothing stored', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x20)
    const r = await upload(big, 'big.json')
    expect(r.status).toBe(413)
    expect(r.body).toMatchObject({ error: 'payload_too_large', message: expect.stringMatching(/maximum upload size of 2 MB/) })
    expect(readdirSync(join(uploadDir, tenant.id)).length).toBe(0)
  })

  it('requires credentials: 401 without a key, 403 with an invalid one', async () => {
    const form = new FormData()
    form.append('file', new Blob(['{}']), 'x.json')
    const none = await fetch(`${base}/api/v1/upload`, { method: 'POST', body: form })
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ error: 'unauthorized' })
    const bad = await upload('{}', 'x.json', {}, 'vv_deadbeef_notarealkeynotarealkeynotarealkey0000')
    expect(bad.status).toBe(403)
    expect(bad.body).toMatchObject({ error: 'forbidden' })
  })
})

describe('hostile and broken files end the job as failed with a message naming the problem', () => {
  const cases: [string, Buffer | string, RegExp][] = [
    ['binary.bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 1, 2, 3]), /binary/],
    ['empty.json', '   \n', /empty/],
    ['truncated.json', corpus('trivy/legacy_many_vulns.json').subarray(0, 2000), /truncated/],
    ['xxe.xml', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><NessusClientData_v2>&x;</NessusClientData_v2>', /entities/],
    ['bomb.xml', `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('')}]><l>&j;</l>`, /entities/],
    ['unknown.json', '{"hello": "world"}', /Could not detect the scanner/],
    ['notes.txt', 'just some words without structure', /not JSON, XML or CSV/],
  ]
  for (const [name, content, message] of cases) {
    it(name, async () => {
      const job = await importFile(content, name)
      expect(job.status).toBe('failed')
      expect(job.error_message).toMatch(message)
      expect(job.recent_logs.join('\n')).toContain('ERROR')
    })
  }

  it('a file of the wrong format for the named scanner fails with a clear message', async () => {
    const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'g.json', { scanner_type: 'nessus' })
    expect(job.status).toBe('failed')
    expect(job.error_message).toMatch(/XML|CSV/)
  })
})

describe('retention', () => {
  it('deletes finished import jobs older than VV_SCANS_RETENTION_DAYS with their logs; the findings stay', async () => {
    const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'old.json')
    expect(job.status).toBe('completed')
    await t.platform.db.updateTable('scan_imports').set({ completed_at: new Date(Date.now() - 91 * 86_400_000) }).where('id', '=', job.job_id).execute()
    const purged = await scansModule.maintenance!(t.platform)
    expect(purged.scan_imports).toBeGreaterThanOrEqual(1)
    expect((await getJob(job.job_id)).status).toBe(404)
    const logs = await t.platform.db.selectFrom('scan_import_logs').select('import_id').where('import_id', '=', job.job_id).execute()
    expect(logs).toHaveLength(0)
    const findings = await fetch(`${base}/api/v1/findings?source=scan`, { headers: { 'x-api-key': key } }).then((r) => r.json()) as { pagination: { total: number } }
    expect(findings.pagination.total).toBeGreaterThan(0)
  })
})

describe('jobs API', () => {
  it('lists the tenant\'s jobs newest first with pagination and a status filter', async () => {
    const res = await fetch(`${base}/api/v1/jobs?page=1&page_size=2`, { headers: { 'x-api-key': key } })
    expect(res.status).toBe(200)
    const body = await res.json() as { total: number; jobs: Record<string, any>[]; page: number; page_size: number }
    expect(body).toMatchObject({ page: 1, page_size: 2 })
    expect(body.jobs).toHaveLength(2)
    expect(body.total).toBeGreaterThan(2)
    expect(Date.parse(body.jobs[0]!.created_at)).toBeGreaterThanOrEqual(Date.parse(body.jobs[1]!.created_at))
    const failed = await fetch(`${base}/api/v1/jobs?status=failed&page_size=100`, { headers: { 'x-api-key': key } }).then((r) => r.json()) as { jobs: { status: string }[] }
    expect(failed.jobs.length).toBeGreaterThan(0)
    expect(failed.jobs.every((j) => j.status === 'failed')).toBe(true)
    const tooBig = await fetch(`${base}/api/v1/jobs?page_size=101`, { headers: { 'x-api-key': key } })
    expect(tooBig.status).toBe(400)
    expect(await tooBig.json()).toMatchObject({ error: 'validation_failed', message: expect.stringContaining('page_size') })
  })

  it('hides other tenants\' jobs (404) and lists none of them', async () => {
    const up = await upload(corpus('gitleaks/gitleaks8_many.json'), 'mine.json')
    const otherKey = await other.apiKey('admin')
    expect((await getJob(up.body.job_id, otherKey)).status).toBe(404)
    const del = await fetch(`${base}/api/v1/jobs/${up.body.job_id}`, { method: 'DELETE', headers: { 'x-api-key': otherKey } })
    expect(del.status).toBe(404)
    const list = await fetch(`${base}/api/v1/jobs`, { headers: { 'x-api-key': otherKey } }).then((r) => r.json()) as { total: number }
    expect(list.total).toBe(0)
    expect((await getJob('job-000000000000000000000000')).body).toMatchObject({ error: 'not_found' })
  })
})

describe('webhook notifications', () => {
  it('POSTs the spec\'s payload with the caller\'s headers, signed with the tenant\'s Standard Webhooks secret; attempts are on the job', async () => {
    const receiver = await startFakeServer((_req, res) => { res.statusCode = 204; res.end() })
    try {
      const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'hooked.json', {
        webhook_url: `${receiver.url}/hook`, webhook_headers: JSON.stringify({ Authorization: 'Bearer token123', 'X-Custom': 'value' }),
      })
      expect(job.status).toBe('completed')
      let deliveries: Record<string, any>[] = []
      for (let i = 0; i < 200; i++) {
        deliveries = (await getJob(job.job_id)).body.webhook_deliveries
        if (deliveries[0]?.status === 'delivered') break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(deliveries).toMatchObject([{ event: 'scan_import.completed', url: `${receiver.url}/hook`, status: 'delivered', attempts: [{ status_code: 204, error: null }] }])
      expect(receiver.requests).toHaveLength(1)
      const req = receiver.requests[0]!
      expect(req.headers).toMatchObject({ authorization: 'Bearer token123', 'x-custom': 'value', 'content-type': 'application/json' })
      const body = JSON.parse(req.body.toString())
      expect(body).toMatchObject({
        job_id: job.job_id, status: 'completed', filename: 'hooked.json', scanner_type: 'gitleaks', success: true, timestamp: expect.any(String),
        assets_imported: job.assets_imported, vulnerabilities_imported: job.vulnerabilities_imported, assessment_name: job.assessment_name,
      })
      // The receiver verifies the signature with the secret an admin reads from the API.
      const secret = await fetch(`${base}/api/v1/webhooks/signing-secret`, { headers: await tenant.auth('admin') }).then((r) => r.json()) as { data: { secret: string } }
      expect(secret.data.secret).toMatch(/^whsec_/)
      const verified = new Webhook(secret.data.secret).verify(req.body.toString(), {
        'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']),
      })
      expect(verified).toMatchObject({ job_id: job.job_id })
      const forged = () => new Webhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`).verify(req.body.toString(), {
        'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']),
      })
      expect(forged).toThrow()
    } finally {
      await receiver.close()
    }
  })

  it('a failed job notifies with success false and the error; a 410 answer stops the retries', async () => {
    const receiver = await startFakeServer((_req, res) => { res.statusCode = 410; res.end() })
    try {
      const job = await importFile('{"hello": "world"}', 'nothing.json', { webhook_url: `${receiver.url}/gone` })
      expect(job.status).toBe('failed')
      let deliveries: Record<string, any>[] = []
      for (let i = 0; i < 200; i++) {
        deliveries = (await getJob(job.job_id)).body.webhook_deliveries
        if (deliveries[0]?.status === 'failed') break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(deliveries).toMatchObject([{ event: 'scan_import.failed', status: 'failed', attempts: [{ status_code: 410 }] }])
      expect(JSON.parse(receiver.requests[0]!.body.toString())).toMatchObject({ job_id: job.job_id, status: 'failed', success: false, error: expect.stringMatching(/Could not detect/) })
    } finally {
      await receiver.close()
    }
  })

  it('refuses a webhook URL that is not http(s)', async () => {
    const r = await upload('{}', 'x.json', { webhook_url: 'file:///etc/passwd' })
    expect(r.status).toBe(400)
    expect(r.body.details.errors[0]).toMatchObject({ field: 'webhook_url' })
  })
})

describe('WS /ws/{job_id}', () => {
  const wsUrl = (id: string, query = '') => `${base.replace('http', 'ws')}/ws/${id}${query}`

  it('streams connected, log, progress and complete for a job; a late joiner gets the final state', async () => {
    const up = await upload(corpus('trivy/legacy_many_vulns.json'), 'live.json')
    const ws = new WebSocket(wsUrl(up.body.job_id), { headers: { 'x-api-key': key } })
    const messages = await collect(ws, (m) => m.type === 'complete' || m.type === 'error')
    ws.close()
    expect(messages[0]).toMatchObject({ type: 'connected', job_id: up.body.job_id, data: { message: `Connected to job ${up.body.job_id}`, status: expect.any(String), progress: expect.any(Number) } })
    const last = messages.at(-1)!
    expect(last).toMatchObject({ type: 'complete', data: { status: 'completed', progress: 100, vulnerabilities_imported: expect.any(Number), assessment_name: expect.any(String) } })

    const late = new WebSocket(wsUrl(up.body.job_id, `?api_key=${encodeURIComponent(key)}`))
    const lateMessages = await collect(late, (m) => m.type === 'complete')
    expect(lateMessages.map((m) => m.type)).toEqual(['connected', 'complete'])
    late.send(JSON.stringify({ command: 'ping' }))
    late.send(JSON.stringify({ command: 'get_status' }))
    const replies = await collect(late, (m) => m.type === 'status')
    expect(replies.map((m) => m.type)).toEqual(['pong', 'status'])
    expect(replies[1]!.data).toMatchObject({ job_id: up.body.job_id, status: 'completed' })
    late.close()
  })

  it('accepts the key as Sec-WebSocket-Protocol and answers with the marker, not the key', async () => {
    const up = await upload(corpus('gitleaks/gitleaks8_many.json'), 'proto.json')
    const ws = new WebSocket(wsUrl(up.body.job_id), ['api_key', key])
    const [first] = await collect(ws, (m) => m.type === 'connected')
    expect(first).toMatchObject({ type: 'connected' })
    expect(ws.protocol).toBe('api_key')
    ws.close()
  })

  it('refuses the upgrade without credentials (401), with a bad key (403) and for another tenant\'s job (404)', async () => {
    const up = await upload(corpus('gitleaks/gitleaks8_many.json'), 'private.json')
    const status = (url: string, headers: Record<string, string> = {}) => new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers })
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
      ws.on('open', () => { resolve(101); ws.close() })
      ws.on('error', () => undefined)
    })
    expect(await status(wsUrl(up.body.job_id))).toBe(401)
    expect(await status(wsUrl(up.body.job_id), { 'x-api-key': 'vv_deadbeef_notarealkeynotarealkeynotarealkey0000' })).toBe(403)
    expect(await status(wsUrl(up.body.job_id), { 'x-api-key': await other.apiKey('admin') })).toBe(404)
    expect(await status(wsUrl(up.body.job_id), { 'x-api-key': key })).toBe(101)
  })
})

describe('WS across processes and heartbeats', () => {
  // A second API instance on the same database and Redis, without workers: the job runs on the first one's worker
  // and its messages reach this instance's WebSocket client through Redis pub/sub.
  it.skipIf(!process.env.VV_TEST_REDIS_URL)('a client of one API process follows a job that a worker elsewhere runs', async () => {
    const api = await createTestApp({ VV_UPLOAD_DIR: uploadDir })
    try {
      const url = await api.app.listen({ port: 0, host: '127.0.0.1' })
      const { body: up } = await upload(corpus('trivy/legacy_many_vulns.json'), 'elsewhere.json', {}, key, url)
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/${up.job_id}`, { headers: { 'x-api-key': key } })
      const seen = (await collect(ws, (m) => m.type === 'complete')).map((m) => m.type)
      ws.close()
      expect(api.platform.jobs.working).toBe(false)
      expect(seen[0]).toBe('connected')
      expect(seen).toContain('complete')
    } finally {
      await api.close()
    }
  })

  it('sends a heartbeat every VV_WS_HEARTBEAT_SECONDS', async () => {
    const quick = await createTestApp({ VV_UPLOAD_DIR: uploadDir, VV_WS_HEARTBEAT_SECONDS: '1', VV_REDIS_PREFIX: `vv-test-${process.pid}-heartbeat` })
    try {
      const url = await quick.app.listen({ port: 0, host: '127.0.0.1' })
      const { body: up } = await upload(corpus('gitleaks/gitleaks8_many.json'), 'beat.json', {}, key, url)
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/${up.job_id}`, { headers: { 'x-api-key': key } })
      const beat = (await collect(ws, (m) => m.type === 'heartbeat')).at(-1)
      ws.close()
      expect(beat).toEqual({ type: 'heartbeat', timestamp: expect.any(String) })
    } finally {
      await quick.close()
    }
  })
})

describe('export to Phoenix', () => {
  let phoenix: FakePhoenix
  beforeAll(async () => { phoenix = await startFakePhoenix({ clientId: 'phx-client', clientSecret: 'phx-secret-value' }) })
  afterAll(async () => { await phoenix.close() })
  const creds = () => ({ phoenix_client_id: 'phx-client', phoenix_client_secret: 'phx-secret-value', phoenix_api_url: phoenix.url })

  it('uses the upload\'s credentials, batches by max_batch_size, and keeps no secret once done', async () => {
    const before = phoenix.imports.length
    const job = await importFile(corpus('trivy/legacy_many_vulns.json'), 'phx.json', { ...creds(), max_batch_size: '40', assessment_name: 'Q4 Container Scan', import_type: 'delta' })
    expect(job.status, job.error_message).toBe('completed')
    const sent = phoenix.imports.slice(before)
    const open = job.vulnerabilities_imported as number
    expect(sent.length).toBe(Math.ceil(open / 40))
    expect(sent.map((i) => i.importType)).toEqual(['delta', ...Array(sent.length - 1).fill('merge')])
    for (const imp of sent) {
      expect(imp.assessment).toEqual({ assetType: 'CONTAINER', name: 'Q4 Container Scan' })
      const n = imp.assets.reduce((a, x) => a + x.findings.length, 0)
      expect(n).toBeLessThanOrEqual(40)
      for (const f of imp.assets.flatMap((a) => a.findings)) expect([1, 2, 5, 8, 10]).toContain(f.severity)
    }
    expect(sent.flatMap((i) => i.assets.flatMap((a) => a.findings)).length).toBeLessThanOrEqual(open)
    expect(job.batch_summary.phoenix.requests).toHaveLength(sent.length)
    expect(job.recent_logs.join('\n')).toMatch(/Exported 1 assets and \d+ open findings to Phoenix/)
    expect(JSON.stringify(job)).not.toContain('phx-secret-value')
    const row = await t.platform.db.selectFrom('scan_imports').select(['phoenix']).where('id', '=', job.job_id).executeTakeFirstOrThrow()
    expect(row.phoenix).toEqual({ client_id: 'phx-client', api_url: phoenix.url })
  })

  it('respects max_payload_mb', async () => {
    const before = phoenix.imports.length
    const job = await importFile(corpus('trivy/legacy_many_vulns.json'), 'phx-small.json', { ...creds(), max_payload_mb: '0.02' })
    expect(job.status, job.error_message).toBe('completed')
    const sent = phoenix.imports.slice(before)
    expect(sent.length).toBeGreaterThan(1)
    for (const imp of sent) expect(imp.bytes).toBeLessThanOrEqual(0.02 * 1048576)
  })

  it('retries a batch Phoenix did not act on (503)', async () => {
    phoenix.failNext(1, 503)
    const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'phx-retry.json', creds())
    expect(job.status, job.error_message).toBe('completed')
  })

  it('fails the job with a clear message when Phoenix refuses the credentials; the findings stay stored', async () => {
    const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'phx-bad.json', { ...creds(), phoenix_client_secret: 'wrong' })
    expect(job.status).toBe('failed')
    expect(job.error_message).toBe('Phoenix refused the client credentials (HTTP 401) (the findings are stored in VeriVault)')
    expect(JSON.stringify(job)).not.toContain('wrong')
  })

  it('fails when batching is off and the export exceeds max_payload_mb', async () => {
    const job = await importFile(corpus('trivy/legacy_many_vulns.json'), 'phx-big.json', { ...creds(), enable_batching: 'false', max_payload_mb: '0.01' })
    expect(job.status).toBe('failed')
    expect(job.error_message).toMatch(/over max_payload_mb .* enable_batching is off/)
  })

  it('answers 400 for a client id without an API URL when no default is configured', async () => {
    const r = await upload(corpus('gitleaks/gitleaks8_many.json'), 'x.json', { phoenix_client_id: 'a', phoenix_client_secret: 'b' })
    expect(r.status).toBe(400)
    expect(r.body.details.errors[0]).toMatchObject({ field: 'phoenix_api_url' })
  })

  it('uses the VV_PHOENIX_* defaults when the upload names no credentials', async () => {
    const other = await createTestApp({ VV_PHOENIX_API_URL: phoenix.url, VV_PHOENIX_CLIENT_ID: 'phx-client', VV_PHOENIX_CLIENT_SECRET: 'phx-secret-value', VV_UPLOAD_DIR: `${uploadDir}-defaults`, VV_REDIS_PREFIX: `vv-test-${process.pid}-phoenix-defaults` })
    try {
      await other.platform.jobs.start({ concurrency: 1 })
      const url = await other.app.listen({ port: 0, host: '127.0.0.1' })
      const k = await (await createTenant(other.platform, 'phx-default')).apiKey('admin')
      const before = phoenix.imports.length
      const job = await importFile(corpus('gitleaks/gitleaks8_many.json'), 'default.json', { assessment_name: 'defaults-check' }, k, url)
      expect(job.status, job.error_message).toBe('completed')
      // Other tests' queued jobs may run here too (one database); count this upload's export only.
      expect(phoenix.imports.slice(before).filter((i) => i.assessment.name === 'defaults-check')).toHaveLength(1)
    } finally {
      await other.platform.jobs.stop({ timeoutMs: 5000 })
      await other.close()
    }
  })
})

describe('health and ping', () => {
  it('ping needs no credentials', async () => {
    const res = await fetch(`${base}/api/v1/ping`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok', timestamp: expect.any(String) })
  })

  it('health reports workers and the queue', async () => {
    const res = await fetch(`${base}/api/v1/health`, { headers: { 'x-api-key': key } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      status: 'healthy', version: expect.any(String), timestamp: expect.any(String),
      workers: { status: expect.any(String), active_workers: expect.any(Number), max_concurrent_jobs: expect.any(Number) },
      queue: { redis_status: expect.stringMatching(/healthy|not_configured/), pending_jobs: expect.any(Number), processing_jobs: expect.any(Number), total_jobs: expect.any(Number) },
    })
  })
})

// Last: it stops this app's workers, so that a job stays queued long enough to be cancelled.
describe('cancellation', () => {
  it('cancels a queued job (204) and refuses to cancel a finished one (400, spec body)', async () => {
    await t.platform.jobs.stop({ timeoutMs: 5000 })
    const queued = await upload(corpus('gitleaks/gitleaks8_many.json'), 'later.json')
    const del = await fetch(`${base}/api/v1/jobs/${queued.body.job_id}`, { method: 'DELETE', headers: { 'x-api-key': key } })
    expect(del.status).toBe(204)
    expect((await getJob(queued.body.job_id)).body).toMatchObject({ status: 'cancelled' })
    const again = await fetch(`${base}/api/v1/jobs/${queued.body.job_id}`, { method: 'DELETE', headers: { 'x-api-key': key } })
    expect(again.status).toBe(400)
    expect(await again.json()).toMatchObject({ error: 'bad_request', message: 'Cannot cancel job with status cancelled', timestamp: expect.any(String) })
  })
})
