/**
 * The prompt-analysis engine (issue 4): normalise → match rules over every variant → heuristics and the statistical
 * model (professional and enterprise) → calibrated score → detections that explain the verdict. A library first: the
 * /analyze API, the SDK's local mode, the evaluation script and the benchmark all call createEngine().
 *
 * Tiers: community = our community rules; professional = all our rules + heuristics + model; enterprise = professional
 * + the tenant's custom rules and allowlist.
 */
import { heuristics, type HeuristicSignal } from './heuristics.js'
import { compiledBuiltinRules, compileRules, matchRules } from './matcher.js'
import { shippedModel, type PromptModel } from './model.js'
import { normalizePrompt } from './normalize.js'
import type { CompiledRule } from './rules.js'
import { categoryFeature, DEFAULT_CALIBRATION, evidenceOf, hitEvidence, logOdds, round2, sigmoid } from './scoring.js'
import { TIER_ORDER, type AnalysisResult, type AnalyzeOptions, type Detection, type Rule, type RuleHit, type Severity, type Tier } from './types.js'
import { sha256Hex } from '../../../platform/util/hash.js'

export const ANALYSIS_VERSION = '1.0'
export const DEFAULT_THRESHOLD = 50
/** Characters of a prompt analysed (longer prompts are cut and metadata.truncated is set). */
export const DEFAULT_MAX_PROMPT_CHARS = 100_000

export interface Allowlist {
  /** Rule ids whose detections the tenant suppresses (known false positives for them). */
  rules?: readonly string[] | undefined
  /** SHA-256 (hex) of normalised prompts the tenant has cleared (see promptFingerprint). */
  prompts?: readonly string[] | undefined
}

export interface EngineOptions {
  /** The rules of the community and professional tiers (default: the shipped packs). */
  rules?: readonly Rule[] | undefined
  /** Custom rules that run for the enterprise tier only (a tenant's rules). */
  customRules?: readonly Rule[] | undefined
  /** Enterprise only. */
  allowlist?: Allowlist | undefined
  /** risk_score at or above which is_threat is true (0–100, default 50). */
  threshold?: number | undefined
  /** The statistical model (default: the shipped one; null to run without). */
  model?: PromptModel | null | undefined
  /** Tier used when analyze() is given none (default professional). */
  defaultTier?: Tier | undefined
  maxPromptChars?: number | undefined
}

export interface PromptEngine {
  readonly threshold: number
  /** The rules each tier runs. */
  rulesFor(tier: Tier): readonly Rule[]
  analyze(prompt: string, opts?: AnalyzeOptions): AnalysisResult
  /** One result per prompt, each with its own analysis_time_ms. */
  analyzeBatch(prompts: readonly string[], opts?: AnalyzeOptions): Array<AnalysisResult & { analysis_time_ms: number }>
  /** A copy of this engine with other custom rules / allowlist (the tenant's), sharing the compiled base rules. */
  withTenant(customRules: readonly Rule[], allowlist?: Allowlist): PromptEngine
}

/** The allowlist key of a prompt: SHA-256 of its normalised text. */
export function promptFingerprint(prompt: string): string {
  return sha256Hex(normalizePrompt(prompt).normalized)
}

function severityOf(p: number): Severity {
  return p >= 0.9 ? 'critical' : p >= 0.7 ? 'high' : p >= 0.4 ? 'medium' : 'low'
}

const VIA_LABEL: Record<string, string> = {
  leet: 'leetspeak', spaced: 'spaced-out letters', base64: 'base64', hex: 'hex', url: 'URL-encoding', unicode_escape: 'unicode escapes',
  html_entity: 'HTML entities', rot13: 'rot13', reversed: 'reversed text', unicode_tags: 'invisible Unicode tag characters', variation_selectors: 'variation selectors',
}

function describeHit(h: RuleHit): string {
  const via = h.via.length > 0 ? ` (found inside ${h.via.map((v) => VIA_LABEL[v] ?? v).join(' inside ')})` : ''
  const evidence = h.rule.category === 'data_leakage' ? h.evidence : JSON.stringify(h.evidence)
  return `${h.rule.description.trim().replace(/[.。]+$/u, '')}: ${evidence}${via}`
}

interface Prepared {
  base: CompiledRule[]
  custom: CompiledRule[]
}

