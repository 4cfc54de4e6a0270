/**
 * npm run eval:prompts [file.jsonl] — detection quality of the prompt-analysis engine next to two npm peers, all run
 * on the same labelled prompts in the same process:
 *
 *   VeriVault community     createEngine().analyze(text, { tier: 'community' })     rules only
 *   VeriVault professional  createEngine().analyze(text, { tier: 'professional' })  rules + heuristics + model
 *   vard                    vard.moderate().maxLength(100_000).safeParse(text); flagged when `safe` is false
 *   llm-guard               new LLMGuard({ promptInjection, jailbreak on; pii, profanity, toxicity, relevance off })
 *                           .validate(text); flagged when `isValid` is false
 *
 * Peer options, and why:
 *  - vard (@andersmyrmel/vard): its default, the `moderate` preset (threshold 0.7; blocks instructionOverride,
 *    roleManipulation and systemPromptLeak; sanitises — i.e. lets through — delimiterInjection and encoding). That is
 *    what `vard(input)` does and what its README recommends, so it is the fair "as shipped" point. The one change:
 *    maxLength 10,000 → 100,000 (our engine's analysed length), because vard reports any longer input as an
 *    instructionOverride threat; that is a size guard, not detection, and would credit it with hits on long prompts
 *    for their length alone (no prompt in dev.jsonl is that long, so the dev figures are the same either way).
 *    `--variants` adds `vard strict` (the `strict` preset: threshold 0.5, every threat type blocked = all checks on).
 *  - llm-guard (npm, regex-based; not ProtectAI's Python LLM Guard with its DeBERTa classifier): its constructor
 *    enables every guard unless set to false. We keep its two attack detectors (promptInjection, jailbreak) and turn
 *    off pii, profanity, toxicity and relevance: those are content-policy checks, not injection/jailbreak detection,
 *    and relevance alone rejects every prompt shorter than 10 characters / 3 words or longer than 5,000 characters.
 *    `--variants` adds `llm-guard all` (its defaults: every guard on) for reference.
 *
 * Reported per detector: precision, recall, F1, false-positive rate, accuracy, TP/FP/TN/FN; per category of the data
 * (`category` field): n and recall (attack categories) or false-positive rate (benign ones); mean and p99 time per
 * prompt (each detector is warmed up on the first 50 prompts first; llm-guard's time includes awaiting its promise).
 *
 * Options: --json out.json (every number), --tier community,professional,enterprise (VeriVault tiers to run),
 * --threshold N (engine threshold 0–100), --misses N (false negatives and false positives of the professional tier),
 * --variants (extra peer configurations), --no-peers (VeriVault only).
 * Input lines: {"text": "...", "label": 1 | 0 | true | false, "category": "...", ...}; malformed lines are skipped,
 * counted and reported on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import vard from '@andersmyrmel/vard'
import { LLMGuard, type GuardConfig } from 'llm-guard'
import { createEngine, DEFAULT_THRESHOLD, TIER_ORDER as TIERS, type AnalysisResult, type PromptEngine, type Tier } from '../src/modules/prompts/engine/index.js'
import { shippedModel } from '../src/modules/prompts/engine/model.js'

export const DEFAULT_DATASET = fileURLToPath(new URL('../../shared/corpus/prompts/dev.jsonl', import.meta.url))
const WARMUP = 50

// ---------------------------------------------------------------------------------------------------------------------
// Data

export interface LabelledPrompt {
  text: string
  /** 1 = attack, 0 = benign. */
  label: 0 | 1
  category: string
  source?: string | undefined
}

export interface Dataset {
  items: LabelledPrompt[]
  /** Lines skipped (not JSON, no string text, no usable label). Blank lines are not counted. */
  malformed: number
  /** One message per skipped line: "line 12: label must be 0, 1, true or false". */
  warnings: string[]
}

function parseLabel(v: unknown): 0 | 1 | undefined {
  if (v === 1 || v === true || v === '1' || v === 'true') return 1
  if (v === 0 || v === false || v === '0' || v === 'false') return 0
  return undefined
}

