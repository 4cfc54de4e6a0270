/**
 * Typed errors with machine codes. Services throw these; one handler (platform/http/error-handler.ts) renders
 * them in the body shape of the API family the route belongs to.
 */

export interface FieldError {
  /** JSON pointer-ish path of the bad field, e.g. `severity` or `[3].occurred_at`. */
  field: string
  message: string
  code?: string
}

export class AppError extends Error {
  readonly headers: Record<string, string> = {}
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'bad_request', details: FieldError[] = []) { super(400, code, message, details) }
}
export class ValidationError extends AppError {
  constructor(message: string, details: FieldError[] = [], code = 'validation_failed', status = 422) { super(status, code, message, details) }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', code = 'unauthorized') { super(401, code, message) }
}
export class ForbiddenError extends AppError {
  constructor(message = 'Not allowed', code = 'forbidden') { super(403, code, message) }
}
export class NotFoundError extends AppError {
  constructor(message = 'Not found', code = 'not_found') { super(404, code, message) }
}
export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') { super(409, code, message) }
}
export class PayloadTooLargeError extends AppError {
  constructor(message: string, code = 'payload_too_large') { super(413, code, message) }
}
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, code = 'unsupported_media_type') { super(415, code, message) }
}
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number, message = 'Rate limit exceeded', code = 'rate_limited') {
    super(429, code, message)
  }
}
export class ServiceUnavailableError extends AppError {
  constructor(message: string, code = 'unavailable') { super(503, code, message) }
}
