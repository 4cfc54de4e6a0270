import { Agent, type Dispatcher } from 'undici'
import { BadRequestError } from '../errors.js'
import {
  SsrfBlockedError, UpstreamError, UpstreamInvalidResponseError, UpstreamResponseTooLargeError, UpstreamStatusError,
  UpstreamTimeoutError, UpstreamTooManyRedirectsError, UpstreamUnreachableError,
} from './errors.js'
import { createHostLimiter } from './host-limiter.js'
import {
  DEFAULT_RETRY_STATUSES, IDEMPOTENT_METHODS, NOT_PROCESSED_STATUSES, backoffDelay, classifyFailure, errorCode,
  parseRetryAfter, sleep as defaultSleep, type FailureKind,
} from './retry.js'
import { createSsrfGuard, type Resolver } from './ssrf-guard.js'

/**
 * The one outbound HTTP client (providers, connectors, webhook deliveries, exports): SSRF guard with the
 * vetted addresses pinned at connect time, per-attempt timeouts, retries with backoff honouring Retry-After,
 * per-host concurrency limits, a response size cap, and redirects followed by hand so every hop is vetted.
 */

/** Minimal logger shape (pino's fits). Only origins, methods, statuses and error codes are logged. */
export interface HttpClientLogger {
  debug(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface HttpClientOptions {
  /** VV_ALLOW_PRIVATE_TARGETS. */
  allowPrivateTargets: boolean
  /** VV_HTTP_TIMEOUT_MS: default timeout of one attempt (connect, headers and the whole body). */
  timeoutMs: number
  /** VV_HTTP_MAX_RETRIES: default number of retries after the first attempt. */
  maxRetries: number
  /** Requests in flight per host:port; the rest queue. Default 8. */
  perHostConcurrency?: number
  userAgent?: string
  logger?: HttpClientLogger
  /** Default response body cap. Default 20 MiB. */
  maxResponseBytes?: number
  /** Default redirect limit (0 returns 3xx responses as they are). Default 5. */
  maxRedirects?: number
  /** A Retry-After longer than this ends the retries and the response is returned as is. Default 60 s. */
  maxRetryAfterMs?: number
  /** First backoff step; doubles per retry up to retryMaxDelayMs. Defaults 250 ms and 10 s. */
  retryBaseDelayMs?: number
  retryMaxDelayMs?: number
  /** Non-public ranges reachable even without allowPrivateTargets (e.g. an on-premises Jira). */
  allowCidrs?: readonly string[]
  /** Host name resolver (default: dns.lookup with all: true). */
  lookup?: Resolver
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
  now?: () => number
}

export type QueryValue = string | number | boolean | null | undefined
/** string and bytes are sent as they are, URLSearchParams as a form, any other object as JSON. */
export type RequestBody = string | Uint8Array | URLSearchParams | object

export interface HttpRequestOptions {
  method?: string
  headers?: Record<string, string | undefined>
  body?: RequestBody
  /** Appended to the URL's own query string. */
  query?: Record<string, QueryValue | readonly QueryValue[]>
  timeoutMs?: number
  retries?: number
  /**
   * Statuses that are retried. Default: 408, 425, 429, 500, 502, 503, 504 for idempotent requests, and only
   * 408, 425, 429, 503 (the server did not act on it) for non-idempotent ones. Network errors are always
   * candidates, see `idempotent`.
   */
  retryOn?: readonly number[]
  /**
   * Safe to send twice. Default: true for GET, HEAD, OPTIONS, TRACE, PUT, DELETE or with an Idempotency-Key
   * header. A non-idempotent request is retried after a network error only if the connection was never made.
   */
  idempotent?: boolean
  signal?: AbortSignal
  maxResponseBytes?: number
  maxRedirects?: number
  /** Extra headers dropped on a cross-origin redirect (Authorization, Cookie and API-key headers always are). */
  sensitiveHeaders?: readonly string[]
}

export interface HttpResponse {
  status: number
  /** Lower-case names. */
  headers: Readonly<Record<string, string | string[]>>
  body: Buffer
  /** Final URL after redirects. */
  url: string
  /** First value of a header (name in any case). */
  header(name: string): string | undefined
  text(): string
  /** Parses the body as JSON; throws UpstreamInvalidResponseError when it is not. */
  json<T = unknown>(): T
}

export type JsonRequestOptions = Omit<HttpRequestOptions, 'method' | 'body'>

export interface HttpClient {
  request(url: string | URL, opts?: HttpRequestOptions): Promise<HttpResponse>
  /** GET, expects 2xx JSON (UpstreamStatusError otherwise); an empty body gives undefined. */
  getJson<T = unknown>(url: string | URL, opts?: JsonRequestOptions): Promise<T>
  /** POST with a JSON body, expects 2xx JSON (UpstreamStatusError otherwise); an empty body gives undefined. */
  postJson<T = unknown>(url: string | URL, body: unknown, opts?: JsonRequestOptions): Promise<T>
  close(): Promise<void>
}

const DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
const ALLOWED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
/** Set by the client or undici itself; a caller's value would desync framing or the vetted Host. */
const MANAGED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer'])
const CROSS_ORIGIN_DROPPED = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key']
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
const SECRET_HEADER = /auth|token|key|secret|passw|cookie|session|signature|credential/i

/** Copy of headers safe for a log line: values of anything that looks like a credential are replaced. */
export function redactHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {}
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADER.test(k) ? '[redacted]' : v
  return out
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const guard = createSsrfGuard({
    allowPrivateTargets: opts.allowPrivateTargets,
    ...(opts.allowCidrs ? { allowCidrs: opts.allowCidrs } : {}),
    ...(opts.lookup ? { lookup: opts.lookup } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  })
  const limiter = createHostLimiter(opts.perHostConcurrency ?? 8)
  const sleep = opts.sleep ?? defaultSleep
  const random = opts.random ?? Math.random
  const now = opts.now ?? Date.now
  const log = opts.logger
  const userAgent = opts.userAgent ?? 'VeriVault/0.1'
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000
  const baseDelay = opts.retryBaseDelayMs ?? 250
  const maxDelay = opts.retryMaxDelayMs ?? 10_000
  // Every socket this agent opens gets its addresses from the guard's lookup hook: only vetted addresses,
  // the same ones checkUrl vetted (cached for a few seconds), so a DNS answer cannot change in between.
  const agent = new Agent({
    connect: { lookup: guard.connectLookup, timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  })

  interface Hop {
    url: URL
    method: string
    headers: Record<string, string>
    payload: string | Buffer | undefined
    idempotent: boolean
  }

  async function attempt(hop: Hop, timeoutMs: number, maxBytes: number, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const { url } = hop
    const release = await limiter.acquire(url.host, signal)
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; controller.abort(new UpstreamTimeoutError(url.origin, timeoutMs)) }, timeoutMs)
    const onAbort = () => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await raceAbort(guard.checkUrl(url), controller.signal)
      const res = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: hop.method as Dispatcher.HttpMethod,
        headers: hop.headers,
        body: hop.payload ?? null,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      const body = await readBody(res, maxBytes, url.origin)
      return makeResponse(res.statusCode, res.headers, body, url.href)
    } catch (err) {
      if (timedOut || isUndiciTimeout(err)) throw new UpstreamTimeoutError(url.origin, timeoutMs)
      if (signal?.aborted) throw signal.reason
      if (err instanceof SsrfBlockedError) log?.warn({ host: err.host, reason: err.reason, address: err.address }, 'outbound request refused by SSRF guard')
      throw err
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      release()
    }
  }