/** Parses labelled JSONL; a line without a string `text` or a 0/1/true/false `label` is skipped and counted. */
export function parseJsonl(content: string): Dataset {
  const items: LabelledPrompt[] = []
  const warnings: string[] = []
  const lines = content.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const where = `line ${i + 1}`
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch {
      warnings.push(`${where}: not valid JSON`)
      continue
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      warnings.push(`${where}: not a JSON object`)
      continue
    }
    const r = row as Record<string, unknown>
    if (typeof r.text !== 'string') {
      warnings.push(`${where}: "text" must be a string`)
      continue
    }
    const label = parseLabel(r.label)
    if (label === undefined) {
      warnings.push(`${where}: "label" must be 0, 1, true or false`)
      continue
    }
    const category = typeof r.category === 'string' && r.category !== '' ? r.category : '(none)'
    items.push({ text: r.text, label, category, source: typeof r.source === 'string' ? r.source : undefined })
  }
  return { items, malformed: warnings.length, warnings }
}

export function loadJsonl(path: string): Dataset {
  return parseJsonl(readFileSync(path, 'utf8'))
}

// ---------------------------------------------------------------------------------------------------------------------
// Metrics

export interface Confusion { tp: number; fp: number; tn: number; fn: number }

export interface Metrics extends Confusion {
  n: number
  /** tp / (tp + fp); 0 when nothing was flagged. */
  precision: number
  /** tp / (tp + fn); 0 when there are no attacks. */
  recall: number
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  f1: number
  /** fp / (fp + tn); 0 when there are no benign prompts. */
  fpr: number
  accuracy: number
}

export function confusion(labels: readonly (0 | 1)[], flagged: readonly boolean[]): Confusion {
  if (labels.length !== flagged.length) throw new Error(`${labels.length} labels but ${flagged.length} predictions`)
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 }
  for (let i = 0; i < labels.length; i++) {
    const attack = labels[i] === 1
    if (flagged[i]) { if (attack) c.tp++; else c.fp++ } else if (attack) c.fn++; else c.tn++
  }
  return c
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b)

export function metricsOf(c: Confusion): Metrics {
  const precision = ratio(c.tp, c.tp + c.fp)
  const recall = ratio(c.tp, c.tp + c.fn)
  const n = c.tp + c.fp + c.tn + c.fn
  return {
    ...c, n, precision, recall,
    f1: ratio(2 * precision * recall, precision + recall),
    fpr: ratio(c.fp, c.fp + c.tn),
    accuracy: ratio(c.tp + c.tn, n),
  }
}

export interface CategoryMetrics extends Confusion {
  category: string
  /** attack: every item is labelled 1; benign: every item 0; mixed: both. */
  kind: 'attack' | 'benign' | 'mixed'
  n: number
  /** Share of the category's attacks flagged (null when it has none). */
  recall: number | null
  /** Share of the category's benign prompts flagged (null when it has none). */
  fpr: number | null
}

const KIND_ORDER = { attack: 0, mixed: 1, benign: 2 } as const

/** Per `category`: attack categories first, then mixed, then benign; larger categories first within each. */
export function perCategory(items: readonly LabelledPrompt[], flagged: readonly boolean[]): CategoryMetrics[] {
  const groups = new Map<string, { labels: (0 | 1)[]; flagged: boolean[] }>()
  items.forEach((it, i) => {
    let g = groups.get(it.category)
    if (!g) groups.set(it.category, (g = { labels: [], flagged: [] }))
    g.labels.push(it.label)
    g.flagged.push(flagged[i] ?? false)
  })
  const out: CategoryMetrics[] = []
  for (const [category, g] of groups) {
    const c = confusion(g.labels, g.flagged)
    const attacks = c.tp + c.fn
    const benign = c.fp + c.tn
    out.push({
      category, ...c, n: g.labels.length,
      kind: benign === 0 ? 'attack' : attacks === 0 ? 'benign' : 'mixed',
      recall: attacks === 0 ? null : c.tp / attacks,
      fpr: benign === 0 ? null : c.fp / benign,
    })
  }
  return out.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || b.n - a.n || a.category.localeCompare(b.category))
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

export interface Timing { meanMs: number; p50Ms: number; p99Ms: number; maxMs: number }

