/** Retry policy pieces of the outbound HTTP client, kept pure so they are easy to test. */

/** Statuses retried by default (idempotent requests). */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [408, 425, 429, 500, 502, 503, 504]

/**
 * Statuses that say the server did not act on the request, so even a non-idempotent one (POST/PATCH) may be
 * sent again. 500/502/504 are not among them: the server (or the one behind a gateway) may have processed it.
 */
export const NOT_PROCESSED_STATUSES: readonly number[] = [408, 425, 429, 503]

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** Error codes raised before a request could reach the server (connection never established). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT'])
/** Error codes raised once the request may have reached the server. */
const MAYBE_SENT_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
])

export type FailureKind = 'not_sent' | 'maybe_sent' | 'fatal'

export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') return code
  // happy-eyeballs connects fail with an AggregateError of the per-address errors
  if (err instanceof AggregateError) for (const e of err.errors) { const c = errorCode(e); if (c) return c }
  return undefined
}

/** Whether a network-level failure may be retried, and for which requests. */
export function classifyFailure(err: unknown): FailureKind {
  const code = errorCode(err)
  if (code === undefined) return 'fatal'
  if (NOT_SENT_CODES.has(code)) return 'not_sent'
  if (MAYBE_SENT_CODES.has(code)) return 'maybe_sent'
  return 'fatal'
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP-date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value) as string | undefined
  if (raw === undefined) return undefined
  const v = raw.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  if (!/[a-z]/i.test(v)) return undefined // not a date either (e.g. "-1", "1.5")
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/** Exponential backoff with "equal jitter": half the step fixed, half random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** attempt)
  return Math.round(step / 2 + random() * (step / 2))
}

/** Sleeps, rejecting with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return }
    const onAbort = () => { clearTimeout(timer); reject(signal?.reason) }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