  async function sendWithRetries(hop: Hop, o: HttpRequestOptions): Promise<HttpResponse> {
    const retries = o.retries ?? opts.maxRetries
    const timeoutMs = o.timeoutMs ?? opts.timeoutMs
    const maxBytes = o.maxResponseBytes ?? opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    const retryOn = o.retryOn ?? (hop.idempotent ? DEFAULT_RETRY_STATUSES : NOT_PROCESSED_STATUSES)
    const origin = hop.url.origin
    for (let n = 0; ; n++) {
      let res: HttpResponse
      try {
        res = await attempt(hop, timeoutMs, maxBytes, o.signal)
      } catch (err) {
        if (o.signal?.aborted) throw err
        const kind = failureKind(err)
        const retryable = kind === 'not_sent' || (kind === 'maybe_sent' && hop.idempotent)
        if (!retryable || n >= retries) throw normalizeError(err, origin, timeoutMs)
        const delay = backoffDelay(n, baseDelay, maxDelay, random)
        log?.debug({ method: hop.method, origin, attempt: n + 1, error: errorCode(err) ?? (err as Error).name, delay_ms: delay }, 'outbound request failed, retrying')
        await sleep(delay, o.signal)
        continue
      }
      if (!retryOn.includes(res.status) || n >= retries) return res
      const retryAfter = parseRetryAfter(res.headers['retry-after'], now())
      if (retryAfter !== undefined && retryAfter > maxRetryAfterMs) {
        log?.debug({ method: hop.method, origin, status: res.status, retry_after_ms: retryAfter }, 'outbound request: Retry-After beyond the cap, giving up')
        return res
      }
      const delay = retryAfter ?? backoffDelay(n, baseDelay, maxDelay, random)
      log?.debug({ method: hop.method, origin, attempt: n + 1, status: res.status, delay_ms: delay }, 'outbound request retrying')
      await sleep(delay, o.signal)
    }
  }