export function timingOf(ms: readonly number[]): Timing {
  return {
    meanMs: ratio(ms.reduce((s, x) => s + x, 0), ms.length),
    p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), maxMs: ms.reduce((m, x) => Math.max(m, x), 0),
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Detectors

export interface Verdict {
  flagged: boolean
  /** The detector's own score, when it has one (VeriVault: risk_score 0–100). */
  score?: number | undefined
  /** What fired (rule ids, threat types, guard names). */
  reasons?: string[] | undefined
}

export interface Detector {
  /** Short column name: vv-community, vard, llm-guard, … */
  id: string
  /** Row label of the overall table. */
  name: string
  /** How it is called, for the JSON report. */
  config: string
  detect(text: string): Verdict | Promise<Verdict>
}

export function veriVaultDetector(engine: PromptEngine, tier: Tier): Detector {
  return {
    id: `vv-${tier}`,
    name: `VeriVault ${tier}`,
    config: `createEngine().analyze(text, { tier: '${tier}' }), threshold ${engine.threshold}`,
    detect(text) {
      const r: AnalysisResult = engine.analyze(text, { tier })
      return { flagged: r.is_threat, score: r.risk_score, reasons: r.detections.map((d) => d.rule_id ?? d.threat_type) }
    },
  }
}

/** vard as shipped (moderate preset) or with every check blocking (strict preset); see the header comment. */
export function vardDetector(preset: 'moderate' | 'strict' = 'moderate'): Detector {
  const guard = (preset === 'strict' ? vard.strict() : vard.moderate()).maxLength(100_000)
  return {
    id: preset === 'strict' ? 'vard-strict' : 'vard',
    name: preset === 'strict' ? 'vard strict' : 'vard',
    config: `vard.${preset}().maxLength(100000).safeParse(text); flagged = !safe`,
    detect(text) {
      const r = guard.safeParse(text)
      return r.safe ? { flagged: false } : { flagged: true, reasons: [...new Set(r.threats.map((t) => t.type))] }
    },
  }
}

/** llm-guard with its injection and jailbreak guards only, or with every guard (its defaults); see the header comment. */
export function llmGuardDetector(mode: 'attacks' | 'all' = 'attacks'): Detector {
  const config: GuardConfig = mode === 'all'
    ? {}
    : { promptInjection: true, jailbreak: true, pii: false, profanity: false, toxicity: false, relevance: false }
  const guard = new LLMGuard(config)
  return {
    id: mode === 'all' ? 'llm-guard-all' : 'llm-guard',
    name: mode === 'all' ? 'llm-guard all' : 'llm-guard',
    config: `new LLMGuard(${JSON.stringify(config)}).validate(text); flagged = !isValid`,
    async detect(text) {
      const r = await guard.validate(text)
      if (r.isValid) return { flagged: false, score: r.score }
      const reasons = r.results.flatMap((g) => g.details ?? []).map((d) => d.rule)
      return { flagged: true, score: r.score, reasons: [...new Set(reasons)] }
    },
  }
}

export interface DetectorRun { verdicts: Verdict[]; timesMs: number[] }

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function'
}

/** Runs a detector over every item (after a warm-up on the first ones), timing each call. */
export async function runDetector(d: Detector, items: readonly LabelledPrompt[], warmup = WARMUP): Promise<DetectorRun> {
  for (const it of items.slice(0, warmup)) {
    const v = d.detect(it.text)
    if (isPromise(v)) await v
  }
  const verdicts: Verdict[] = []
  const timesMs: number[] = []
  for (const it of items) {
    const t0 = performance.now()
    let v = d.detect(it.text)
    if (isPromise(v)) v = await v
    timesMs.push(performance.now() - t0)
    verdicts.push(v)
  }
  return { verdicts, timesMs }
}

export interface DetectorReport {
  id: string
  name: string
  config: string
  overall: Metrics
  categories: CategoryMetrics[]
  timing: Timing
}

export function reportOf(d: Detector, items: readonly LabelledPrompt[], run: DetectorRun): DetectorReport {
  const flagged = run.verdicts.map((v) => v.flagged)
  return {
    id: d.id, name: d.name, config: d.config,
    overall: metricsOf(confusion(items.map((it) => it.label), flagged)),
    categories: perCategory(items, flagged),
    timing: timingOf(run.timesMs),
  }
}

/** "rules: community 41, professional 87, enterprise 87; model: loaded" — what the numbers were measured on. */
export function engineInventory(engine: PromptEngine): string {
  const rules = TIERS.map((t) => `${t} ${engine.rulesFor(t).length}`).join(', ')
  const model = engine.analyze('hello', { tier: 'professional' }).metadata.scoring.model !== undefined
  return `rules: ${rules}; model: ${model ? 'loaded' : 'absent (assets/prompts/model.json missing)'}`
}

