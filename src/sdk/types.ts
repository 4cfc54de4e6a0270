/**
 * Public types of the prompt-analysis SDK. Results have the shape of the API's responses
 * (specs/prompt-analysis-securevector.md), whichever mode produced them.
 */
import type { EngineOptions, PromptEngine } from '../modules/prompts/engine/index.js'
import type { AnalysisResult as EngineResult, Detection, Severity, Tier } from '../modules/prompts/engine/types.js'

export type { Detection, EngineOptions, PromptEngine, Severity, Tier }

/**
 * How the client analyses prompts.
 * - `api`: every prompt is sent to the API (`POST /analyze`, `POST /analyze/batch`).
 * - `local`: the detection engine runs in-process; no server, no API key, no network.
 * - `hybrid`: the engine runs in-process first; only uncertain verdicts (risk_score near the threshold, see
 *   `uncertaintyBand` / `escalateWhen`) are sent to the API, whose verdict then wins.
 */
export type Mode = 'api' | 'local' | 'hybrid'

/** Why an API-mode or hybrid analysis was done locally instead (see `fallbackToLocal`). */
export type FallbackReason = 'network_error' | 'timeout' | 'server_error' | 'rate_limited'

/** `metadata` of a result. The spec makes it optional on the wire; the SDK always fills `analyzed_by`. */
export interface AnalysisMetadata {
  /** Who produced the verdict: the API, or the in-process engine (local mode, hybrid without escalation, fallback). */
  analyzed_by: 'api' | 'local'
  /** Version of the analysis (engine) that produced the verdict. */
  analysis_version?: string | undefined
  /** ISO-8601 time of the analysis. */
  timestamp?: string | undefined
  /** Tier the prompt was analysed with. */
  tier?: Tier | undefined
  /** risk_score at or above which is_threat is true. */
  threshold?: number | undefined
  /** Time the analysis itself took, in milliseconds. */
  analysis_time_ms?: number | undefined
  /** Set (true) when the result came from the client's cache. */
  cached?: boolean | undefined
  /** Set (true) when the API failed and the prompt was analysed locally instead. */
  fallback?: boolean | undefined
  /** Why the fallback happened. */
  fallback_reason?: FallbackReason | undefined
  /** Hybrid mode: whether the prompt was escalated to the API. */
  escalated?: boolean | undefined
  /** Hybrid mode: the local engine's risk_score, kept when the API's verdict replaced it. */
  local_risk_score?: number | undefined
  /** Anything else the engine or the server reports (scoring, signals, truncated…). */
  [key: string]: unknown
}

/**
 * The verdict on one prompt, as the API's `POST /analyze` returns it: the engine's result, with the looser metadata
 * of the wire (the spec makes its fields optional; the SDK adds cache, fallback and escalation marks).
 */
export interface AnalysisResult extends Omit<EngineResult, 'metadata'> {
  /** How, when and by whom the prompt was analysed. */
  metadata: AnalysisMetadata
  /** Batch results: time spent on this prompt, in milliseconds (as `POST /analyze/batch` reports it). */
  analysis_time_ms?: number | undefined
}

/** Options of one `analyze` / `analyzeBatch` call. */
export interface AnalyzeCallOptions {
  /** Tier for this call only (default: the client's `userTier`). */
  userTier?: Tier | undefined
  /** Aborts the call (including retry waits); the abort reason is thrown as is. */
  signal?: AbortSignal | undefined
  /** Skip the cache for this call: neither read nor write it. */
  noCache?: boolean | undefined
}

/** Counters of a client since it was created (or since `resetStats()`); snake_case like the Python SDK. */
export interface ClientStats {
  /** The client's mode. */
  mode: Mode
  /** Prompts asked for through analyze / analyzeBatch. */
  total_requests: number
  /** HTTP requests sent to the API (a retry is another request; one batch chunk is one request; testConnection counts). */
  api_calls: number
  /** Prompts answered from the cache. */
  cache_hits: number
  /** Prompts looked up in the cache and not found (or expired). */
  cache_misses: number
  /** Prompts analysed by the in-process engine (local mode, hybrid first pass, fallbacks). */
  local_analyses: number
  /** Hybrid mode: prompts escalated to the API. */
  escalations: number
  /** HTTP requests re-sent after a 429, a 5xx or a network error. */
  retries: number
  /** Failed HTTP requests: network errors, timeouts and error statuses (each attempt counts). */
  errors: number
  /** Prompts analysed locally because the API failed (`fallbackToLocal`). */
  fallbacks: number
  /** Results with is_threat true. */
  threats_detected: number
  /** Mean duration of successful API requests, in milliseconds (0 before the first). */
  average_response_time_ms: number
  /** Entries currently in the cache. */
  cache_size: number
}

