/**
 * SecureVectorClient: the TypeScript counterpart of SecureVector's Python SDK, for VeriVault's prompt-analysis API
 * (specs/prompt-analysis-securevector.md) and for the same detection engine run in-process.
 */
import { createEngine, TIER_ORDER as TIERS } from '../modules/prompts/engine/index.js'
import { cacheKey, LruTtlCache } from './cache.js'
import { APIError, ConfigurationError, NetworkError, RateLimitError } from './errors.js'
import { ApiTransport } from './http.js'
import type {
  AnalysisResult, AnalyzeCallOptions, ClientStats, ConnectionTestResult, FallbackReason, Mode, PromptAnalyzer, PromptEngine,
  SecureVectorClientOptions, Tier,
} from './types.js'

/** Default API base URL: VeriVault's own server on its default port (VV_PORT 8080). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080'
/** Default tier when neither `userTier` nor SECUREVECTOR_USER_TIER is set. */
export const DEFAULT_USER_TIER: Tier = 'community'
/** Default values of the numeric options. */
export const DEFAULTS = {
  timeoutMs: 10_000,
  maxRetries: 3,
  retryBaseDelayMs: 500,
  maxRetryDelayMs: 60_000,
  maxBatchSize: 1000,
  cacheTtlMs: 300_000,
  cacheMaxEntries: 1000,
  uncertaintyBand: 20,
} as const
/** Path of single analysis; batch analysis is this plus `/batch`. */
export const ANALYZE_PATH = '/analyze'
/** Path of batch analysis. */
export const ANALYZE_BATCH_PATH = '/analyze/batch'
/** The prompt testConnection() sends. */
export const CONNECTION_TEST_PROMPT = 'VeriVault SDK connection test'

const MODES: readonly Mode[] = ['api', 'local', 'hybrid']

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim())

function checkTier(value: string, setting: string): Tier {
  if (!(TIERS as readonly string[]).includes(value)) {
    throw new ConfigurationError(`${setting} must be one of ${TIERS.join(', ')}; got "${value}"`, setting)
  }
  return value as Tier
}

