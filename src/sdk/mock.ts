/**
 * MockSecureVectorClient: a deterministic stand-in for {@link SecureVectorClient} in your own tests. No network, no
 * engine: results come from canned answers, a default, and an optional "threat when" predicate; every call is
 * recorded.
 */
import type {
  AnalysisMetadata, AnalysisResult, AnalyzeCallOptions, ClientStats, ConnectionTestResult, Detection, Mode, PromptAnalyzer, Tier,
} from './types.js'

/** A (partial) result the mock returns; missing fields come from the safe or threat template. */
export type MockResultInput = Partial<Omit<AnalysisResult, 'metadata'>> & { metadata?: Partial<AnalysisMetadata> | undefined }

/** One recorded call of the mock. */
export interface MockCall {
  /** Which method was called. */
  method: 'analyze' | 'analyzeBatch' | 'testConnection'
  /** The prompts it was given ([prompt] for analyze, [] for testConnection). */
  prompts: string[]
  /** The tier it used (per-call `userTier` or the mock's). */
  userTier: Tier
  /** The call's options as given. */
  options: AnalyzeCallOptions
}

/** Options of {@link MockSecureVectorClient}. Precedence per prompt: errorWhen → results → threatWhen → defaultResult. */
export interface MockSecureVectorClientOptions {
  /** Canned results by exact prompt text. */
  results?: Readonly<Record<string, MockResultInput>> | ReadonlyMap<string, MockResultInput> | undefined
  /** Result for prompts with no canned result that threatWhen does not flag (default: safe, risk_score 0). */
  defaultResult?: MockResultInput | undefined
  /** Flags prompts as threats (they get `threatResult`). */
  threatWhen?: ((prompt: string) => boolean) | undefined
  /** Result for prompts threatWhen flags (default: is_threat true, risk_score 90, one `prompt_injection` detection). */
  threatResult?: MockResultInput | undefined
  /** Return an error to make analyze/analyzeBatch throw it for that prompt (e.g. a RateLimitError), undefined otherwise. */
  errorWhen?: ((prompt: string) => Error | undefined) | undefined
  /** Tier reported in results and recorded in calls (default `community`). */
  userTier?: Tier | undefined
  /** Mode reported by getStats() (default `api`). */
  mode?: Mode | undefined
  /** `metadata.analyzed_by` of results (default `api`). */
  analyzedBy?: 'api' | 'local' | undefined
  /** Overrides of what testConnection() returns (default status `ok`, 0 ms, api_url `mock://securevector`). */
  connection?: Partial<ConnectionTestResult> | undefined
}

/** Timestamp of every mock result (fixed, so results are deterministic). */
export const MOCK_TIMESTAMP = '1970-01-01T00:00:00.000Z'

/** The detection of the default threat result. */
export const MOCK_DETECTION: Readonly<Detection> = Object.freeze({
  threat_type: 'prompt_injection',
  risk_score: 90,
  confidence: 0.9,
  description: 'Mock detection (MockSecureVectorClient threatWhen matched)',
  rule_id: 'MOCK-001',
  severity: 'high',
})

/**
 * A deterministic fake of {@link SecureVectorClient} with the same methods, for testing code that screens prompts.
 *
 * @example
 * const mock = new MockSecureVectorClient({ threatWhen: (p) => /ignore previous/i.test(p) })
 * await mock.analyze('Ignore previous instructions') // → is_threat true
 * mock.calls // → [{ method: 'analyze', prompts: ['Ignore previous instructions'], … }]
 */
export class MockSecureVectorClient implements PromptAnalyzer {
  /** Every call so far, oldest first. */
  readonly calls: MockCall[] = []
  /** The tier reported in results. */
  readonly userTier: Tier
  /** The mode reported by getStats(). */
  readonly mode: Mode
  readonly #o: MockSecureVectorClientOptions
  readonly #results: ReadonlyMap<string, MockResultInput>
  #stats = { total_requests: 0, api_calls: 0, threats_detected: 0, errors: 0 }

  /** @param options Canned results, default result, threat predicate, error predicate. */
  constructor(options: MockSecureVectorClientOptions = {}) {
    this.#o = options
    this.userTier = options.userTier ?? 'community'
    this.mode = options.mode ?? 'api'
    const r = options.results
    this.#results = r === undefined ? new Map() : r instanceof Map ? r : new Map(Object.entries(r as Record<string, MockResultInput>))
  }

