/**
 * verivault import: in-process on an embedded database, and over HTTP against a running server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { createTenant, createTestApp, type TestApp } from '../helpers/app.js'
import { CORPUS_DIR } from '../scans/corpus.js'

const dataDir = mkdtempSync(join(tmpdir(), 'vv-cli-import-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const cli = (args: string[], env: Record<string, string> = {}) => runCli(dataDir, args, env)

describe('verivault import (in-process)', () => {
  beforeAll(async () => {
    expect((await cli(['tenants', 'create', 'default'])).code).toBe(0)
  })

  it('imports a file into the default tenant, showing progress, and prints the finished job as JSON', async () => {
    const run = await cli(['import', join(CORPUS_DIR, 'trivy/legacy_many_vulns.json'), '--wait'])
    expect(run.stderr).toMatch(/queued legacy_many_vulns\.json as job-[0-9a-f]{24} in tenant default/)
    expect(run.stderr).toMatch(/100% Completed/)
    expect(run.code).toBe(0)
    const job = JSON.parse(run.stdout) as Record<string, any>
    expect(job).toMatchObject({ status: 'completed', scanner_type: 'trivy', vulnerabilities_imported: 93 })
  })

  it('without --wait prints the queued job id for a server\'s workers', async () => {
    const run = await cli(['import', join(CORPUS_DIR, 'gitleaks/gitleaks8_many.json'), '--scanner', 'gitleaks'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^job-[0-9a-f]{24}\n$/)
  })

  it('a file it cannot read ends failed with the reason, exit code 1', async () => {
    const bad = join(dataDir, 'notes.json')
    writeFileSync(bad, '{"hello": "world"}')
    const run = await cli(['import', bad, '--wait'])
    expect(run.code).toBe(1)
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/Could not detect the scanner/) })
  })

  it('rejects a bad option value before uploading anything', async () => {
    const run = await cli(['import', join(CORPUS_DIR, 'trivy/legacy_many_vulns.json'), '--import-type', 'sideways'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/import_type/)
  })
})

describe('verivault import --url (remote)', () => {
  let t: TestApp
  let base: string
  let key: string
  beforeAll(async () => {
    t = await createTestApp({ VV_UPLOAD_DIR: join(dataDir, 'remote-uploads') })
    await t.platform.jobs.start({ concurrency: 1 })
    base = await t.app.listen({ port: 0, host: '127.0.0.1' })
    key = await (await createTenant(t.platform, 'cli')).apiKey('security_engineer')
  })
  afterAll(async () => {
    await t.platform.jobs.stop({ timeoutMs: 5000 })
    await t.close()
  })

  it('uploads over the API and follows the job to the end', async () => {
    const run = await cli(['import', join(CORPUS_DIR, 'zap/0_zap_sample.xml'), '--url', base, '--wait', '--import-type', 'merge'], { VERIVAULT_API_KEY: key })
    expect(run.stderr).toMatch(/uploaded 0_zap_sample\.xml as job-/)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', scanner_type: 'zap', import_type: 'merge', vulnerabilities_imported: 4 })
  })

  it('reports the server\'s error for a rejected upload', async () => {
    const run = await cli(['import', join(CORPUS_DIR, 'zap/0_zap_sample.xml'), '--url', base, '--api-key', 'vv_deadbeef_notarealkeynotarealkeynotarealkey0000'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/upload failed: HTTP 403/)
  })
})