// ---------------------------------------------------------------------------------------------------------------------
// Output

/** Aligned text table: first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const f3 = (x: number) => x.toFixed(3)
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`)
const ms = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(1))

export function renderOverall(reports: readonly DetectorReport[]): string {
  return formatTable(
    ['detector', 'precision', 'recall', 'F1', 'FPR', 'accuracy', 'TP', 'FP', 'TN', 'FN', 'mean ms', 'p99 ms'],
    reports.map((r) => {
      const o = r.overall
      return [r.name, f3(o.precision), f3(o.recall), f3(o.f1), f3(o.fpr), f3(o.accuracy), String(o.tp), String(o.fp), String(o.tn), String(o.fn), ms(r.timing.meanMs), ms(r.timing.p99Ms)]
    }),
  )
}

/** One row per category; each detector's cell is its recall (attack categories) or false-positive rate (benign ones). */
export function renderCategories(reports: readonly DetectorReport[]): string {
  const first = reports[0]
  if (!first) return ''
  const rows = first.categories.map((c) => {
    const metric = c.kind === 'benign' ? 'FPR' : c.kind === 'attack' ? 'recall' : 'recall/FPR'
    const cells = reports.map((r) => {
      const rc = r.categories.find((x) => x.category === c.category)
      if (!rc) return '—'
      return rc.kind === 'mixed' ? `${pct(rc.recall)}/${pct(rc.fpr)}` : pct(rc.kind === 'benign' ? rc.fpr : rc.recall)
    })
    return [c.category, c.kind, String(c.n), metric, ...cells]
  })
  return formatTable(['category', 'kind', 'n', 'metric', ...reports.map((r) => r.id)], rows)
}

const oneLine = (s: string, max: number) => {
  const t = s.replace(/\s+/g, ' ').trim()
  return t.length > max ? `${t.slice(0, max - 1)}…` : t
}

/** Up to `limit` false negatives (lowest score first) and false positives (highest score first). */
export function renderMisses(name: string, items: readonly LabelledPrompt[], verdicts: readonly Verdict[], limit: number): string {
  const idx = items.map((_, i) => i)
  const score = (i: number) => verdicts[i]?.score ?? 0
  const fns = idx.filter((i) => items[i]!.label === 1 && !verdicts[i]!.flagged).sort((a, b) => score(a) - score(b))
  const fps = idx.filter((i) => items[i]!.label === 0 && verdicts[i]!.flagged).sort((a, b) => score(b) - score(a))
  const show = (i: number) => {
    const v = verdicts[i]!
    const why = v.reasons && v.reasons.length > 0 ? ` [${[...new Set(v.reasons)].slice(0, 4).join(', ')}]` : ''
    return `  score ${String(v.score ?? '-').padStart(3)}  ${items[i]!.category}${why}\n      ${oneLine(items[i]!.text, 160)}`
  }
  return [
    `False negatives of ${name} (${fns.length}; showing ${Math.min(limit, fns.length)}, lowest score first):`,
    ...fns.slice(0, limit).map(show),
    '',
    `False positives of ${name} (${fps.length}; showing ${Math.min(limit, fps.length)}, highest score first):`,
    ...fps.slice(0, limit).map(show),
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------------------------------
// CLI

export interface CliOptions {
  file: string
  json?: string | undefined
  tiers: Tier[]
  threshold?: number | undefined
  misses: number
  variants: boolean
  peers: boolean
}

export class UsageError extends Error {}

export function parseCli(argv: readonly string[]): CliOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'string' },
      tier: { type: 'string', multiple: true },
      threshold: { type: 'string' },
      misses: { type: 'string' },
      variants: { type: 'boolean', default: false },
      'no-peers': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return 'help'
  if (positionals.length > 1) throw new UsageError(`one dataset file expected, got ${positionals.length}`)
  const tiers = (values.tier ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '')
  for (const t of tiers) if (!(TIERS as readonly string[]).includes(t)) throw new UsageError(`--tier must be one of ${TIERS.join(', ')}, got "${t}"`)
  let threshold: number | undefined
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold)
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) throw new UsageError(`--threshold must be a number from 0 to 100, got "${values.threshold}"`)
  }
  let misses = 0
  if (values.misses !== undefined) {
    misses = Number(values.misses)
    if (!Number.isInteger(misses) || misses < 0) throw new UsageError(`--misses must be a whole number, got "${values.misses}"`)
  }
  return {
    file: positionals[0] !== undefined ? resolve(positionals[0]) : DEFAULT_DATASET,
    json: values.json !== undefined ? resolve(values.json) : undefined,
    tiers: tiers.length > 0 ? [...new Set(tiers as Tier[])] : ['community', 'professional'],
    threshold, misses, variants: values.variants, peers: !values['no-peers'],
  }
}

