import { AppError } from '../errors.js'

/**
 * Errors of the outbound HTTP client. Messages name the target's origin only: paths and query strings of
 * third-party URLs can carry secrets (Slack webhook paths, `?apikey=`), so they never reach a message or a log.
 */

/** The SSRF guard refused a target: wrong scheme, or the host is (or resolves to) a non-public address. */
export class SsrfBlockedError extends AppError {
  constructor(
    /** Host as written in the URL (or the scheme when that is what was refused). */
    readonly host: string,
    /** Why: `scheme`, or the address range (`loopback`, `private`, `linkLocal`, …). */
    readonly reason: string,
    /** The offending resolved address, for logs; deliberately not in the message. */
    readonly address?: string,
  ) {
    super(400, 'ssrf_blocked', reason === 'scheme'
      ? `Outbound request refused: scheme "${host}" is not allowed (only http: and https:)`
      : `Outbound request to "${host}" refused: it is or resolves to a ${describeRange(reason)} address (set VV_ALLOW_PRIVATE_TARGETS=1 to allow)`)
  }
}

function describeRange(range: string): string {
  switch (range) {
    case 'loopback': return 'loopback'
    case 'private': return 'private (RFC 1918)'
    case 'uniqueLocal': return 'private (IPv6 unique-local)'
    case 'linkLocal': return 'link-local (incl. cloud metadata)'
    case 'carrierGradeNat': return 'carrier-grade NAT'
    case 'unspecified': return 'unspecified'
    case 'multicast': return 'multicast'
    case 'broadcast': return 'broadcast'
    default: return `non-public (${range})`
  }
}

/** Base of every failure talking to a third party (the guard's refusals excepted). */
export class UpstreamError extends AppError {
  constructor(statusCode: number, code: string, message: string, readonly origin: string) {
    super(statusCode, code, message)
  }
}

export class UpstreamTimeoutError extends UpstreamError {
  constructor(origin: string, readonly timeoutMs: number) {
    super(504, 'upstream_timeout', `Request to ${origin} timed out after ${timeoutMs} ms`, origin)
  }
}

export class UpstreamUnreachableError extends UpstreamError {
  constructor(origin: string, readonly networkCode: string | undefined, options?: { cause?: unknown }) {
    super(502, 'upstream_unreachable', `Request to ${origin} failed${networkCode ? ` (${networkCode})` : ''}`, origin)
    if (options?.cause !== undefined) this.cause = options.cause
  }
}

export class UpstreamResponseTooLargeError extends UpstreamError {
  constructor(origin: string, readonly limitBytes: number) {
    super(502, 'upstream_response_too_large', `Response from ${origin} exceeds ${limitBytes} bytes`, origin)
  }
}

export class UpstreamTooManyRedirectsError extends UpstreamError {
  constructor(origin: string, readonly limit: number) {
    super(502, 'upstream_too_many_redirects', `Request to ${origin} was redirected more than ${limit} times`, origin)
  }
}

export class UpstreamInvalidResponseError extends UpstreamError {
  constructor(origin: string, message: string) {
    super(502, 'upstream_invalid_response', `Response from ${origin} ${message}`, origin)
  }
}

/** A non-2xx answer where the caller asked for a successful JSON body (getJson/postJson). */
export class UpstreamStatusError extends UpstreamError {
  // Private, so an error serialiser (pino's copies enumerable properties) never logs a third party's body.
  readonly #body: Buffer
  constructor(origin: string, readonly status: number, responseBody: Buffer) {
    super(502, 'upstream_error', `Request to ${origin} returned HTTP ${status}`, origin)
    this.#body = responseBody
  }
  get responseBody(): Buffer { return this.#body }
}