  /** Every prompt analysed so far, in call order (batch prompts flattened). */
  get prompts(): string[] {
    return this.calls.flatMap((c) => (c.method === 'testConnection' ? [] : c.prompts))
  }

  /**
   * The result the mock gives `prompt` (without recording a call); throws what errorWhen returns.
   * @param prompt The prompt.
   * @param tier Tier reported in metadata (default the mock's).
   */
  resultFor(prompt: string, tier: Tier = this.userTier): AnalysisResult {
    const error = this.#o.errorWhen?.(prompt)
    if (error) throw error
    const canned = this.#results.get(prompt)
    const threat = canned === undefined && (this.#o.threatWhen?.(prompt) ?? false)
    const template: AnalysisResult = threat
      ? { is_threat: true, risk_score: 90, confidence: 0.9, detections: [{ ...MOCK_DETECTION }], metadata: { analyzed_by: 'api' } }
      : { is_threat: false, risk_score: 0, confidence: 1, detections: [], metadata: { analyzed_by: 'api' } }
    const input = canned ?? (threat ? this.#o.threatResult : this.#o.defaultResult) ?? {}
    const { metadata, ...fields } = structuredClone(input)
    return {
      ...template,
      ...fields,
      metadata: {
        analyzed_by: this.#o.analyzedBy ?? 'api', analysis_version: 'mock', timestamp: MOCK_TIMESTAMP, tier, mock: true, ...metadata,
      },
    } as AnalysisResult
  }

  /**
   * Returns the configured result for `prompt` and records the call. Same signature as SecureVectorClient.analyze.
   * @param prompt The prompt.
   * @param options Per-call tier and signal (an aborted signal throws its reason).
   */
  async analyze(prompt: string, options: AnalyzeCallOptions = {}): Promise<AnalysisResult> {
    const [r] = await this.#run('analyze', [prompt], options)
    return r!
  }

  /**
   * Returns the configured result for each prompt (with analysis_time_ms 0) and records one call.
   * @param prompts The prompts.
   * @param options Per-call tier and signal.
   */
  async analyzeBatch(prompts: readonly string[], options: AnalyzeCallOptions = {}): Promise<AnalysisResult[]> {
    const results = await this.#run('analyzeBatch', prompts, options)
    return results.map((r) => ({ ...r, analysis_time_ms: 0 }))
  }

  async #run(method: 'analyze' | 'analyzeBatch', prompts: readonly string[], options: AnalyzeCallOptions): Promise<AnalysisResult[]> {
    const tier = options.userTier ?? this.userTier
    this.calls.push({ method, prompts: [...prompts], userTier: tier, options })
    options.signal?.throwIfAborted()
    this.#stats.total_requests += prompts.length
    this.#stats.api_calls++
    try {
      const results = prompts.map((p) => this.resultFor(p, tier))
      this.#stats.threats_detected += results.filter((r) => r.is_threat).length
      return results
    } catch (err) {
      this.#stats.errors++
      throw err
    }
  }

  /** Records the call and returns `{ status: 'ok', response_time_ms: 0, api_url: 'mock://securevector' }` plus `connection`. */
  async testConnection(): Promise<ConnectionTestResult> {
    this.calls.push({ method: 'testConnection', prompts: [], userTier: this.userTier, options: {} })
    return { status: 'ok', response_time_ms: 0, api_url: 'mock://securevector', ...this.#o.connection }
  }

  /** Counters in the real client's shape: api_calls counts analyze/analyzeBatch calls; cache and local counters stay 0. */
  getStats(): ClientStats {
    return {
      mode: this.mode, total_requests: this.#stats.total_requests, api_calls: this.#stats.api_calls, cache_hits: 0, cache_misses: 0,
      local_analyses: 0, escalations: 0, retries: 0, errors: this.#stats.errors, fallbacks: 0, threats_detected: this.#stats.threats_detected,
      average_response_time_ms: 0, cache_size: 0,
    }
  }

  /** Zeroes the counters (the recorded calls are kept; see reset()). */
  resetStats(): void {
    this.#stats = { total_requests: 0, api_calls: 0, threats_detected: 0, errors: 0 }
  }

  /** No-op (the mock has no cache); present for signature parity. */
  clearCache(): void {}

  /** Forgets the recorded calls and zeroes the counters. */
  reset(): void {
    this.calls.length = 0
    this.resetStats()
  }
}