  async function request(input: string | URL, o: HttpRequestOptions = {}): Promise<HttpResponse> {
    const first = prepare(input, o, userAgent)
    const maxRedirects = o.maxRedirects ?? opts.maxRedirects ?? 5
    const dropOnCrossOrigin = [...CROSS_ORIGIN_DROPPED, ...(o.sensitiveHeaders ?? []).map((h) => h.toLowerCase())]
    let hop = first
    for (let redirects = 0; ; redirects++) {
      const res = await sendWithRetries(hop, o)
      const location = res.header('location')
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined || maxRedirects === 0) return res
      if (redirects >= maxRedirects) throw new UpstreamTooManyRedirectsError(first.url.origin, maxRedirects)
      let next: URL
      try { next = new URL(location, hop.url) } catch {
        throw new UpstreamInvalidResponseError(hop.url.origin, 'redirected to an invalid URL')
      }
      next.hash = ''
      const headers = { ...hop.headers }
      if (next.origin !== hop.url.origin) for (const h of dropOnCrossOrigin) delete headers[h]
      let { method, payload, idempotent } = hop
      if (res.status === 303 ? method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
        method = 'GET'
        payload = undefined
        idempotent = true
        delete headers['content-type']
      }
      // The next hop is checked by the guard like any request (scheme, address) before anything is sent.
      hop = { url: next, method, headers, payload, idempotent }
    }
  }

  async function expectJson<T>(res: HttpResponse): Promise<T> {
    if (res.status < 200 || res.status >= 300) throw new UpstreamStatusError(new URL(res.url).origin, res.status, res.body)
    return (res.body.length === 0 ? undefined : res.json<T>()) as T
  }

  return {
    request,
    async getJson<T>(url: string | URL, o: JsonRequestOptions = {}) {
      return expectJson<T>(await request(url, { ...o, method: 'GET', headers: { accept: 'application/json', ...o.headers } }))
    },
    async postJson<T>(url: string | URL, body: unknown, o: JsonRequestOptions = {}) {
      const payload = JSON.stringify(body ?? null)
      return expectJson<T>(await request(url, {
        ...o, method: 'POST', body: payload, headers: { accept: 'application/json', 'content-type': 'application/json', ...o.headers },
      }))
    },
    async close() { await agent.close() },
  }
}

function prepare(input: string | URL, o: HttpRequestOptions, userAgent: string) {
  let url: URL
  try { url = new URL(input) } catch { throw new BadRequestError('Outbound URL is not a valid absolute URL', 'invalid_target_url') }
  url.hash = ''
  for (const [k, v] of Object.entries(o.query ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) if (item !== undefined && item !== null) url.searchParams.append(k, String(item))
  }
  const method = (o.method ?? 'GET').toUpperCase()
  if (!ALLOWED_METHODS.has(method)) throw new BadRequestError(`Outbound HTTP method ${method} is not supported`, 'invalid_method')
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    const name = k.toLowerCase()
    if (v !== undefined && !MANAGED_HEADERS.has(name)) headers[name] = v
  }
  headers['user-agent'] ??= userAgent
  const payload = encodeBody(o.body, headers)
  const idempotent = o.idempotent ?? (IDEMPOTENT_METHODS.has(method) || headers['idempotency-key'] !== undefined)
  return { url, method, headers, payload, idempotent }
}

function encodeBody(body: RequestBody | undefined, headers: Record<string, string>): string | Buffer | undefined {
  if (body === undefined) return undefined
  if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8'
    return body
  }
  if (body instanceof Uint8Array) {
    headers['content-type'] ??= 'application/octet-stream'
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  }
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded'
    return body.toString()
  }
  headers['content-type'] ??= 'application/json'
  return JSON.stringify(body)
}

async function readBody(res: Dispatcher.ResponseData, maxBytes: number, origin: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy()
    throw new UpstreamResponseTooLargeError(origin, maxBytes)
  }
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of res.body) {
    const buf = chunk as Buffer
    total += buf.length
    if (total > maxBytes) {
      res.body.destroy()
      throw new UpstreamResponseTooLargeError(origin, maxBytes)
    }
    chunks.push(buf)
  }
  return Buffer.concat(chunks, total)
}

function makeResponse(status: number, raw: Dispatcher.ResponseData['headers'], body: Buffer, url: string): HttpResponse {
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) headers[k.toLowerCase()] = v
  return {
    status, headers, body, url,
    header(name) {
      const v = headers[name.toLowerCase()]
      return Array.isArray(v) ? v[0] : v
    },
    text: () => body.toString('utf8'),
    json<T>(): T {
      try { return JSON.parse(body.toString('utf8')) as T } catch {
        throw new UpstreamInvalidResponseError(new URL(url).origin, 'is not valid JSON')
      }
    },
  }
}

/** Headers/body timeouts (the request was sent); a connect timeout stays a not-sent network error. */
function isUndiciTimeout(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
}

function isOwnError(err: unknown): boolean {
  return err instanceof UpstreamError || err instanceof SsrfBlockedError || err instanceof BadRequestError
}

function failureKind(err: unknown): FailureKind {
  if (err instanceof UpstreamTimeoutError) return 'maybe_sent'
  return isOwnError(err) ? 'fatal' : classifyFailure(err)
}

function normalizeError(err: unknown, origin: string, timeoutMs: number): unknown {
  if (isOwnError(err)) return err
  if (errorCode(err) === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamTimeoutError(origin, timeoutMs)
  return new UpstreamUnreachableError(origin, errorCode(err), { cause: err })
}

/** Rejects with the signal's reason as soon as it aborts (the underlying promise is left to settle). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v) },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e) },
    )
  })
}
