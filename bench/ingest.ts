/**
 * npm run bench:ingest — SpectraStrike ingest throughput, each figure next to a baseline from the same run:
 *  1. single-event POST req/s and p99 vs a bare Fastify route validating and echoing the same body (goal ≥ 50%);
 *  2. 250-event batches, events/s into PostgreSQL vs the same rows inserted straight with pg (goal ≥ 40,000/s).
 * Servers run as child processes (one per measurement), autocannon drives them from this process.
 * Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); a fresh database is created.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { fmt, freePort } from './util.js'
import { loadConfig } from '../src/config.js'
import { createPlatform } from '../src/platform/platform.js'

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DURATION = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const BATCH = 250
const dbName = `vv_bench_${process.pid}`
const benchUrl = (() => { const u = new URL(ADMIN_URL); u.pathname = `/${dbName}`; return u.toString() })()
const secret = 'bench-secret-bench-secret-bench-secret!!'
const encKey = Buffer.alloc(32, 3).toString('base64')
const env = {
  ...process.env, VV_DATABASE_URL: benchUrl, VV_JWT_SECRET: secret, VV_ENCRYPTION_KEY: encKey, VV_LOG_LEVEL: 'warn',
  VV_CLIENT_RATE_LIMIT: '10000000', VV_DATA_DIR: mkdtempSync(join(tmpdir(), 'vv-bench-')), VV_DATABASE_POOL_SIZE: '8',
}

const event = (i: string) => `{"source_system":"spectrastrike-sensor","event_type":"PROCESS_ANOMALY","occurred_at":"2026-02-22T10:00:00Z","severity":"high","asset_ref":"host-nyc-01","message":"Unexpected parent-child process chain ${i}","metadata":{"pid":2244,"parent_pid":2210,"technique":"T1059"}}`
const single = event('[<id>]')
const batch = `[${Array.from({ length: BATCH }, (_, i) => event(`[<id>]-${i}`)).join(',')}]`

/** Starts a server process on a free port and waits until it answers. */
async function startChild(args: (port: number) => string[], readyPath: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort()
  const child = spawn(process.execPath, args(port), { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const ok = await fetch(`${url}${readyPath}`, { method: readyPath === '/events' ? 'OPTIONS' : 'GET' }).then(() => true, () => false)
    if (ok) return { child, url }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('server did not start')
}

async function load(url: string, body: string, headers: Record<string, string>, connections = CONNECTIONS) {
  const r = await autocannon({ url, method: 'POST', body, idReplacement: true, connections, duration: DURATION, headers: { 'content-type': 'application/json', ...headers } })
  const ok = r['2xx']
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  warning: ${r.non2xx} non-2xx, ${r.errors} errors at ${url}`)
  return { rps: ok / DURATION, p50: r.latency.p50, p99: r.latency.p99 }
}

async function rawInsertBaseline(): Promise<number> {
  // The same 250-row batches straight into PostgreSQL with one jsonb_to_recordset INSERT each, 8 clients.
  const pool = new pg.Pool({ connectionString: benchUrl, max: 8 })
  await pool.query('create table if not exists raw_events (like events including defaults including indexes)')
  const rows = (k: number) => JSON.stringify(Array.from({ length: BATCH }, (_, i) => ({
    tenant_id: '00000000-0000-0000-0000-000000000000', event_id: `raw-${k}-${i}`, source: 'bench', source_system: 'spectrastrike-sensor',
    event_type: 'PROCESS_ANOMALY', occurred_at: '2026-02-22T10:00:00Z', severity: 'high', severity_rank: 3, asset_ref: 'host-nyc-01',
    message: `Unexpected parent-child process chain ${k}-${i}`, metadata: { pid: 2244 },
  })))
  let n = 0
  const until = Date.now() + DURATION * 1000
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let k = w; Date.now() < until; k += 8) {
      await pool.query(`insert into raw_events (tenant_id, event_id, source, source_system, event_type, occurred_at, severity, severity_rank, asset_ref, message, metadata)
        select * from jsonb_to_recordset($1::jsonb) as x(tenant_id uuid, event_id text, source text, source_system text, event_type text,
          occurred_at timestamptz, severity text, severity_rank smallint, asset_ref text, message text, metadata jsonb)`, [rows(k)])
      n += BATCH
    }
  }))
  await pool.end()
  return n / DURATION
}


async function main() {
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`create database ${dbName}`)
  const children: ChildProcess[] = []
  try {
    // Tenant and token, written by the platform itself (migrations run here).
    const platform = await createPlatform(loadConfig(env as Record<string, string>))
    const tenant = await platform.identity.createTenant('bench')
    const { token } = await platform.tokens.issue({ sub: 'bench', tenantId: tenant.id, role: 'security_engineer', ttlSeconds: 3600 })
    await platform.close()
    const auth = { authorization: `Bearer ${token}` }

    const echo = await startChild(() => ['--import', 'tsx', 'bench/echo-server.ts'], '/events')
    children.push(echo.child)
    const vv = await startChild((port) => ['bin/verivault.js', 'serve', '--port', String(port), '--no-workers'], '/healthz')
    children.push(vv.child)
    const ingest = `${vv.url}/api/v1/integrations/spectrastrike`

    // Warm up both (JIT, connection pools).
    await autocannon({ url: `${echo.url}/events`, method: 'POST', body: single, idReplacement: true, connections: 8, duration: 2, headers: { 'content-type': 'application/json' } })
    await autocannon({ url: `${ingest}/events`, method: 'POST', body: single, idReplacement: true, connections: 8, duration: 2, headers: { 'content-type': 'application/json', ...auth } })

    console.log(`\nSpectraStrike ingest benchmark — ${DURATION} s per run, ${CONNECTIONS} connections, Node ${process.version}\n`)
    const echoSingle = await load(`${echo.url}/events`, single, {})
    const vvSingle = await load(`${ingest}/events`, single, auth)
    console.log('single event POST')
    console.log(`  bare Fastify validate+echo : ${fmt(echoSingle.rps)} req/s   p50 ${echoSingle.p50} ms  p99 ${echoSingle.p99} ms`)
    console.log(`  VeriVault (durable write)  : ${fmt(vvSingle.rps)} req/s   p50 ${vvSingle.p50} ms  p99 ${vvSingle.p99} ms`)
    console.log(`  ratio                      : ${(vvSingle.rps / echoSingle.rps * 100).toFixed(1)}% of bare echo (goal ≥ 50%)\n`)

    const echoBatch = await load(`${echo.url}/events/batch`, batch, {}, 16)
    const vvBatch = await load(`${ingest}/events/batch`, batch, auth, 16)
    const raw = await rawInsertBaseline()
    console.log(`${BATCH}-event batches`)
    console.log(`  bare Fastify validate+echo : ${fmt(echoBatch.rps * BATCH)} events/s  p99 ${echoBatch.p99} ms`)
    console.log(`  raw pg INSERT (8 clients)  : ${fmt(raw)} events/s`)
    console.log(`  VeriVault (durable write)  : ${fmt(vvBatch.rps * BATCH)} events/s  p50 ${vvBatch.p50} ms  p99 ${vvBatch.p99} ms (goal ≥ 40,000 events/s)`)
    console.log(`  ratio                      : ${(vvBatch.rps * BATCH / raw * 100).toFixed(1)}% of raw INSERT, ${(vvBatch.rps / echoBatch.rps * 100).toFixed(1)}% of bare echo\n`)

    const check = new pg.Client({ connectionString: benchUrl })
    await check.connect()
    const stored = await check.query('select count(*)::int as n from events')
    console.log(`  events stored in PostgreSQL: ${fmt(stored.rows[0].n)}`)
    await check.end()
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 1000))
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {})
    await admin.end()
  }
}

await main()
