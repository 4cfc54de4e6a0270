/**
 * Trains the prompt-analysis model and its calibration, reproducibly (fixed seed, fixed data order):
 *
 *   npm run train:prompts [-- data.jsonl ...] [--out assets/prompts/model.json] [--bits 17] [--target-fpr 0.015]
 *
 * Data: labelled JSONL ({text, label: 1 = attack}; default ../shared/corpus/prompts/dev.jsonl) plus the test cases of
 * our regex rules (match = attack, no_match = benign), which bring every core language and the hard negatives.
 *
 * 1. The n-gram model (model.ts) is trained by AdaGrad logistic regression with 5-fold cross-validation; every data
 *    example gets an out-of-fold logit (rule test cases are only ever training data).
 * 2. For each tier a calibration model is fitted on the out-of-fold evidence (rule hits per category, heuristics, and —
 *    professional — the model logit): logistic regression with an L2 prior centred on the default calibration and
 *    non-negative evidence weights, so a matching rule can never lower a score and categories absent from the data keep
 *    the prior.
 * 3. The operating point: the bias is shifted so that p = 0.5 (risk_score 50) falls where the cross-validated
 *    false-positive rate is at most --target-fpr.
 * 4. The final model is trained on all data and written int8-quantised, with the cross-validated metrics.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { heuristics, HEURISTIC_IDS } from '../src/modules/prompts/engine/heuristics.js'
import { builtinRules, compileRules, matchRules } from '../src/modules/prompts/engine/matcher.js'
import { featurize, PromptModel, type CalibrationWeights, type ModelFile, type SparseVector } from '../src/modules/prompts/engine/model.js'
import { normalizePrompt } from '../src/modules/prompts/engine/normalize.js'
import { DEFAULT_CALIBRATION, evidenceOf, logOdds, sigmoid, type Evidence } from '../src/modules/prompts/engine/scoring.js'
import { CORE_CATEGORIES, type NormalizedPrompt, type Tier } from '../src/modules/prompts/engine/types.js'

interface Args { data: string[]; out: string; bits: number; targetFpr: number; seed: number; epochs: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { data: [], out: resolve('assets/prompts/model.json'), bits: 17, targetFpr: 0.015, seed: 1337, epochs: 12 }
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!
    const next = () => argv[++i] ?? ''
    if (v === '--out') a.out = resolve(next())
    else if (v === '--bits') a.bits = Number(next())
    else if (v === '--target-fpr') a.targetFpr = Number(next())
    else if (v === '--seed') a.seed = Number(next())
    else if (v === '--epochs') a.epochs = Number(next())
    else a.data.push(resolve(v))
  }
  if (a.data.length === 0) a.data.push(resolve('../shared/corpus/prompts/dev.jsonl'))
  return a
}

/** mulberry32: a small seeded PRNG, so that every run gives the same model. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

interface Example { text: string; label: 0 | 1; group: string; norm: NormalizedPrompt; x: SparseVector; data: boolean }

function loadJsonl(path: string): Array<{ text: string; label: 0 | 1; group: string }> {
  const out: Array<{ text: string; label: 0 | 1; group: string }> = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue
    const r = JSON.parse(line) as { text?: unknown; label?: unknown; category?: unknown }
    if (typeof r.text !== 'string') continue
    out.push({ text: r.text, label: r.label === 1 || r.label === true || r.label === '1' ? 1 : 0, group: typeof r.category === 'string' ? r.category : '' })
  }
  return out
}

/** AdaGrad logistic regression over sparse vectors; class-balanced. */
function trainLogistic(xs: Example[], bits: number, epochs: number, rand: () => number): { w: Float32Array; b: number } {
  const n = 1 << bits
  const w = new Float32Array(n)
  const G = new Float32Array(n).fill(1e-8)
  let b = 0
  let Gb = 1e-8
  const lr = 0.4
  const l2 = 2e-6
  const pos = xs.filter((e) => e.label === 1).length
  const wPos = xs.length / (2 * Math.max(1, pos))
  const wNeg = xs.length / (2 * Math.max(1, xs.length - pos))
  const order = xs.map((_, i) => i)
  for (let ep = 0; ep < epochs; ep++) {
    for (const i of shuffle(order, rand)) {
      const e = xs[i]!
      let z = b
      for (let k = 0; k < e.x.idx.length; k++) z += w[e.x.idx[k]!]! * e.x.val[k]!
      const g = (sigmoid(z) - e.label) * (e.label === 1 ? wPos : wNeg)
      for (let k = 0; k < e.x.idx.length; k++) {
        const j = e.x.idx[k]!
        const gj = g * e.x.val[k]! + l2 * w[j]!
        G[j]! += gj * gj
        w[j]! -= (lr * gj) / Math.sqrt(G[j]!)
      }
      Gb += g * g
      b -= (lr * g) / Math.sqrt(Gb)
    }
  }
  return { w, b }
}

