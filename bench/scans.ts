/**
 * npm run bench:scans — scanner import, each figure next to a baseline from the same run:
 *  1. parse + normalise throughput of a generated ~50 MB Trivy report vs JSON.parse of the same file (goal ≥ 0.5×);
 *  2. end to end through a running server (upload → job completed, findings stored in PostgreSQL): findings stored
 *     per second (goal ≥ 20,000) and the total time (DefectDojo users report ~400 s for 13k findings);
 *  3. the server's peak RSS during the import vs the file size (goal ≤ 4×), and its growth over the idle server.
 * Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); a fresh database is created.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { fmt, freePort } from './util.js'
import { loadConfig } from '../src/config.js'
import { normalize } from '../src/modules/scans/normalize.js'
import { loadDocument } from '../src/modules/scans/parsers/document.js'
import { parser as trivy } from '../src/modules/scans/parsers/trivy.js'
import { createPlatform } from '../src/platform/platform.js'

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const VULNS = Number(process.env.BENCH_VULNS ?? 20_000)
const dbName = `vv_bench_scans_${process.pid}`
const benchUrl = (() => { const u = new URL(ADMIN_URL); u.pathname = `/${dbName}`; return u.toString() })()
const dir = mkdtempSync(join(tmpdir(), 'vv-bench-scans-'))
const env = {
  ...process.env, VV_DATABASE_URL: benchUrl, VV_JWT_SECRET: 'bench-secret-bench-secret-bench-secret!!',
  VV_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'), VV_LOG_LEVEL: 'warn', VV_DATA_DIR: dir, VV_MAX_UPLOAD_MB: '200',
}
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`

/** A Trivy SchemaVersion 2 report shaped like a real one (long descriptions, references, CVSS per source). */
function generateReport(vulns: number): string {
  const perTarget = 500
  const results = []
  for (let t = 0; t * perTarget < vulns; t++) {
    const list = []
    for (let i = t * perTarget; i < Math.min(vulns, (t + 1) * perTarget); i++) {
      const cve = `CVE-${2015 + (i % 10)}-${10000 + i}`
      const sev = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN'][i % 5]
      list.push({
        VulnerabilityID: cve, PkgID: `pkg-${i % 700}@1.${i % 13}.${i % 7}`, PkgName: `pkg-${i % 700}`, InstalledVersion: `1.${i % 13}.${i % 7}`,
        FixedVersion: `1.${i % 13}.${(i % 7) + 1}`, Status: 'fixed', Layer: { Digest: `sha256:${(i * 7919).toString(16).padStart(64, '0')}` },
        SeveritySource: 'nvd', PrimaryURL: `https://avd.aquasec.com/nvd/${cve.toLowerCase()}`,
        DataSource: { ID: 'debian', Name: 'Debian Security Tracker', URL: 'https://salsa.debian.org/security-tracker-team/security-tracker' },
        Title: `pkg-${i % 700}: buffer overflow in the parser of component ${i % 97} allows remote code execution`,
        Description: `A flaw was found in pkg-${i % 700} (${cve}). `.repeat(14) + 'An attacker could exploit this to execute arbitrary code or cause a denial of service.',
        Severity: sev, CweIDs: [`CWE-${120 + (i % 30)}`],
        CVSS: { nvd: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', V3Score: 9.8, V2Vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P', V2Score: 7.5 }, redhat: { V3Vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', V3Score: 8.1 } },
        References: Array.from({ length: 6 }, (_, k) => `https://security-tracker.debian.org/tracker/${cve}?ref=${k}`),
        PublishedDate: '2021-03-01T15:15:00Z', LastModifiedDate: '2023-11-07T03:31:00Z',
      })
    }
    results.push({ Target: `app/layer-${t}/package-lock.json`, Class: 'lang-pkgs', Type: 'npm', Vulnerabilities: list })
  }
  return JSON.stringify({
    SchemaVersion: 2, ArtifactName: 'registry.example.com/shop/api:2026.11', ArtifactType: 'container_image',
    Metadata: { OS: { Family: 'debian', Name: '12.5' }, ImageID: 'sha256:abc', RepoTags: ['registry.example.com/shop/api:2026.11'] },
    Results: results,
  }, null, 2)
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

function best<T>(runs: number, fn: () => T): { ms: number; value: T } {
  let ms = Infinity
  let value: T | undefined
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    value = fn()
    ms = Math.min(ms, performance.now() - t)
  }
  return { ms, value: value! }
}

async function main() {
  const text = generateReport(VULNS)
  const file = join(dir, 'trivy-bench.json')
  writeFileSync(file, text)
  const bytes = Buffer.byteLength(text)
  console.log(`\nScanner import benchmark — generated Trivy report: ${mb(bytes)}, ${fmt(VULNS)} vulnerabilities, Node ${process.version}\n`)

  // 1. In-process: the same buffer through JSON.parse, and through load + detect-ready parse + normalise.
  const buf = readFileSync(file)
  const baseline = best(3, () => JSON.parse(buf.toString('utf8')) as unknown)
  const ours = best(3, () => {
    const doc = loadDocument('trivy-bench.json', buf)
    const r = trivy.parse(doc, { fixData: true, repair() {}, warn() {} })
    return normalize(r, { parserId: 'trivy' })
  })
  const doc = loadDocument('trivy-bench.json', buf)
  const stage = best(3, () => normalize(trivy.parse(doc, { fixData: true, repair() {}, warn() {} }), { parserId: 'trivy' }))
  console.log('parse + normalise (in process, best of 3)')
  console.log(`  JSON.parse of the file          : ${baseline.ms.toFixed(0)} ms  (${mb(bytes / (baseline.ms / 1000))}/s)`)
  console.log(`  VeriVault load+parse+normalise  : ${ours.ms.toFixed(0)} ms  (${mb(bytes / (ours.ms / 1000))}/s), ${fmt(ours.value.parsedFindings)} findings`)
  console.log(`  ratio                           : ${(baseline.ms / ours.ms).toFixed(2)}× JSON.parse throughput (goal ≥ 0.5)`)
  console.log(`  of which parser + normalise     : ${stage.ms.toFixed(0)} ms on the loaded document = ${(baseline.ms / stage.ms).toFixed(2)}× JSON.parse\n`)

  // 2. End to end through a server on PostgreSQL.
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`create database ${dbName}`)
  const port = await freePort()
  let child: ReturnType<typeof spawn> | undefined
  try {
    const platform = await createPlatform(loadConfig(env as Record<string, string>))
    const tenant = await platform.identity.createTenant('bench')
    const { key } = await platform.identity.createApiKey(tenant.id, { role: 'security_engineer', name: 'bench' })
    await platform.close()

    child = spawn(process.execPath, ['bin/verivault.js', 'serve', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'inherit'] })
    const base = `http://127.0.0.1:${port}`
    for (let i = 0; ; i++) {
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break
      if (i > 300) throw new Error('server did not start')
      await new Promise((r) => setTimeout(r, 100))
    }
    const idle = rssOf(child.pid!)
    const form = new FormData()
    form.append('file', new Blob([buf]), 'trivy-bench.json')
    const t0 = performance.now()
    const up = await fetch(`${base}/api/v1/upload`, { method: 'POST', headers: { 'x-api-key': key }, body: form }).then((r) => r.json()) as { job_id: string }
    const tUploaded = performance.now()
    let job: Record<string, any>
    for (;;) {
      job = await fetch(`${base}/api/v1/jobs/${up.job_id}`, { headers: { 'x-api-key': key } }).then((r) => r.json()) as Record<string, any>
      if (['completed', 'failed', 'cancelled'].includes(job.status)) break
      await new Promise((r) => setTimeout(r, 25))
    }
    const total = (performance.now() - t0) / 1000
    const mem = rssOf(child.pid!)
    if (job.status !== 'completed') throw new Error(`import ${job.status}: ${job.error_message}`)
    const summary = job.batch_summary as { store_ms: number; parse_ms: number; findings_written: number; duration_ms: number }
    const check = new pg.Client({ connectionString: benchUrl })
    await check.connect()
    const stored = Number((await check.query(`select count(*) from findings where source = 'scan'`)).rows[0].count)
    await check.end()
    console.log('end to end (upload → job completed; server with in-process worker, PostgreSQL)')
    console.log(`  upload accepted after           : ${(tUploaded - t0).toFixed(0)} ms`)
    console.log(`  job: parse ${summary.parse_ms} ms, store ${summary.store_ms} ms, total ${summary.duration_ms} ms`)
    console.log(`  findings stored                 : ${fmt(stored)} (${fmt(job.vulnerabilities_imported)} in the file)`)
    console.log(`  store rate                      : ${fmt(summary.findings_written / (summary.store_ms / 1000))} findings/s (goal ≥ 20,000)`)
    console.log(`  end-to-end rate                 : ${fmt(stored / total)} findings/s, ${total.toFixed(1)} s in all (DefectDojo users: ~400 s for 13k)\n`)
    console.log('memory (server process)')
    console.log(`  idle RSS ${mb(idle.rss)}, peak RSS ${mb(mem.hwm)} = ${(mem.hwm / bytes).toFixed(1)}× the file (goal ≤ 4×); growth over idle ${mb(mem.hwm - idle.rss)} = ${((mem.hwm - idle.rss) / bytes).toFixed(1)}×`)
  } finally {
    child?.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 1000))
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {})
    await admin.end()
  }
}

await main()
