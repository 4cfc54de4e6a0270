/**
 * Contracts of the prompt-analysis engine (issue 4, specs/prompt-analysis-securevector.md). The engine is a library
 * first: the /analyze API, the SDK's local mode and the evaluation script all call it. Every stage is synchronous,
 * runs in linear time in the input length, and caps its input.
 */

/** One text the detectors look at: the normalised prompt, or a payload decoded from inside it. */
export interface TextVariant {
  text: string
  /** How it was obtained, outermost first: [] for the normalised prompt itself, ['base64'], ['url', 'base64'], … */
  via: string[]
}

/** What normalisation changed — evidence for the obfuscation heuristics and for explanations. */
export interface NormalizationSignals {
  zeroWidth: number
  bidiControls: number
  /** Characters folded from confusables/homoglyphs (Cyrillic а → a, fullwidth Ａ → A, math alphanumerics, …). */
  homoglyphs: number
  /** Characters folded from leetspeak (1 → i, 0 → o, @ → a, …) in the leet-folded variant. */
  leet: number
  /** Runs like "i g n o r e" or "i-g-n-o-r-e" collapsed. */
  spacedRuns: number
  /** Encodings whose decoded payload was added as a variant, e.g. ['base64', 'hex']. */
  encodings: string[]
}

export interface NormalizedPrompt {
  /** The input as given (after the length cap). */
  original: string
  /** NFKC, confusables folded, invisible and bidi controls removed, whitespace collapsed, lower-cased. */
  normalized: string
  /** normalized first; then leet-folded / spaced-out-collapsed forms when they differ; then decoded payloads. */
  variants: TextVariant[]
  /** True when the input was longer than the cap and cut. */
  truncated: boolean
  signals: NormalizationSignals
}

export interface NormalizeOptions {
  /** Characters analysed at most (default 100_000). */
  maxLength?: number
  /** Nested decodings followed at most, e.g. base64 inside url-encoding (default 2). */
  maxDecodeDepth?: number
  /** Decoded variants kept at most (default 8). */
  maxVariants?: number
}

export type LeakKind = 'secret' | 'pii'
export type Severity = 'critical' | 'high' | 'medium' | 'low'

/** A secret or a piece of personal data found in a prompt (data_leakage). */
export interface LeakFinding {
  kind: LeakKind
  /** e.g. aws_access_key_id, github_token, slack_token, stripe_secret_key, private_key, jwt, credit_card, iban, email, us_ssn. */
  type: string
  /** Offsets in the text given to findLeaks. */
  start: number
  end: number
  /** The match with its middle masked (never the whole secret): "AKIA…MPLE". */
  masked: string
  severity: Severity
  /** 0..1: higher when a validator (Luhn, IBAN mod-97, checksum, entropy) confirmed the shape. */
  confidence: number
  /** True when a validator beyond the pattern confirmed it. */
  validated: boolean
}

// ---------------------------------------------------------------------------------------------------------------------
// Rules, detections and results

export type Tier = 'community' | 'professional' | 'enterprise'
export const TIER_ORDER: readonly Tier[] = ['community', 'professional', 'enterprise']

/** The categories our packs cover; imported packs may bring others (e.g. social_engineering), which are kept as given. */
export const CORE_CATEGORIES = [
  'prompt_injection',
  'indirect_prompt_injection',
  'jailbreak',
  'system_prompt_extraction',
  'data_exfiltration',
  'data_leakage',
  'harmful_instructions',
  'obfuscation',
] as const
export type CoreCategory = (typeof CORE_CATEGORIES)[number]

export interface RuleTestCase {
  input: string
  expected: 'match' | 'no_match'
  description?: string | undefined
}

/**
 * One detection rule, whatever file format it came from (our YAML packs, SecureVector's community format, or a
 * tenant's custom rule saved through the API).
 */
export interface Rule {
  id: string
  name: string
  description: string
  category: string
  severity: Severity
  /** 0..1: how sure a match makes us (SecureVector's `confidence_threshold` / `threshold`). */
  confidence: number
  /** Tiers that run the rule. */
  tiers: Tier[]
  enabled: boolean
  /** regex: `patterns` are regular expressions; detector: `patterns` name findLeaks types (e.g. aws_access_key_id). */
  patternType: 'regex' | 'detector'
  patterns: string[]
  caseSensitive: boolean
  /** ISO 639-1 codes of the languages the patterns cover (documentation and per-language tests). */
  languages: string[]
  testCases: RuleTestCase[]
  /** Where it came from: a pack file name, 'tenant', … */
  source: string
  metadata: Record<string, unknown>
}

/** What matched: the rule, the text variant, and the matched snippet. */
export interface RuleHit {
  rule: Rule
  pattern: string
  /** The matched text (capped to 120 characters; masked for data_leakage). */
  evidence: string
  /** Encodings the match was found inside ([] = the prompt itself). */
  via: string[]
}

/** A detection exactly as the spec's response carries it. */
export interface Detection {
  threat_type: string
  risk_score: number
  confidence: number
  description: string
  rule_id?: string
  pattern_matched?: string
  severity?: Severity
}

/** The verdict on one prompt, as `POST /analyze` returns it. */
export interface AnalysisResult {
  /** Whether a threat was detected (risk_score at or above the threshold). */
  is_threat: boolean
  /** Overall risk, 0–100. */
  risk_score: number
  /** Confidence in the verdict, 0.0–1.0. */
  confidence: number
  /** What was found, highest risk first. */
  detections: Detection[]
  metadata: AnalysisMetadata
}

export interface AnalysisMetadata {
  analyzed_by: 'api' | 'local'
  analysis_version: string
  timestamp: string
  tier: Tier
  /** risk_score at or above which is_threat is true. */
  threshold: number
  analysis_time_ms: number
  /** Per-source evidence behind the score: rules, heuristics and (professional+) the statistical model. */
  scoring: { rules: number; heuristics: number; model?: number | undefined }
  /** Heuristic signals that contributed (e.g. "zero-width characters", "decoded base64 payload"). */
  signals: string[]
  /** True when the prompt was longer than the analysed length and cut. */
  truncated: boolean
  /** Set when the tenant allowlist cleared the prompt. */
  allowlisted?: boolean | undefined
  [key: string]: unknown
}

export interface AnalyzeOptions {
  tier?: Tier | undefined
  /** Overrides the engine's threshold (0–100). */
  threshold?: number | undefined
  analyzedBy?: 'api' | 'local' | undefined
}