/** Result of `testConnection()`. It never throws: failures are reported with `status: 'error'`. */
export interface ConnectionTestResult {
  /** `ok` when the API answered the probe with a valid analysis. */
  status: 'ok' | 'error'
  /** Round-trip time of the probe, in milliseconds. */
  response_time_ms: number
  /** The API base URL that was tested. */
  api_url: string
  /** HTTP status of the probe's response, when one arrived. */
  http_status?: number | undefined
  /** What went wrong (status `error` only). */
  error?: string | undefined
  /** The class name of the error (`AuthenticationError`, `NetworkError`…), status `error` only. */
  error_type?: string | undefined
}

/**
 * What both {@link SecureVectorClient} and {@link MockSecureVectorClient} offer, so application code can depend on
 * the interface and tests can pass the mock.
 */
export interface PromptAnalyzer {
  /** Analyses one prompt. */
  analyze(prompt: string, options?: AnalyzeCallOptions): Promise<AnalysisResult>
  /** Analyses several prompts; results are in the order of `prompts`. */
  analyzeBatch(prompts: readonly string[], options?: AnalyzeCallOptions): Promise<AnalysisResult[]>
  /** Probes the API; never throws. */
  testConnection(): Promise<ConnectionTestResult>
  /** Counters since creation or the last resetStats(). */
  getStats(): ClientStats
  /** Zeroes the counters (the cache is kept). */
  resetStats(): void
  /** Empties the result cache. */
  clearCache(): void
}

/** Options of {@link SecureVectorClient}. Each one beats its environment variable; every one is optional. */
export interface SecureVectorClientOptions {
  /**
   * `api`, `local` or `hybrid`. Default: `api` when an API key is configured (option or `SECUREVECTOR_API_KEY`),
   * otherwise `local`.
   */
  mode?: Mode | undefined
  /** API key sent as `X-Api-Key` (default `SECUREVECTOR_API_KEY`). Required in api and hybrid modes. */
  apiKey?: string | undefined
  /**
   * Base URL of the API; `/analyze` and `/analyze/batch` are appended (default `SECUREVECTOR_API_URL`, else
   * `http://127.0.0.1:8080`, VeriVault's own server).
   */
  apiUrl?: string | undefined
  /** Tier sent as `user_tier` and used by local analysis (default `SECUREVECTOR_USER_TIER`, else `community`). */
  userTier?: Tier | undefined
  /** Timeout of one HTTP attempt, in milliseconds (default 10 000). */
  timeoutMs?: number | undefined
  /** Retries after a 429, a 5xx or a network error; other 4xx are never retried (default 3). */
  maxRetries?: number | undefined
  /** First backoff step in milliseconds; doubles per retry, with jitter (default 500). */
  retryBaseDelayMs?: number | undefined
  /**
   * Longest wait before one retry, in milliseconds (default 60 000). Backoff is capped at it; a 429 whose
   * `retry_after` / `Retry-After` asks for longer is not retried: RateLimitError is thrown at once.
   */
  maxRetryDelayMs?: number | undefined
  /** Prompts per `POST /analyze/batch` request; larger batches are split (default 1000). */
  maxBatchSize?: number | undefined
  /** Cache results (LRU with TTL, keyed by tier + SHA-256 of the prompt). Default true. */
  cacheEnabled?: boolean | undefined
  /** Lifetime of a cached result, in milliseconds (default 300 000 = 5 minutes). */
  cacheTtlMs?: number | undefined
  /** Most results kept in the cache; the least recently used is evicted (default 1000). */
  cacheMaxEntries?: number | undefined
  /**
   * When the API fails with a network error, a timeout, a 5xx or a 429 that outlasts the retries, analyse the prompt
   * locally instead of throwing (metadata.analyzed_by `local`, metadata.fallback true). 401, 413 and other 4xx are
   * always thrown. Default: false in api mode, true in hybrid mode.
   */
  fallbackToLocal?: boolean | undefined
  /**
   * Hybrid mode: escalate to the API when the local risk_score is within this distance of the engine's threshold,
   * i.e. `threshold - band <= risk_score < threshold + band` (default 20: scores 30–69 with the default threshold
   * 50). 0 never escalates; 100 always does.
   */
  uncertaintyBand?: number | undefined
  /** Hybrid mode: replaces the band test; return true to send the prompt to the API. */
  escalateWhen?: ((local: AnalysisResult) => boolean) | undefined
  /** The in-process engine to use for local analysis (default: created on first use from `engineOptions`). */
  engine?: PromptEngine | undefined
  /** Options of the engine created for local analysis (threshold, rules, custom rules…). */
  engineOptions?: EngineOptions | undefined
  /** Environment to read SECUREVECTOR_* from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined
  /** fetch implementation (default the global fetch). */
  fetch?: typeof fetch | undefined
}