function quantize(w: Float32Array): { bytes: Buffer; scale: number } {
  let max = 0
  for (const v of w) max = Math.max(max, Math.abs(v))
  const scale = max > 0 ? max / 127 : 1
  const q = new Int8Array(w.length)
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale)))
  return { bytes: Buffer.from(q.buffer), scale }
}

/** Fits the calibration: logistic regression on evidence features, L2 towards the prior, evidence weights ≥ 0. */
function fitCalibration(rows: Array<{ ev: Evidence; y: 0 | 1 }>, features: string[], prior: CalibrationWeights): CalibrationWeights {
  const w: Record<string, number> = {}
  for (const f of features) w[f] = prior.weights[f] ?? (f.startsWith('h:') ? 2 : 1)
  let b = prior.bias
  const lambda = 0.02
  const pos = rows.filter((r) => r.y === 1).length
  const wPos = rows.length / (2 * Math.max(1, pos))
  const wNeg = rows.length / (2 * Math.max(1, rows.length - pos))
  const lr = 0.5
  for (let it = 0; it < 3000; it++) {
    const grad: Record<string, number> = Object.fromEntries(features.map((f) => [f, 0]))
    let gb = 0
    for (const r of rows) {
      let z = b
      for (const [f, x] of Object.entries(r.ev)) z += (w[f] ?? 0) * x
      const g = (sigmoid(z) - r.y) * (r.y === 1 ? wPos : wNeg)
      gb += g
      for (const [f, x] of Object.entries(r.ev)) if (f in grad) grad[f]! += g * x
    }
    b -= (lr * gb) / rows.length
    for (const f of features) {
      const p = prior.weights[f] ?? (f.startsWith('h:') ? 2 : 1)
      w[f] = Math.max(0, w[f]! - lr * (grad[f]! / rows.length + lambda * (w[f]! - p)))
    }
  }
  return { bias: b, weights: w }
}

function metrics(scores: number[], labels: Array<0 | 1>, cut: number) {
  let tp = 0, fp = 0, tn = 0, fn = 0
  scores.forEach((s, i) => {
    const pred = s >= cut
    if (labels[i] === 1) pred ? tp++ : fn++
    else pred ? fp++ : tn++
  })
  const r = (x: number) => Math.round(x * 10000) / 10000
  return { recall: r(tp / Math.max(1, tp + fn)), precision: r(tp / Math.max(1, tp + fp)), fpr: r(fp / Math.max(1, fp + tn)), tp, fp, tn, fn }
}

/** The smallest cut on z whose FPR is ≤ target. */
function operatingPoint(z: number[], labels: Array<0 | 1>, targetFpr: number): number {
  const neg = z.filter((_, i) => labels[i] === 0).sort((a, b) => b - a)
  const allowed = Math.floor(targetFpr * neg.length)
  // cut just above the (allowed)-th highest negative
  const k = Math.min(allowed, neg.length - 1)
  return (neg[k] ?? 0) + 1e-6
}

