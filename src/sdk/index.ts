/**
 * VeriVault prompt-analysis SDK (`import … from 'verivault/sdk'`): the TypeScript counterpart of SecureVector's
 * Python SDK, speaking the API of specs/prompt-analysis-securevector.md.
 *
 * - {@link SecureVectorClient}: modes `api`, `local` (the detection engine in-process) and `hybrid`.
 * - {@link MockSecureVectorClient}: a deterministic fake for your own tests.
 * - Typed errors, all extending {@link SecureVectorError}.
 */
export {
  SecureVectorClient, DEFAULT_API_URL, DEFAULT_USER_TIER, DEFAULTS, ANALYZE_PATH, ANALYZE_BATCH_PATH, CONNECTION_TEST_PROMPT,
} from './client.js'
export { MockSecureVectorClient, MOCK_DETECTION, MOCK_TIMESTAMP } from './mock.js'
export type { MockCall, MockResultInput, MockSecureVectorClientOptions } from './mock.js'
export {
  SecureVectorError, ConfigurationError, NetworkError, TimeoutError, APIError, AuthenticationError, RateLimitError, PayloadTooLargeError,
} from './errors.js'
export type { RateLimitInfo } from './errors.js'
export { LruTtlCache, cacheKey } from './cache.js'
export type { LruTtlCacheOptions } from './cache.js'
export { SDK_VERSION, backoffDelay, retryAfterSeconds } from './http.js'
export type {
  AnalysisMetadata, AnalysisResult, AnalyzeCallOptions, ClientStats, ConnectionTestResult, Detection, EngineOptions, FallbackReason, Mode,
  PromptAnalyzer, PromptEngine, SecureVectorClientOptions, Severity, Tier,
} from './types.js'
