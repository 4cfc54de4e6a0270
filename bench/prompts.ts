/**
 * npm run bench:prompts — prompt-analysis performance, each figure next to its goal or a baseline from the same run:
 *  1. in-process latency per ~1 KB prompt (p50, p99; goal p50 < 0.2 ms, p99 < 1 ms at the professional tier), for
 *     the professional and community tiers, with normalisation alone and the secret/PII detectors alone;
 *  2. engine.analyzeBatch over 1,000 mixed prompts (goal < 200 ms);
 *  3. HTTP POST /analyze req/s through the real server (API key of the professional tier, rate limits lifted) as a
 *     ratio to a bare Fastify route validating and echoing the same body (goal ≥ 0.5), plus a bare Fastify route that
 *     runs engine.analyze itself, which splits framework cost from engine cost;
 *  4. vard and llm-guard (npm) on the same prompts, called as scripts/eval-prompts.ts calls them.
 * The ~1 KB prompts are built from corpus/prompts/dev.jsonl (2/3 benign text, 1/3 attacks, concatenated or cut to
 * 1,024 characters). Servers run as child processes (this file with --serve echo|engine, and bin/verivault.js serve);
 * autocannon drives them from this process. The server's database: PostgreSQL at BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test, a fresh database is created and dropped) when reachable, else the embedded
 * PGlite in a temp dir. BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_ANALYZE_PATH (/analyze).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import pg from 'pg'
import { Type } from 'typebox'
import { fmt, freePort } from './util.js'
import { DEFAULT_DATASET, engineInventory, llmGuardDetector, loadJsonl, percentile, vardDetector, type Detector } from '../scripts/eval-prompts.js'
import { loadConfig, settings } from '../src/config.js'
import { createEngine, type Tier } from '../src/modules/prompts/engine/index.js'
import { findLeaks } from '../src/modules/prompts/engine/leaks.js'
import { normalizePrompt } from '../src/modules/prompts/engine/normalize.js'
import { createPlatform } from '../src/platform/platform.js'

const PROMPT_CHARS = 1024
const PROMPTS = 1000
const DURATION = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const ANALYZE_PATH = process.env.BENCH_ANALYZE_PATH ?? '/analyze'
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const AnalyzeBody = Type.Object({ prompt: Type.String({ minLength: 1 }), user_tier: Type.Optional(Type.String()) })

// ---------------------------------------------------------------------------------------------------------------------
// Child mode: the two baseline servers.

async function serve(kind: string): Promise<void> {
  const app = Fastify({ logger: { level: process.env.VV_LOG_LEVEL ?? 'warn' }, bodyLimit: 1_048_576 })
  app.get('/healthz', async () => ({ status: 'ok' }))
  if (kind === 'echo') {
    app.post('/analyze', { schema: { body: AnalyzeBody } }, async (request) => request.body)
  } else if (kind === 'engine') {
    const engine = createEngine()
    app.post('/analyze', { schema: { body: AnalyzeBody } }, async (request) => {
      const body = request.body as { prompt: string; user_tier?: string }
      return engine.analyze(body.prompt, { tier: (body.user_tier as Tier | undefined) ?? 'professional' })
    })
  } else {
    throw new Error(`unknown server kind "${kind}"`)
  }
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
}

// ---------------------------------------------------------------------------------------------------------------------
// Prompts

/** `count` prompts of exactly `size` characters: every third one from attack text, the others from benign text. */
function buildPrompts(benign: readonly string[], attacks: readonly string[], count: number, size = PROMPT_CHARS): { text: string; attack: boolean }[] {
  const cursors = { benign: 0, attack: 0 }
  const next = (attack: boolean) => {
    const pool = attack ? attacks : benign
    const k = attack ? 'attack' : 'benign'
    const t = pool[cursors[k] % pool.length]!
    cursors[k]++
    return t
  }
  const out: { text: string; attack: boolean }[] = []
  for (let i = 0; i < count; i++) {
    const attack = i % 3 === 2
    let text = next(attack)
    while (text.length < size) text += `\n\n${next(attack)}`
    out.push({ text: text.slice(0, size), attack })
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------------
// Measurements

interface Latency { p50: number; p99: number; mean: number; n: number }

function summarise(times: number[]): Latency {
  return { p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((s, x) => s + x, 0) / times.length, n: times.length }
}

/** Per-call latency over `rounds` passes, after `warmup` untimed passes. */
function latencySync(fn: (p: string) => unknown, prompts: readonly string[], rounds: number, warmup = 2): Latency {
  for (let r = 0; r < warmup; r++) for (const p of prompts) fn(p)
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    for (const p of prompts) {
      const t0 = performance.now()
      fn(p)
      times.push(performance.now() - t0)
    }
  }
  return summarise(times)
}

async function latencyOf(d: Detector, prompts: readonly string[], rounds: number, warmup = 2): Promise<Latency> {
  for (let r = 0; r < warmup; r++) for (const p of prompts) await d.detect(p)
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    for (const p of prompts) {
      const t0 = performance.now()
      const v = d.detect(p)
      if (v instanceof Promise) await v
      times.push(performance.now() - t0)
    }
  }
  return summarise(times)
}

