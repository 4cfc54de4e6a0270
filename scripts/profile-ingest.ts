/**
 * Where single-event and batch ingest spend their time: starts `verivault serve` on a fresh PostgreSQL database,
 * drives it with autocannon, and prints throughput and latency next to the CPU each party used (the server, the
 * PostgreSQL backends, the whole machine). A server that is not CPU-bound is waiting on the database; a machine
 * near 200 % busy is the limit on two cores. For whoever next tunes the write path:
 *
 *   node --import tsx scripts/profile-ingest.ts [--batch] [--connections 64] [--seconds 8] [--cpu-prof DIR] [--log-sql]
 *
 * --cpu-prof writes the server's V8 profile into DIR (open it in Chrome DevTools or speedscope); --log-sql makes
 * PostgreSQL log every statement's parse/bind/execute time for the database (read them from the server log).
 * Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Run `npm run build` first.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { freePort, fmt } from '../bench/util.js'
import { loadConfig } from '../src/config.js'
import { createPlatform } from '../src/platform/platform.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : dflt }
const batch = args.includes('--batch')
const connections = Number(opt('connections', batch ? '16' : '64'))
const seconds = Number(opt('seconds', '8'))
const profDir = args.includes('--cpu-prof') ? opt('cpu-prof', '.') : undefined

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const dbName = `vv_profile_${process.pid}`
const dbUrl = (() => { const u = new URL(ADMIN_URL); u.pathname = `/${dbName}`; return u.toString() })()
const env = {
  ...process.env, VV_DATABASE_URL: dbUrl, VV_JWT_SECRET: 'bench-secret-bench-secret-bench-secret!!',
  VV_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'), VV_LOG_LEVEL: 'warn', VV_CLIENT_RATE_LIMIT: '10000000',
  VV_DATA_DIR: mkdtempSync(join(tmpdir(), 'vv-profile-')), VV_DATABASE_POOL_SIZE: '8',
}
const event = (i: string) => `{"source_system":"spectrastrike-sensor","event_type":"PROCESS_ANOMALY","occurred_at":"2026-02-22T10:00:00Z","severity":"high","asset_ref":"host-nyc-01","message":"Unexpected parent-child process chain ${i}","metadata":{"pid":2244,"parent_pid":2210,"technique":"T1059"}}`

/** CPU seconds (user + system) a process has used. */
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
/** CPU seconds of every PostgreSQL process on the machine (ps rounds to whole seconds: read it over 5 s or more). */
const postgresCpu = () => execFileSync('ps', ['-C', 'postgres', '-o', 'times=']).toString().trim().split(/\s+/).reduce((s, x) => s + Number(x || 0), 0)
/** Idle and total jiffies of the whole machine. */
const machine = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number)
  return { idle: f[3]! + f[4]!, all: f.reduce((a, b) => a + b, 0) }
}

const admin = new pg.Client({ connectionString: ADMIN_URL })
await admin.connect()
await admin.query(`create database ${dbName}`)
if (args.includes('--log-sql')) await admin.query(`alter database ${dbName} set log_min_duration_statement = 0`)
let child: ReturnType<typeof spawn> | undefined
try {
  const platform = await createPlatform(loadConfig(env as Record<string, string>))
  const tenant = await platform.identity.createTenant('profile')
  const { token } = await platform.tokens.issue({ sub: 'profile', tenantId: tenant.id, role: 'security_engineer', ttlSeconds: 3600 })
  await platform.close()

  const port = await freePort()
  const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []
  const server = spawn(process.execPath, [...nodeArgs, 'bin/verivault.js', 'serve', '--port', String(port), '--no-workers'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  child = server
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); i++) {
    if (i > 300) throw new Error('server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  const body = batch ? `[${Array.from({ length: 250 }, (_, i) => event(`[<id>]-${i}`)).join(',')}]` : event('[<id>]')
  const load = {
    url: `${base}/api/v1/integrations/spectrastrike/events${batch ? '/batch' : ''}`, method: 'POST' as const, body, idReplacement: true,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  }
  await autocannon({ ...load, connections: 8, duration: 2 })

  const [s0, p0, m0, t0] = [cpuOf(server.pid!), postgresCpu(), machine(), performance.now()]
  const r = await autocannon({ ...load, connections, duration: seconds })
  const wall = (performance.now() - t0) / 1000
  const [s1, p1, m1] = [cpuOf(server.pid!), postgresCpu(), machine()]
  const perSecond = r['2xx'] / seconds
  const pct = (cpu: number) => `${Math.round((cpu / wall) * 100)}%`
  console.log(`\n${batch ? '250-event batches' : 'single events'}, ${connections} connections, ${seconds} s`)
  console.log(`  ${batch ? `${fmt(perSecond * 250)} events/s (${fmt(perSecond)} req/s)` : `${fmt(perSecond)} req/s`}   p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  non-2xx ${r.non2xx}`)
  console.log(`  CPU: server ${pct(s1 - s0)}, PostgreSQL ${pct(p1 - p0)}, machine ${Math.round((1 - (m1.idle - m0.idle) / (m1.all - m0.all)) * 100)}% of all cores busy`)
  console.log(`  server CPU per request: ${Math.round(((s1 - s0) / r['2xx']) * 1e6)} µs\n`)
} finally {
  if (child) {
    const exited = new Promise((r) => child!.once('exit', r))
    child.kill('SIGINT') // a clean exit writes the CPU profile
    await exited
  }
  await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {})
  await admin.end()
}