const USAGE = `usage: npm run eval:prompts -- [file.jsonl] [--json out.json] [--tier community,professional,enterprise]
                             [--threshold 0-100] [--misses N] [--variants] [--no-peers]
Default file: ${DEFAULT_DATASET}`

export async function main(argv: readonly string[]): Promise<number> {
  let opts: CliOptions | 'help'
  try {
    opts = parseCli(argv)
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const data = loadJsonl(opts.file)
  if (data.malformed > 0) {
    process.stderr.write(`warning: skipped ${data.malformed} malformed line(s) in ${opts.file}\n`)
    for (const w of data.warnings.slice(0, 10)) process.stderr.write(`  ${w}\n`)
    if (data.warnings.length > 10) process.stderr.write(`  … and ${data.warnings.length - 10} more\n`)
  }
  const { items } = data
  if (items.length === 0) {
    process.stderr.write(`no usable prompts in ${opts.file}\n`)
    return 1
  }

  const engine = createEngine({ threshold: opts.threshold })
  const detectors: Detector[] = opts.tiers.map((t) => veriVaultDetector(engine, t))
  if (opts.peers) {
    detectors.push(vardDetector('moderate'), llmGuardDetector('attacks'))
    if (opts.variants) detectors.push(vardDetector('strict'), llmGuardDetector('all'))
  }

  const runs: DetectorRun[] = []
  for (const d of detectors) runs.push(await runDetector(d, items))
  const reports = detectors.map((d, i) => reportOf(d, items, runs[i]!))

  const attacks = items.filter((it) => it.label === 1).length
  const out = process.stdout
  out.write(`\nPrompt-analysis evaluation — ${opts.file}\n`)
  out.write(`${items.length} prompts: ${attacks} attacks, ${items.length - attacks} benign${data.malformed > 0 ? `; ${data.malformed} malformed line(s) skipped` : ''}. `)
  out.write(`VeriVault threshold ${engine.threshold}${opts.threshold === undefined ? ' (default)' : ''}. Node ${process.version}\n`)
  out.write(`VeriVault engine: ${engineInventory(engine)}\n`)
  // The shipped model is trained on the development data: scoring it on that file measures memory, not skill.
  const training = shippedModel()?.training as { data?: string[]; cross_validated?: Record<string, { recall: number; fpr: number }> } | undefined
  if (training?.data?.some((d) => basename(d) === basename(opts.file))) {
    const cv = training.cross_validated ?? {}
    const fmt = (k: string) => (cv[k] ? `recall ${cv[k]!.recall.toFixed(3)} at FPR ${cv[k]!.fpr.toFixed(3)}` : 'n/a')
    out.write(`Note: the shipped model was trained on ${basename(opts.file)}, so the professional row below is optimistic. `
      + `Cross-validated on it (npm run train:prompts): community ${fmt('community')}, professional ${fmt('professional')}.\n`)
  }
  out.write('\n')
  out.write(`${renderOverall(reports)}\n\n`)
  out.write('Per category: recall for attack categories, false-positive rate for benign ones\n')
  out.write(`${renderCategories(reports)}\n`)

  if (opts.misses > 0) {
    const i = detectors.findIndex((d) => d.id === 'vv-professional')
    const k = i >= 0 ? i : detectors.findIndex((d) => d.id.startsWith('vv-'))
    if (k >= 0) out.write(`\n${renderMisses(detectors[k]!.name, items, runs[k]!.verdicts, opts.misses)}\n`)
  }

  if (opts.json) {
    const doc = {
      generated_at: new Date().toISOString(),
      node: process.version,
      dataset: { path: opts.file, prompts: items.length, attacks, benign: items.length - attacks, malformed: data.malformed },
      threshold: engine.threshold,
      engine: engineInventory(engine),
      default_threshold: DEFAULT_THRESHOLD,
      detectors: reports,
    }
    writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`)
    out.write(`\nwrote ${opts.json}\n`)
  }
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2))
}