function checkNumber(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be a number between ${min} and ${max}; got ${String(value)}`, name)
  }
  return value
}

function checkUrl(raw: string, setting: string): string {
  let u: URL
  try { u = new URL(raw) } catch { throw new ConfigurationError(`${setting} must be an http(s) URL; got "${raw}"`, setting) }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigurationError(`${setting} must use http or https; got "${u.protocol}"`, setting)
  if (u.search || u.hash) throw new ConfigurationError(`${setting} must be a base URL without query or fragment; got "${raw}"`, setting)
  return raw.replace(/\/+$/, '')
}

/** Which API failures fallbackToLocal covers: the service being unavailable, never a client mistake. */
function fallbackReason(err: unknown): FallbackReason | undefined {
  if (err instanceof NetworkError) return err.name === 'TimeoutError' ? 'timeout' : 'network_error'
  if (err instanceof RateLimitError) return 'rate_limited'
  if (err instanceof APIError && err.status >= 500) return 'server_error'
  return undefined
}

/** Validates and normalises one result from the API (the spec's response shape). */
function fromApi(raw: unknown, tier: Tier, status: number): AnalysisResult {
  if (!isObject(raw) || typeof raw.is_threat !== 'boolean' || typeof raw.risk_score !== 'number' || !Array.isArray(raw.detections)) {
    throw new APIError('The API returned something that is not an analysis result', status, raw)
  }
  const meta = isObject(raw.metadata) ? raw.metadata : {}
  const result: AnalysisResult = {
    ...raw,
    is_threat: raw.is_threat,
    risk_score: raw.risk_score,
    confidence: typeof raw.confidence === 'number' ? raw.confidence : 0,
    detections: raw.detections as AnalysisResult['detections'],
    metadata: { ...meta, tier: (meta.tier as Tier | undefined) ?? tier, analyzed_by: 'api' },
  }
  return result
}

function emptyStats(mode: Mode): Omit<ClientStats, 'average_response_time_ms' | 'cache_size'> & { response_ms_total: number; responses: number } {
  return {
    mode, total_requests: 0, api_calls: 0, cache_hits: 0, cache_misses: 0, local_analyses: 0, escalations: 0, retries: 0,
    errors: 0, fallbacks: 0, threats_detected: 0, response_ms_total: 0, responses: 0,
  }
}

/**
 * Client of VeriVault's prompt-analysis API, with a local (in-process) and a hybrid mode.
 *
 * Configuration comes from the options, else the environment (`SECUREVECTOR_API_KEY`, `SECUREVECTOR_API_URL`,
 * `SECUREVECTOR_USER_TIER`); invalid or missing settings throw {@link ConfigurationError} from the constructor.
 *
 * @example
 * const client = new SecureVectorClient({ mode: 'local' })
 * const result = await client.analyze('Ignore all previous instructions')
 * if (result.is_threat) console.log(result.detections[0]?.threat_type)
 */
export class SecureVectorClient implements PromptAnalyzer {
  /** The resolved mode. */
  readonly mode: Mode
  /** The resolved API base URL (no trailing slash). */
  readonly apiUrl: string
  /** The tier sent as `user_tier` and used for local analysis. */
  readonly userTier: Tier
  /** Whether results are cached. */
  readonly cacheEnabled: boolean
  /** Whether API failures (network, timeout, 5xx, exhausted 429) fall back to local analysis. */
  readonly fallbackToLocal: boolean
  /** Prompts per `POST /analyze/batch` request. */
  readonly maxBatchSize: number
  /** Hybrid mode: distance from the threshold within which a local verdict is escalated. */
  readonly uncertaintyBand: number
  /** Timeout of one HTTP attempt, in milliseconds. */
  readonly timeoutMs: number
  /** Retries after 429 / 5xx / network errors. */
  readonly maxRetries: number

  readonly #options: SecureVectorClientOptions
  readonly #transport: ApiTransport | undefined
  readonly #cache: LruTtlCache<AnalysisResult>
  #engine: PromptEngine | undefined
  #stats: ReturnType<typeof emptyStats>

  /**
   * Creates a client. Nothing is sent over the network here; local analysis creates the engine on first use.
   * @param options Settings; each beats its SECUREVECTOR_* environment variable.
   * @throws ConfigurationError when a setting is invalid, or api/hybrid mode has no API key.
   */
  constructor(options: SecureVectorClientOptions = {}) {
    this.#options = options
    const env = options.env ?? process.env
    const apiKey = nonEmpty(options.apiKey) ?? nonEmpty(env.SECUREVECTOR_API_KEY)
    if (options.mode !== undefined && !MODES.includes(options.mode)) {
      throw new ConfigurationError(`mode must be one of ${MODES.join(', ')}; got "${String(options.mode)}"`, 'mode')
    }
    this.mode = options.mode ?? (apiKey ? 'api' : 'local')

    if (options.userTier !== undefined) this.userTier = checkTier(options.userTier, 'userTier')
    else {
      const fromEnv = nonEmpty(env.SECUREVECTOR_USER_TIER)
      this.userTier = fromEnv ? checkTier(fromEnv.toLowerCase(), 'SECUREVECTOR_USER_TIER') : DEFAULT_USER_TIER
    }

    const urlOption = nonEmpty(options.apiUrl)
    const urlEnv = nonEmpty(env.SECUREVECTOR_API_URL)
    this.apiUrl = urlOption ? checkUrl(urlOption, 'apiUrl') : urlEnv ? checkUrl(urlEnv, 'SECUREVECTOR_API_URL') : DEFAULT_API_URL

    this.timeoutMs = checkNumber('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs, 1)
    this.maxRetries = Math.floor(checkNumber('maxRetries', options.maxRetries, DEFAULTS.maxRetries, 0, 20))
    const retryBaseDelayMs = checkNumber('retryBaseDelayMs', options.retryBaseDelayMs, DEFAULTS.retryBaseDelayMs, 0)
    const maxRetryDelayMs = checkNumber('maxRetryDelayMs', options.maxRetryDelayMs, DEFAULTS.maxRetryDelayMs, 0)
    this.maxBatchSize = Math.floor(checkNumber('maxBatchSize', options.maxBatchSize, DEFAULTS.maxBatchSize, 1))
    this.uncertaintyBand = checkNumber('uncertaintyBand', options.uncertaintyBand, DEFAULTS.uncertaintyBand, 0, 100)
    this.cacheEnabled = options.cacheEnabled ?? true
    this.#cache = new LruTtlCache({
      ttlMs: checkNumber('cacheTtlMs', options.cacheTtlMs, DEFAULTS.cacheTtlMs, 1),
      maxEntries: Math.floor(checkNumber('cacheMaxEntries', options.cacheMaxEntries, DEFAULTS.cacheMaxEntries, 1)),
    })
    this.fallbackToLocal = options.fallbackToLocal ?? this.mode === 'hybrid'
    this.#engine = options.engine
    this.#stats = emptyStats(this.mode)

    if (this.mode === 'local') {
      this.#transport = apiKey ? this.#makeTransport(apiKey, retryBaseDelayMs, maxRetryDelayMs) : undefined
      return
    }
    if (!apiKey) {
      throw new ConfigurationError(
        `${this.mode} mode needs an API key: pass { apiKey } or set SECUREVECTOR_API_KEY (or use mode: 'local' to analyse in-process without a server)`,
        'apiKey',
      )
    }
    this.#transport = this.#makeTransport(apiKey, retryBaseDelayMs, maxRetryDelayMs)
  }

  #makeTransport(apiKey: string, retryBaseDelayMs: number, maxRetryDelayMs: number): ApiTransport {
    const fetchImpl = this.#options.fetch ?? globalThis.fetch
    if (typeof fetchImpl !== 'function') throw new ConfigurationError('No fetch implementation: use Node 20+ or pass { fetch }', 'fetch')
    return new ApiTransport({
      apiUrl: this.apiUrl, apiKey, timeoutMs: this.timeoutMs, maxRetries: this.maxRetries, retryBaseDelayMs, maxRetryDelayMs, fetch: fetchImpl,
      events: {
        request: () => { this.#stats.api_calls++ },
        retry: () => { this.#stats.retries++ },
        failure: () => { this.#stats.errors++ },
        success: (ms) => { this.#stats.responses++; this.#stats.response_ms_total += ms },
      },
    })
  }

  /** The in-process engine used by local mode, hybrid mode and fallbacks (created on first use). */
  get engine(): PromptEngine {
    this.#engine ??= createEngine(this.#options.engineOptions)
    return this.#engine
  }

  /**
   * Analyses one prompt: `POST /analyze` (api), the in-process engine (local), or the engine first and the API for
   * uncertain verdicts (hybrid). Results are cached by tier + prompt hash unless caching is off.
   * @param prompt The text to analyse.
   * @param options Per-call tier, abort signal and cache bypass.
   * @returns The verdict; `metadata.analyzed_by` says whether the API or the local engine produced it.
   * @throws AuthenticationError, RateLimitError, PayloadTooLargeError, APIError, NetworkError, TimeoutError (api and
   *   hybrid modes; with fallbackToLocal, network errors, timeouts, 5xx and exhausted 429 are answered locally instead).
   */
  async analyze(prompt: string, options: AnalyzeCallOptions = {}): Promise<AnalysisResult> {
    const [result] = await this.#run([prompt], options, false)
    return result!
  }

  /**
   * Analyses several prompts, returning one result per prompt in the same order. Cached prompts are answered from
   * the cache; the rest (each distinct prompt once) go to `POST /analyze/batch` in chunks of `maxBatchSize`, sent one
   * after another (api mode), to the engine (local), or — for the uncertain ones — to the API (hybrid).
   * @param prompts The texts to analyse (an empty array returns [] without a request).
   * @param options Per-call tier, abort signal and cache bypass.
   * @returns One result per prompt, each with `analysis_time_ms`.
   * @throws The same errors as {@link SecureVectorClient.analyze}; a failing chunk fails the whole call unless it falls back.
   */
  async analyzeBatch(prompts: readonly string[], options: AnalyzeCallOptions = {}): Promise<AnalysisResult[]> {
    if (!Array.isArray(prompts)) throw new TypeError('analyzeBatch expects an array of strings')
    return this.#run(prompts, options, true)
  }

  async #run(prompts: readonly string[], options: AnalyzeCallOptions, batch: boolean): Promise<AnalysisResult[]> {
    for (const p of prompts) if (typeof p !== 'string') throw new TypeError('prompts must be strings')
    const tier = options.userTier === undefined ? this.userTier : checkTier(options.userTier, 'userTier')
    const useCache = this.cacheEnabled && !options.noCache
    this.#stats.total_requests += prompts.length
    options.signal?.throwIfAborted()

    const out: (AnalysisResult | undefined)[] = new Array(prompts.length)
    // Distinct prompts still to analyse → the positions they fill.
    const pending = new Map<string, number[]>()
    prompts.forEach((p, i) => {
      const known = pending.get(p)
      if (known) { known.push(i); return }
      if (useCache) {
        const hit = this.#cache.get(cacheKey(tier, p))
        if (hit) {
          this.#stats.cache_hits++
          const r = structuredClone(hit)
          r.metadata.cached = true
          out[i] = r
          return
        }
        this.#stats.cache_misses++
      }
      pending.set(p, [i])
    })

    if (pending.size > 0) {
      const todo = [...pending.keys()]
      const results = await this.#analyzeUncached(todo, tier, options.signal, batch)
      todo.forEach((p, k) => {
        const r = results[k]!
        if (useCache && !r.metadata.fallback) this.#cache.set(cacheKey(tier, p), structuredClone(r))
        const positions = pending.get(p)!
        positions.forEach((pos, n) => { out[pos] = n === 0 ? r : structuredClone(r) })
      })
    }
    const final = out as AnalysisResult[]
    for (const r of final) if (r.is_threat) this.#stats.threats_detected++
    return final
  }

  async #analyzeUncached(prompts: string[], tier: Tier, signal: AbortSignal | undefined, batch: boolean): Promise<AnalysisResult[]> {
    if (this.mode === 'local') return this.#local(prompts, tier, batch)
    if (this.mode === 'api') {
      return this.#api(prompts, tier, signal, batch, (err, chunk) => {
        const reason = this.#fallbackReason(err, chunk.length)
        const results = this.#local(chunk, tier, batch)
        for (const r of results) Object.assign(r.metadata, { fallback: true, fallback_reason: reason })
        return results
      })
    }
    // hybrid: the engine first; uncertain verdicts go to the API, whose verdict then wins.
    const local = this.#local(prompts, tier, batch)
    const threshold = this.engine.threshold
    const escalate = this.#options.escalateWhen
      ?? ((r: AnalysisResult) => r.risk_score >= threshold - this.uncertaintyBand && r.risk_score < threshold + this.uncertaintyBand)
    const uncertain: number[] = []
    local.forEach((r, i) => {
      if (escalate(r)) uncertain.push(i)
      else r.metadata.escalated = false
    })
    if (uncertain.length === 0) return local
    this.#stats.escalations += uncertain.length
    const byPrompt = new Map(uncertain.map((i) => [prompts[i]!, i]))
    const remote = await this.#api(uncertain.map((i) => prompts[i]!), tier, signal, batch, (err, chunk) => {
      const reason = this.#fallbackReason(err, chunk.length)
      return chunk.map((p) => {
        const r = local[byPrompt.get(p)!]!
        Object.assign(r.metadata, { fallback: true, fallback_reason: reason })
        return r
      })
    })
    uncertain.forEach((i, k) => {
      const r = remote[k]!
      r.metadata.escalated = true
      if (!r.metadata.fallback) r.metadata.local_risk_score = local[i]!.risk_score
      local[i] = r
    })
    return local
  }

  /** The fallback reason for `err`, counting `n` fallbacks; rethrows when fallback is off or does not cover `err`. */
  #fallbackReason(err: unknown, n: number): FallbackReason {
    const reason = fallbackReason(err)
    if (!this.fallbackToLocal || reason === undefined) throw err
    this.#stats.fallbacks += n
    return reason
  }

  #local(prompts: string[], tier: Tier, batch: boolean): AnalysisResult[] {
    const engine = this.engine
    this.#stats.local_analyses += prompts.length
    if (batch) return engine.analyzeBatch(prompts, { tier, analyzedBy: 'local' })
    return prompts.map((p) => engine.analyze(p, { tier, analyzedBy: 'local' }))
  }

  /**
   * Sends `prompts` to the API: one `POST /analyze` per prompt, or `POST /analyze/batch` per chunk of maxBatchSize.
   * A request that fails is handed to `onFailure` with its prompts, which either rethrows or answers them.
   */
  async #api(
    prompts: string[], tier: Tier, signal: AbortSignal | undefined, batch: boolean,
    onFailure: (err: unknown, chunk: string[]) => AnalysisResult[],
  ): Promise<AnalysisResult[]> {
    const transport = this.#transport!
    const out: AnalysisResult[] = []
    const size = batch ? this.maxBatchSize : 1
    for (let start = 0; start < prompts.length; start += size) {
      const chunk = prompts.slice(start, start + size)
      let results: AnalysisResult[]
      try {
        results = batch ? await this.#postBatch(transport, chunk, tier, signal) : [await this.#postOne(transport, chunk[0]!, tier, signal)]
      } catch (err) {
        if (signal?.aborted) throw err
        results = onFailure(err, chunk)
      }
      out.push(...results)
    }
    return out
  }

  async #postOne(transport: ApiTransport, prompt: string, tier: Tier, signal: AbortSignal | undefined): Promise<AnalysisResult> {
    const res = await transport.post(ANALYZE_PATH, { prompt, user_tier: tier }, { signal })
    return fromApi(res.body, tier, res.status)
  }

  async #postBatch(transport: ApiTransport, chunk: string[], tier: Tier, signal: AbortSignal | undefined): Promise<AnalysisResult[]> {
    const res = await transport.post(ANALYZE_BATCH_PATH, { prompts: chunk, user_tier: tier }, { signal })
    const results = isObject(res.body) ? res.body.results : undefined
    if (!Array.isArray(results) || results.length !== chunk.length) {
      throw new APIError(`The API's batch response does not hold ${chunk.length} results`, res.status, res.body)
    }
    return results.map((r) => fromApi(r, tier, res.status))
  }

  /**
   * Checks that the API is reachable and accepts the key by sending one tiny analysis (`POST /analyze` with a fixed
   * benign prompt, no retries, no cache). It counts as one API call (and one request against the rate limit).
   * Never throws; in local mode without an API key it reports `status: 'error'`.
   * @returns `ok` with the round-trip time, or `error` with the reason.
   */
  async testConnection(): Promise<ConnectionTestResult> {
    if (!this.#transport) {
      return { status: 'error', response_time_ms: 0, api_url: this.apiUrl, error: 'No API key configured (apiKey or SECUREVECTOR_API_KEY)', error_type: 'ConfigurationError' }
    }
    const t0 = performance.now()
    const elapsed = () => Math.round((performance.now() - t0) * 100) / 100
    try {
      const res = await this.#transport.post(ANALYZE_PATH, { prompt: CONNECTION_TEST_PROMPT, user_tier: this.userTier }, { maxRetries: 0 })
      fromApi(res.body, this.userTier, res.status)
      return { status: 'ok', response_time_ms: elapsed(), api_url: this.apiUrl, http_status: res.status }
    } catch (err) {
      return {
        status: 'error', response_time_ms: elapsed(), api_url: this.apiUrl,
        http_status: err instanceof APIError ? err.status : undefined,
        error: err instanceof Error ? err.message : String(err),
        error_type: err instanceof Error ? err.name : typeof err,
      }
    }
  }

  /** Counters since creation or the last resetStats() (snake_case keys, like the Python SDK's get_stats()). */
  getStats(): ClientStats {
    const { response_ms_total, responses, ...counts } = this.#stats
    return {
      ...counts,
      average_response_time_ms: responses === 0 ? 0 : Math.round((response_ms_total / responses) * 100) / 100,
      cache_size: this.#cache.size,
    }
  }

  /** Zeroes the counters; the cache is kept. */
  resetStats(): void {
    this.#stats = emptyStats(this.mode)
  }

  /** Empties the result cache. */
  clearCache(): void {
    this.#cache.clear()
  }
}
