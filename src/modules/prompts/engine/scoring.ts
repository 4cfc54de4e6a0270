/**
 * Scoring: the evidence of rule hits, heuristics and the model combined by a calibrated logistic model (per tier,
 * fitted by scripts/train-prompt-model.ts on cross-validated data) into one probability. risk_score = 100 × p, and
 * the operating point sits at p = 0.5 (risk 50) unless a threshold is configured.
 */
import type { HeuristicSignal } from './heuristics.js'
import type { CalibrationWeights } from './model.js'
import { CORE_CATEGORIES, type RuleHit, type Severity } from './types.js'

/** How much a match of each severity is worth, before the rule's own confidence. */
export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 1, high: 0.85, medium: 0.65, low: 0.4 }

/** The evidence of one rule hit: its confidence scaled by its severity (0..1). */
export function hitEvidence(hit: RuleHit): number {
  return hit.rule.confidence * SEVERITY_WEIGHT[hit.rule.severity]
}

const CORE = new Set<string>(CORE_CATEGORIES)
/** Feature name of a category (categories outside the core set share one feature). */
export const categoryFeature = (category: string): string => (CORE.has(category) ? `cat:${category}` : 'cat:other')

/** The model logit is clipped and scaled so that its weight is comparable to the others. */
export const MODEL_FEATURE_SCALE = 4

export type Evidence = Record<string, number>

export function evidenceOf(hits: readonly RuleHit[], signals: readonly HeuristicSignal[], modelLogit?: number): Evidence {
  const ev: Evidence = {}
  const cats = new Set<string>()
  for (const h of hits) {
    const f = categoryFeature(h.rule.category)
    cats.add(h.rule.category)
    ev[f] = Math.max(ev[f] ?? 0, hitEvidence(h))
  }
  if (cats.size > 1) ev.multi = Math.min(cats.size - 1, 2) / 2
  for (const s of signals) ev[`h:${s.id}`] = Math.max(ev[`h:${s.id}`] ?? 0, s.strength)
  if (modelLogit !== undefined) ev.model = Math.max(-8, Math.min(8, modelLogit)) / MODEL_FEATURE_SCALE
  return ev
}

/** Calibration used when no trained model file is shipped: one rule hit of confidence 0.9 / high gives ≈ 0.9. */
export const DEFAULT_CALIBRATION: CalibrationWeights = {
  bias: -4,
  weights: {
    ...Object.fromEntries(CORE_CATEGORIES.map((c) => [`cat:${c}`, 8])),
    'cat:other': 7,
    multi: 1,
    model: 1.5,
  },
}

/** Heuristic features not in the calibration get this weight (strength 1 → +2 log-odds). */
const DEFAULT_HEURISTIC_WEIGHT = 2

export function logOdds(cal: CalibrationWeights, ev: Evidence): number {
  let z = cal.bias
  for (const [f, x] of Object.entries(ev)) {
    const w = cal.weights[f] ?? (f.startsWith('h:') ? DEFAULT_HEURISTIC_WEIGHT : f.startsWith('cat:') ? (cal.weights['cat:other'] ?? 7) : 0)
    z += w * x
  }
  return z
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z))
}

/** Round to 2 decimals, the precision confidences are reported in. */
export const round2 = (x: number): number => Math.round(x * 100) / 100
