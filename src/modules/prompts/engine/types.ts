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
