/**
 * Errors thrown by the prompt-analysis SDK. Every one extends {@link SecureVectorError}, so
 * `catch (e) { if (e instanceof SecureVectorError) … }` catches everything the SDK raises on purpose.
 *
 * ```
 * SecureVectorError
 * ├── ConfigurationError        bad or missing options / environment (thrown by the constructor)
 * ├── NetworkError              the API could not be reached (connection refused, reset, DNS…)
 * │   └── TimeoutError          one attempt took longer than `timeoutMs`
 * └── APIError                  the API answered with an error status (status, body)
 *     ├── AuthenticationError   401: missing, invalid or revoked API key
 *     ├── RateLimitError        429: retryAfter, limit, remaining, reset
 *     └── PayloadTooLargeError  413: maxSize
 * ```
 */

/** Base class of every error the SDK throws on purpose. */
export class SecureVectorError extends Error {
  /**
   * @param message Human-readable description.
   * @param options Standard error options (`cause`: the underlying error, when there is one).
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SecureVectorError'
  }
}

/** The client's options or the SECUREVECTOR_* environment variables are missing or invalid. */
export class ConfigurationError extends SecureVectorError {
  /**
   * @param message What is wrong and how to fix it.
   * @param setting The option (or environment variable) at fault, e.g. `apiKey` or `SECUREVECTOR_USER_TIER`.
   */
  constructor(message: string, readonly setting?: string) {
    super(message)
    this.name = 'ConfigurationError'
  }
}

/** The API could not be reached: connection refused or reset, DNS failure, TLS failure… (after any retries). */
export class NetworkError extends SecureVectorError {
  /**
   * @param message Description including the URL.
   * @param url The URL that was requested.
   * @param cause The underlying fetch error.
   */
  constructor(message: string, readonly url: string, cause?: unknown) {
    super(message, { cause })
    this.name = 'NetworkError'
  }
}

/** One attempt took longer than the client's `timeoutMs` (after any retries). */
export class TimeoutError extends NetworkError {
  /**
   * @param url The URL that was requested.
   * @param timeoutMs The timeout that elapsed, in milliseconds.
   * @param cause The underlying abort error.
   */
  constructor(url: string, readonly timeoutMs: number, cause?: unknown) {
    super(`Request to ${url} timed out after ${timeoutMs} ms`, url, cause)
    this.name = 'TimeoutError'
  }
}

/** The API answered with an error status (4xx or 5xx). Subclasses cover 401, 413 and 429. */
export class APIError extends SecureVectorError {
  /**
   * @param message The server's `error` text when it sent one, otherwise a description of the status.
   * @param status HTTP status code.
   * @param body The response body: parsed JSON when it was JSON, otherwise the raw text (possibly empty).
   * @param requestId The server's `x-request-id`, for support requests and log correlation.
   */
  constructor(message: string, readonly status: number, readonly body: unknown, readonly requestId?: string) {
    super(message)
    this.name = 'APIError'
  }
}

/** 401: the API key is missing, invalid or revoked. Never retried. */
export class AuthenticationError extends APIError {
  /**
   * @param message The server's `error` text (e.g. "Invalid API key").
   * @param body The response body.
   * @param requestId The server's `x-request-id`.
   */
  constructor(message: string, body: unknown, requestId?: string) {
    super(message, 401, body, requestId)
    this.name = 'AuthenticationError'
  }
}

/** Rate-limit details carried by a 429 response (body `retry_after`, `X-RateLimit-*` and `Retry-After` headers). */
export interface RateLimitInfo {
  /** Seconds to wait before retrying (body `retry_after`, else the `Retry-After` header). */
  retryAfter?: number | undefined
  /** `X-RateLimit-Limit`: requests allowed per window. */
  limit?: number | undefined
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  remaining?: number | undefined
  /** `X-RateLimit-Reset`, as sent: a Unix timestamp (seconds) per the spec; some servers send seconds-from-now. */
  reset?: number | undefined
}

/** 429: the tier's rate limit is exhausted. Thrown once retries are exhausted or the wait exceeds `maxRetryDelayMs`. */
export class RateLimitError extends APIError {
  /** Seconds the server asked the client to wait (body `retry_after`, else `Retry-After`). */
  readonly retryAfter: number | undefined
  /** `X-RateLimit-Limit`: requests allowed per window. */
  readonly limit: number | undefined
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  readonly remaining: number | undefined
  /** `X-RateLimit-Reset` as sent (a Unix timestamp in seconds per the spec). */
  readonly reset: number | undefined

  /**
   * @param message The server's `error` text (e.g. "Rate limit exceeded").
   * @param info Rate-limit details from the body and headers.
   * @param body The response body.
   * @param requestId The server's `x-request-id`.
   */
  constructor(message: string, info: RateLimitInfo, body: unknown, requestId?: string) {
    super(message, 429, body, requestId)
    this.name = 'RateLimitError'
    this.retryAfter = info.retryAfter
    this.limit = info.limit
    this.remaining = info.remaining
    this.reset = info.reset
  }
}

/** 413: the prompt or batch exceeds the server's maximum request size. Never retried. */
export class PayloadTooLargeError extends APIError {
  /**
   * @param message The server's `error` text.
   * @param maxSize The server's limit in bytes (body `max_size`), when it said.
   * @param body The response body.
   * @param requestId The server's `x-request-id`.
   */
  constructor(message: string, readonly maxSize: number | undefined, body: unknown, requestId?: string) {
    super(message, 413, body, requestId)
    this.name = 'PayloadTooLargeError'
  }
}
