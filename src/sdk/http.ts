/**
 * The SDK's HTTP transport: JSON POSTs with `X-Api-Key`, a timeout per attempt, and retries with exponential
 * backoff and jitter on 429, 5xx and network errors (honouring `retry_after` / `Retry-After`). Other 4xx are never
 * retried. Errors come out typed (see errors.ts).
 */
import { APIError, AuthenticationError, NetworkError, PayloadTooLargeError, RateLimitError, TimeoutError, type RateLimitInfo } from './errors.js'
import { backoffDelay, sleep } from '../platform/http-client/retry.js'

/** SDK version, sent in the User-Agent header. */
export const SDK_VERSION = '0.1.0'

/** Hooks the client uses to count what the transport does. */
export interface TransportEvents {
  /** An HTTP request is about to be sent. */
  request(): void
  /** A request is about to be re-sent after a failure. */
  retry(): void
  /** A request failed (network error, timeout or error status). */
  failure(): void
  /** A request succeeded after `ms` milliseconds. */
  success(ms: number): void
}

/** Settings of {@link ApiTransport}. */
export interface TransportOptions {
  /** Base URL without a trailing slash. */
  apiUrl: string
  /** Sent as X-Api-Key. */
  apiKey: string
  /** Timeout of one attempt, in milliseconds. */
  timeoutMs: number
  /** Retries after 429 / 5xx / network errors. */
  maxRetries: number
  /** First backoff step, in milliseconds. */
  retryBaseDelayMs: number
  /** Cap of one wait; a longer retry_after ends the retries. */
  maxRetryDelayMs: number
  /** fetch implementation. */
  fetch: typeof fetch
  /** Counters. */
  events: TransportEvents
  /** Random source for jitter (default Math.random). */
  random?: (() => number) | undefined
}

/** A successful response: its status and parsed JSON body. */
export interface TransportResponse {
  /** HTTP status (2xx). */
  status: number
  /** Parsed JSON body. */
  body: unknown
}

/** Per-request overrides. */
export interface PostOptions {
  /** Aborts the request and any retry wait. */
  signal?: AbortSignal | undefined
  /** Retries for this request (default the transport's maxRetries). */
  maxRetries?: number | undefined
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function intHeader(headers: Headers, name: string): number | undefined {
  const v = headers.get(name)
  if (v === null || !/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined
  return Number(v)
}

/** Seconds to wait from a 429/503: the body's `retry_after`, else `Retry-After` (delta-seconds or an HTTP-date). */
export function retryAfterSeconds(headers: Headers, body: unknown, nowMs = Date.now()): number | undefined {
  if (isObject(body) && typeof body.retry_after === 'number' && Number.isFinite(body.retry_after) && body.retry_after >= 0) return body.retry_after
  const raw = headers.get('retry-after')?.trim()
  if (!raw) return undefined
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw)
  if (!/[a-z]/i.test(raw)) return undefined
  const at = Date.parse(raw)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000))
}

/** The server's error text: `error` (the spec's shape) or `error.message` (VeriVault's platform shape). */
function serverMessage(body: unknown): string | undefined {
  if (!isObject(body)) return typeof body === 'string' && body.length > 0 && body.length < 300 ? body : undefined
  if (typeof body.error === 'string') return body.error
  if (isObject(body.error) && typeof body.error.message === 'string') return body.error.message
  if (typeof body.message === 'string') return body.message
  return undefined
}

/** Maps an error response to the matching typed error. */
export function errorFromResponse(status: number, headers: Headers, body: unknown): APIError {
  const requestId = headers.get('x-request-id') ?? undefined
  const text = serverMessage(body)
  switch (status) {
    case 401:
      return new AuthenticationError(`${text ?? 'Authentication failed'} (HTTP 401): check the API key (apiKey / SECUREVECTOR_API_KEY)`, body, requestId)
    case 429: {
      const info: RateLimitInfo = {
        retryAfter: retryAfterSeconds(headers, body),
        limit: intHeader(headers, 'x-ratelimit-limit'),
        remaining: intHeader(headers, 'x-ratelimit-remaining'),
        reset: intHeader(headers, 'x-ratelimit-reset'),
      }
      const when = info.retryAfter !== undefined ? `; retry after ${info.retryAfter} s` : ''
      return new RateLimitError(`${text ?? 'Rate limit exceeded'} (HTTP 429${when})`, info, body, requestId)
    }
    case 413: {
      const max = isObject(body) && typeof body.max_size === 'number' ? body.max_size : undefined
      return new PayloadTooLargeError(`${text ?? 'Request payload too large'} (HTTP 413${max !== undefined ? `; max ${max} bytes` : ''})`, max, body, requestId)
    }
    default:
      return new APIError(`${text ?? 'API request failed'} (HTTP ${status})`, status, body, requestId)
  }
}