const ms = (x: number) => `${x.toFixed(3)} ms`
const mark = (ok: boolean) => (ok ? 'met' : 'NOT met')
const line = (label: string, l: Latency) => `  ${label.padEnd(34)}: p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  mean ${ms(l.mean)}  (${fmt(l.n)} calls)`

interface Load { rps: number; p50: number; p99: number; non2xx: number; errors: number }

async function load(url: string, bodies: readonly string[], headers: Record<string, string>, duration = DURATION, connections = CONNECTIONS): Promise<Load> {
  const r = await autocannon({
    url, method: 'POST', connections, duration,
    headers: { 'content-type': 'application/json', ...headers },
    requests: bodies.map((body) => ({ method: 'POST', body })),
  })
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  warning: ${r.non2xx} non-2xx, ${r.errors} errors at ${url}`)
  return { rps: r['2xx'] / duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors }
}

async function startChild(args: string[], env: NodeJS.ProcessEnv, port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server ${args.join(' ')} exited with ${child.exitCode}`)
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { child, url }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGTERM')
  throw new Error(`server ${args.join(' ')} did not start`)
}

/** An admin connection to PostgreSQL, or undefined when none answers (the server then uses embedded PGlite). */
async function postgresAdmin(): Promise<pg.Client | undefined> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    return c
  } catch {
    await c.end().catch(() => {})
    return undefined
  }
}

/** VV_PROMPT_RATE_LIMIT_* lifted to 100,000,000/min (or the setting's max), for the settings this checkout declares. */
function liftedPromptLimits(): Record<string, string> {
  const out: Record<string, string> = {}
  const declared = settings as Record<string, { kind: string; max?: number }>
  for (const t of ['COMMUNITY', 'PROFESSIONAL', 'ENTERPRISE']) {
    const s = declared[`VV_PROMPT_RATE_LIMIT_${t}`]
    if (s?.kind === 'int') out[`VV_PROMPT_RATE_LIMIT_${t}`] = String(Math.min(100_000_000, s.max ?? 100_000_000))
  }
  return out
}