function main(): void {
  const args = parseArgs(process.argv.slice(2))
  const rand = rng(args.seed)
  const t0 = performance.now()
  const rules = builtinRules()
  const raw = args.data.flatMap(loadJsonl)
  const cases = rules
    .filter((r) => r.patternType === 'regex' && r.category !== 'data_leakage')
    .flatMap((r) => r.testCases.map((t) => ({ text: t.input, label: (t.expected === 'match' ? 1 : 0) as 0 | 1, group: `rule:${r.category}` })))
  const mk = (r: { text: string; label: 0 | 1; group: string }, data: boolean): Example => {
    const norm = normalizePrompt(r.text)
    return { ...r, norm, x: featurize(norm.normalized, args.bits), data }
  }
  const data = raw.map((r) => mk(r, true))
  const extra = cases.map((r) => mk(r, false))
  console.log(`data: ${data.length} examples (${data.filter((e) => e.label === 1).length} attacks) from ${args.data.join(', ')}; rule test cases: ${extra.length}`)

  // 1. out-of-fold model logits, stratified 5 folds
  const K = 5
  const fold = new Int8Array(data.length)
  for (const label of [0, 1] as const) {
    const idx = shuffle(data.map((_, i) => i).filter((i) => data[i]!.label === label), rand)
    idx.forEach((i, k) => (fold[i] = k % K))
  }
  const oof = new Float64Array(data.length)
  for (let k = 0; k < K; k++) {
    const train = [...data.filter((_, i) => fold[i] !== k), ...extra]
    const m = trainLogistic(train, args.bits, args.epochs, rand)
    data.forEach((e, i) => {
      if (fold[i] !== k) return
      let z = m.b
      for (let j = 0; j < e.x.idx.length; j++) z += m.w[e.x.idx[j]!]! * e.x.val[j]!
      oof[i] = z
    })
  }
  const labels = data.map((e) => e.label)
  const oofModel = metrics([...oof], labels, 0)

  // 2. evidence per tier
  const compiled = compileRules(rules)
  const evidence = (tier: Tier, e: Example, logit?: number): Evidence => {
    const hits = matchRules(compiled, { norm: e.norm }, tier)
    const signals = tier === 'community' ? [] : heuristics(e.norm, hits)
    return evidenceOf(hits, signals, logit)
  }
  const cats = [...CORE_CATEGORIES.map((c) => `cat:${c}`), 'cat:other', 'multi']
  const heur = HEURISTIC_IDS.map((h) => `h:${h}`)
  const calibrate = (tier: Tier, features: string[]) => {
    const rows = data.map((e, i) => ({ ev: evidence(tier, e, tier === 'community' ? undefined : oof[i]), y: e.label }))
    // cross-validated calibration, for the reported metrics and the operating point
    const zs = new Float64Array(rows.length)
    for (let k = 0; k < K; k++) {
      const cal = fitCalibration(rows.filter((_, i) => fold[i] !== k), features, DEFAULT_CALIBRATION)
      rows.forEach((r, i) => { if (fold[i] === k) zs[i] = logOdds(cal, r.ev) })
    }
    const cut = operatingPoint([...zs], labels, args.targetFpr)
    const cal = fitCalibration(rows, features, DEFAULT_CALIBRATION)
    cal.bias -= cut
    // a prompt without any evidence must stay well below the threshold, even when the data gives no rule hits
    if (tier === 'community') cal.bias = Math.min(cal.bias, -2.2)
    const cv = metrics([...zs], labels, cut)
    const rulesOnly = metrics(rows.map((r) => (Object.keys(r.ev).some((f) => f.startsWith('cat:')) ? 1 : 0)), labels, 1)
    return { cal, cv, rulesOnly }
  }
  const community = calibrate('community', cats)
  const professional = calibrate('professional', [...cats, ...heur, 'model'])

  // 3. final model on everything
  const final = trainLogistic([...data, ...extra], args.bits, args.epochs, rand)
  const { bytes, scale } = quantize(final.w)
  const round = (x: number) => Math.round(x * 1e4) / 1e4
  const roundCal = (c: CalibrationWeights): CalibrationWeights => ({ bias: round(c.bias), weights: Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, round(v)])) })
  const file: ModelFile = {
    version: 1,
    bits: args.bits,
    scale,
    bias: final.b,
    weights: bytes.toString('base64'),
    calibration: { community: roundCal(community.cal), professional: roundCal(professional.cal) },
    training: {
      script: 'scripts/train-prompt-model.ts',
      seed: args.seed,
      epochs: args.epochs,
      data: args.data.map((d) => d.replace(/^.*\/shared\//, '../shared/')),
      examples: data.length,
      rule_test_cases: extra.length,
      target_fpr: args.targetFpr,
      cross_validated: { model_alone: oofModel, community: community.cv, professional: professional.cv, any_rule_hit: professional.rulesOnly },
    },
  }
  writeFileSync(args.out, `${JSON.stringify(file)}\n`)
  // check that the written file loads and scores like the trained one
  const loaded = new PromptModel(file)
  const drift = Math.max(...data.slice(0, 50).map((e) => {
    let z = final.b
    for (let j = 0; j < e.x.idx.length; j++) z += final.w[e.x.idx[j]!]! * e.x.val[j]!
    return Math.abs(loaded.logit(e.norm.normalized) - z)
  }))
  console.log(JSON.stringify(file.training.cross_validated, null, 1))
  console.log('calibration', JSON.stringify(file.calibration))
  console.log(`wrote ${args.out} (${(bytes.length / 1024).toFixed(0)} KiB of weights; quantisation drift ≤ ${drift.toFixed(3)} logit) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

main()