// One backoff policy and one abortable sleep for the server's outbound client and the SDK.
export { backoffDelay, sleep } from '../platform/http-client/retry.js'

/** Aborts when either signal does (AbortSignal.any, which Node 20.0–20.2 lack, is used when present). */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b])
  const ac = new AbortController()
  for (const s of [a, b]) {
    if (s.aborted) { ac.abort(s.reason); break }
    s.addEventListener('abort', () => ac.abort(s.reason), { once: true })
  }
  return ac.signal
}

function describeCause(err: unknown): string {
  let e: unknown = err
  // fetch wraps the socket error: TypeError('fetch failed', { cause: Error & { code } })
  while (e instanceof Error && e.cause !== undefined && !(e as { code?: unknown }).code) e = e.cause
  if (e instanceof AggregateError && e.errors.length > 0) e = e.errors[0]
  const code = (e as { code?: unknown } | undefined)?.code
  const msg = e instanceof Error ? e.message : String(e)
  return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg
}

/** JSON POSTs to the API with timeouts, typed errors and retries. */
export class ApiTransport {
  readonly #o: TransportOptions
  readonly #random: () => number

  /** @param options Base URL, key, timeout, retry policy, fetch and counters. */
  constructor(options: TransportOptions) {
    this.#o = options
    this.#random = options.random ?? Math.random
  }

  /**
   * POSTs `payload` as JSON to `path` (appended to the base URL) and returns the parsed body of a 2xx response.
   * Throws AuthenticationError / RateLimitError / PayloadTooLargeError / APIError for error statuses,
   * NetworkError / TimeoutError when the server could not be reached, and the abort reason when `signal` aborts.
   */
  async post(path: string, payload: unknown, options: PostOptions = {}): Promise<TransportResponse> {
    const o = this.#o
    const url = `${o.apiUrl}${path}`
    const maxRetries = options.maxRetries ?? o.maxRetries
    const body = JSON.stringify(payload)
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) o.events.retry()
      o.events.request()
      const timeout = AbortSignal.timeout(o.timeoutMs)
      const signal = options.signal ? anySignal(options.signal, timeout) : timeout
      const t0 = performance.now()
      let res: Response
      let text: string
      try {
        res = await o.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': o.apiKey, 'user-agent': `verivault-sdk/${SDK_VERSION}` },
          body,
          signal,
        })
        text = await res.text()
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason
        o.events.failure()
        const failure = timeout.aborted ? new TimeoutError(url, o.timeoutMs, err) : new NetworkError(`Could not reach ${url}: ${describeCause(err)}`, url, err)
        if (attempt >= maxRetries) throw failure
        await sleep(backoffDelay(attempt, o.retryBaseDelayMs, o.maxRetryDelayMs, this.#random), options.signal)
        continue
      }
      let parsed: unknown = text
      if (text.length > 0) {
        try { parsed = JSON.parse(text) } catch { /* keep the text */ }
      }
      if (res.ok) {
        if (typeof parsed === 'string') {
          o.events.failure()
          throw new APIError(`The API answered ${res.status} without a JSON body`, res.status, parsed, res.headers.get('x-request-id') ?? undefined)
        }
        o.events.success(performance.now() - t0)
        return { status: res.status, body: parsed }
      }
      o.events.failure()
      const error = errorFromResponse(res.status, res.headers, parsed)
      const retryable = res.status === 429 || res.status >= 500
      if (!retryable || attempt >= maxRetries) throw error
      const after = retryAfterSeconds(res.headers, parsed)
      let delay: number
      if (after !== undefined) {
        const ms = after * 1000
        // The server says when; waiting longer than we are willing to is pointless, so give up now.
        if (ms > o.maxRetryDelayMs) throw error
        delay = ms + Math.round(this.#random() * Math.min(o.retryBaseDelayMs, 1000))
      } else {
        delay = backoffDelay(attempt, o.retryBaseDelayMs, o.maxRetryDelayMs, this.#random)
      }
      await sleep(delay, options.signal)
    }
  }
}