async function httpSection(prompts: readonly string[]): Promise<void> {
  const bodies = prompts.map((prompt) => JSON.stringify({ prompt, user_tier: 'professional' }))
  console.log(`3. HTTP POST ${ANALYZE_PATH}, ${fmt(bodies.length)} distinct ~1 KB prompts (professional), ${DURATION} s per run, ${CONNECTIONS} connections`)

  const dataDir = mkdtempSync(join(tmpdir(), 'vv-bench-prompts-'))
  const admin = await postgresAdmin()
  const dbName = `vv_bench_prompts_${process.pid}`
  const limits = liftedPromptLimits()
  const env: NodeJS.ProcessEnv = {
    ...process.env, VV_JWT_SECRET: 'bench-secret-bench-secret-bench-secret!!', VV_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    VV_LOG_LEVEL: 'warn', VV_DATA_DIR: dataDir, VV_CLIENT_RATE_LIMIT: '10000000', ...limits,
  }
  if (admin) {
    await admin.query(`create database ${dbName}`)
    const u = new URL(ADMIN_URL)
    u.pathname = `/${dbName}`
    env.VV_DATABASE_URL = u.toString()
    env.VV_DATABASE_POOL_SIZE = '8'
  } else {
    delete env.VV_DATABASE_URL
  }
  console.log(`  server database: ${admin ? 'PostgreSQL (fresh database)' : 'embedded PGlite (PostgreSQL not reachable)'}; `
    + (Object.keys(limits).length === 3 ? `prompt rate limits ${fmt(Number(limits.VV_PROMPT_RATE_LIMIT_PROFESSIONAL))}/min` : 'VV_PROMPT_RATE_LIMIT_* not declared in src/config.ts yet (server defaults apply)'))

  const children: ChildProcess[] = []
  try {
    // Tenant and API key (professional tier), written by the platform itself (migrations run here).
    const platform = await createPlatform(loadConfig(env as Record<string, string>))
    const tenant = await platform.identity.createTenant('bench-prompts')
    const { key } = await platform.identity.createApiKey(tenant.id, { role: 'security_engineer', tier: 'professional', name: 'bench' })
    await platform.close()
    const auth = { 'x-api-key': key }

    const echo = await startChild(['--import', 'tsx', 'bench/prompts.ts', '--serve', 'echo'], env, await freePort())
    children.push(echo.child)
    const bare = await startChild(['--import', 'tsx', 'bench/prompts.ts', '--serve', 'engine'], env, await freePort())
    children.push(bare.child)
    const vvPort = await freePort()
    const vv = await startChild(['bin/verivault.js', 'serve', '--port', String(vvPort), '--no-workers'], env, vvPort)
    children.push(vv.child)

    // Is the route there, and does it answer with an analysis?
    const probe = await fetch(`${vv.url}${ANALYZE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: bodies[0] })
    const probeText = await probe.text()
    let routeProblem: string | undefined
    if (probe.status === 404) routeProblem = `route not available (POST ${ANALYZE_PATH} answered 404)`
    else if (!probe.ok) routeProblem = `route not usable: POST ${ANALYZE_PATH} answered ${probe.status} ${probeText.slice(0, 200)}`
    else if (!/"is_threat"/.test(probeText)) routeProblem = `route answered ${probe.status} without an analysis: ${probeText.slice(0, 200)}`

    // Warm up (JIT, pools, caches).
    for (const [u, h] of [[echo.url, {}], [bare.url, {}], ...(routeProblem ? [] : [[vv.url, auth]])] as [string, Record<string, string>][]) {
      await load(`${u}${u === vv.url ? ANALYZE_PATH : '/analyze'}`, bodies, h, 2, 8)
    }

    const echoLoad = await load(`${echo.url}/analyze`, bodies, {})
    const bareLoad = await load(`${bare.url}/analyze`, bodies, {})
    const row = (label: string, l: Load) => `  ${label.padEnd(34)}: ${fmt(l.rps).padStart(7)} req/s   p50 ${l.p50} ms  p99 ${l.p99} ms`
    console.log(row('bare Fastify validate+echo', echoLoad))
    console.log(`${row('bare Fastify + engine.analyze', bareLoad)}   = ${(bareLoad.rps / echoLoad.rps).toFixed(2)}× echo`)
    if (routeProblem) {
      console.log(`  VeriVault POST ${ANALYZE_PATH.padEnd(19)}: ${routeProblem}`)
    } else {
      const vvLoad = await load(`${vv.url}${ANALYZE_PATH}`, bodies, auth)
      console.log(row(`VeriVault POST ${ANALYZE_PATH}`, vvLoad))
      console.log(`  ratio to bare echo                : ${(vvLoad.rps / echoLoad.rps).toFixed(2)}× (goal ≥ 0.5: ${mark(vvLoad.rps / echoLoad.rps >= 0.5)})`)
      console.log(`  ratio to bare engine route        : ${(vvLoad.rps / bareLoad.rps).toFixed(2)}× (the rest is auth, rate limit, logging, response schema)`)
    }
  } catch (e) {
    console.log(`  HTTP section failed: ${(e as Error).message}`)
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 1000))
    if (admin) {
      await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {})
      await admin.end()
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  console.log('')
}

async function main(): Promise<void> {
  const data = loadJsonl(DEFAULT_DATASET)
  const benign = data.items.filter((i) => i.label === 0).map((i) => i.text)
  const attacks = data.items.filter((i) => i.label === 1).map((i) => i.text)
  const set = buildPrompts(benign, attacks, PROMPTS)
  const prompts = set.map((p) => p.text)
  const engine = createEngine()
  console.log(`\nPrompt-analysis benchmark — ${fmt(prompts.length)} prompts of ${fmt(PROMPT_CHARS)} characters from dev.jsonl (${set.filter((p) => p.attack).length} from attacks), Node ${process.version}`)
  console.log(`engine: ${engineInventory(engine)}\n`)

  // 1. In-process latency.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 10)
  const pro = latencySync((p) => engine.analyze(p, { tier: 'professional' }), prompts, rounds)
  const com = latencySync((p) => engine.analyze(p, { tier: 'community' }), prompts, rounds)
  const norm = latencySync((p) => normalizePrompt(p), prompts, rounds)
  const leaks = latencySync((p) => findLeaks(p), prompts, rounds)
  const flagged = prompts.filter((p) => engine.analyze(p, { tier: 'professional' }).is_threat).length
  console.log('1. in-process latency per 1 KB prompt (engine.analyze, after 2 warm-up passes)')
  console.log(`${line('professional tier', pro)}   goal p50 < 0.2 ms: ${mark(pro.p50 < 0.2)}, p99 < 1 ms: ${mark(pro.p99 < 1)}`)
  console.log(line('community tier', com))
  console.log(line('of which normalisation alone', norm))
  console.log(line('of which leak detectors alone', leaks))
  console.log(`  (professional flags ${flagged} of ${prompts.length}; ${set.filter((p) => p.attack).length} were built from attacks)\n`)

  // 2. Batch.
  const batchTimes: number[] = []
  engine.analyzeBatch(prompts, { tier: 'professional' })
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    engine.analyzeBatch(prompts, { tier: 'professional' })
    batchTimes.push(performance.now() - t0)
  }
  batchTimes.sort((a, b) => a - b)
  console.log(`2. engine.analyzeBatch of ${fmt(prompts.length)} mixed 1 KB prompts (professional, 5 runs after 1 warm-up)`)
  console.log(`  best ${batchTimes[0]!.toFixed(1)} ms, median ${batchTimes[2]!.toFixed(1)} ms, worst ${batchTimes[4]!.toFixed(1)} ms (goal < 200 ms: ${mark(batchTimes[2]! < 200)})\n`)

  // 3. HTTP.
  await httpSection(prompts)

  // 4. Peers on the same prompts.
  console.log('4. peers on the same 1 KB prompts (in process, as scripts/eval-prompts.ts calls them)')
  const peers = [vardDetector('moderate'), llmGuardDetector('attacks')]
  console.log(line('VeriVault professional (from 1.)', pro))
  console.log(line('VeriVault community (from 1.)', com))
  for (const d of peers) console.log(line(d.name === 'vard' ? 'vard (moderate)' : 'llm-guard (injection+jailbreak)', await latencyOf(d, prompts, rounds)))
  console.log('  reference figures, not measured here: SecureVector\'s own rules cost 10–50 ms per request; LLM Guard\'s (ProtectAI,')
  console.log('  Python) DeBERTa prompt-injection classifier ~100–200 ms per prompt on CPU. The npm llm-guard above is regex-only.\n')
}

const serveAt = process.argv.indexOf('--serve')
if (serveAt >= 0) await serve(process.argv[serveAt + 1] ?? '')
else await main()