function build(prepared: Prepared, opts: EngineOptions): PromptEngine {
  const threshold = Math.min(100, Math.max(0, opts.threshold ?? DEFAULT_THRESHOLD))
  const model = opts.model === undefined ? shippedModel() : opts.model
  const maxPromptChars = opts.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS
  const defaultTier = opts.defaultTier ?? 'professional'
  const allowRules = new Set(opts.allowlist?.rules ?? [])
  const allowPrompts = new Set((opts.allowlist?.prompts ?? []).map((p) => p.toLowerCase()))
  const byTier = new Map<Tier, CompiledRule[]>(
    TIER_ORDER.map((t) => {
      const list = prepared.base.filter((c) => c.rule.tiers.includes(t))
      if (t === 'enterprise') list.push(...prepared.custom)
      return [t, list]
    }),
  )

  const analyze = (prompt: string, a: AnalyzeOptions = {}): AnalysisResult => {
    const t0 = performance.now()
    const tier = a.tier ?? defaultTier
    const cut = a.threshold ?? threshold
    const norm = normalizePrompt(prompt, { maxLength: maxPromptChars })
    const enterprise = tier === 'enterprise'
    let hits = matchRules(byTier.get(tier) ?? [], { norm })
    if (enterprise && allowRules.size > 0) hits = hits.filter((h) => !allowRules.has(h.rule.id))
    const advanced = tier !== 'community'
    const signals: HeuristicSignal[] = advanced ? heuristics(norm, hits) : []
    const logit = advanced && model ? model.logit(norm.normalized) : undefined
    const cal = (tier === 'community' ? model?.calibration.community : model?.calibration.professional) ?? DEFAULT_CALIBRATION
    const ev = evidenceOf(hits, signals, logit)
    let p = sigmoid(logOdds(cal, ev))
    let allowlisted: boolean | undefined
    if (enterprise && allowPrompts.size > 0 && allowPrompts.has(sha256Hex(norm.normalized))) {
      allowlisted = true
      p = 0
    }

    const detections: Detection[] = []
    for (const h of hits) {
      const w = cal.weights[categoryFeature(h.rule.category)] ?? cal.weights['cat:other'] ?? 7
      const pd = sigmoid(cal.bias + w * hitEvidence(h))
      detections.push({
        threat_type: h.rule.category,
        risk_score: Math.round(pd * 100),
        confidence: round2(h.rule.confidence),
        description: describeHit(h),
        rule_id: h.rule.id,
        pattern_matched: h.pattern,
        severity: h.rule.severity,
      })
    }
    for (const s of signals) {
      const w = cal.weights[`h:${s.id}`] ?? 2
      const pd = sigmoid(cal.bias + w * s.strength)
      detections.push({ threat_type: 'obfuscation', risk_score: Math.round(pd * 100), confidence: round2(s.strength), description: s.description, rule_id: s.id, severity: severityOf(s.strength) })
    }
    if (logit !== undefined && model) {
      const pm = sigmoid(logit)
      if (pm >= 0.5) {
        const cues = model.topCues(norm.normalized, 5)
        detections.push({
          threat_type: hits[0]?.rule.category ?? 'prompt_injection',
          risk_score: Math.round(pm * 100),
          confidence: round2(pm),
          description: `Statistical model: resembles known injection and jailbreak prompts${cues.length > 0 ? `; strongest cues: ${cues.map((c) => JSON.stringify(c)).join(', ')}` : ''}`,
          rule_id: 'VV-ML-001',
          severity: severityOf(pm),
        })
      }
    }
    detections.sort((x, y) => y.risk_score - x.risk_score)

    const risk = Math.round(p * 100)
    const isThreat = risk >= cut && risk > 0
    const signalsOut = signals.map((s) => s.description)
    return {
      is_threat: isThreat,
      risk_score: risk,
      confidence: round2(isThreat ? p : 1 - p),
      detections: allowlisted ? [] : detections,
      metadata: {
        analyzed_by: a.analyzedBy ?? 'local',
        analysis_version: ANALYSIS_VERSION,
        timestamp: new Date().toISOString(),
        tier,
        threshold: cut,
        analysis_time_ms: Math.round((performance.now() - t0) * 1000) / 1000,
        scoring: {
          rules: round2(Math.max(0, ...hits.map(hitEvidence))),
          heuristics: round2(Math.max(0, ...signals.map((s) => s.strength))),
          model: logit === undefined ? undefined : round2(sigmoid(logit)),
        },
        signals: signalsOut,
        truncated: norm.truncated,
        ...(allowlisted ? { allowlisted } : {}),
      },
    }
  }

  const engine: PromptEngine = {
    threshold,
    rulesFor: (tier) => (byTier.get(tier) ?? []).map((c) => c.rule),
    analyze,
    analyzeBatch(prompts, a) {
      return prompts.map((p) => {
        const r = analyze(p, a)
        return { ...r, analysis_time_ms: r.metadata.analysis_time_ms }
      })
    },
    withTenant(customRules, allowlist) {
      return build({ base: prepared.base, custom: compileRules(customRules) }, { ...opts, model, allowlist })
    },
  }
  return engine
}

export function createEngine(opts: EngineOptions = {}): PromptEngine {
  const base = opts.rules ? compileRules(opts.rules) : compiledBuiltinRules()
  return build({ base, custom: compileRules(opts.customRules ?? []) }, opts)
}

export { TIER_ORDER } from './types.js'
export type { AnalysisResult, AnalyzeOptions, Detection, Rule, Tier } from './types.js'
