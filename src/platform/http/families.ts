import type { FastifyReply, FastifyRequest } from 'fastify'
import { pathOf } from '../validation.js'
import { AppError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError, type FieldError } from '../errors.js'

/**
 * An API family renders errors in its own body shape (each spec defines one). Routes name their family in
 * `config.family`; routes without one, and unknown URLs, use the platform shape.
 */
export type ErrorRenderer = (err: AppError, request: FastifyRequest, reply: FastifyReply) => unknown

export const renderPlatformError: ErrorRenderer = (err, request) => ({
  error: {
    code: err.code,
    message: err.message,
    ...(err.details.length > 0 ? { details: err.details } : {}),
    request_id: request.id,
  },
})

interface FastifyLikeError {
  statusCode?: number
  code?: string
  message?: string
  validation?: { instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }[]
  validationContext?: string
}

/** Maps Fastify's (Ajv's) validation output to field errors with readable paths such as `severity` or `[2].title`. */
export function fieldErrorsFrom(errors: { instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }[], context = ''): FieldError[] {
  return errors.map((e) => {
    let path = pathOf(e.instancePath ?? '')
    const params = e.params ?? {}
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') path = path ? `${path}.${params.missingProperty}` : params.missingProperty
    if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') path = [path, params.additionalProperty].filter(Boolean).join('.')
    const message = e.keyword === 'additionalProperties' ? 'is not an allowed field' : (e.message ?? 'is invalid')
    return { field: path || context || '(body)', message }
  })
}

/** Converts anything thrown during a request into an AppError; undefined means an internal error. */
export function toAppError(err: unknown, bodyLimitBytes: number): AppError | undefined {
  if (err instanceof AppError) return err
  const e = err as FastifyLikeError
  if (e && Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'body'
    const details = fieldErrorsFrom(e.validation, where)
    const first = details[0]
    return new ValidationError(first ? `Invalid ${where}: ${first.field} ${first.message}` : `Invalid ${where}`, details, 'validation_failed', where === 'body' ? 422 : 400)
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`Request body exceeds the limit of ${Math.round(bodyLimitBytes / 1048576)} MiB`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError('Unsupported Content-Type: send application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, 'malformed_json', 'Request body is empty but Content-Type is application/json')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(400, 'malformed_json', 'Request body is not valid JSON')
  }
  if (e instanceof SyntaxError || (e?.statusCode === 400 && /JSON/i.test(e.message ?? ''))) {
    return new AppError(400, 'malformed_json', 'Request body is not valid JSON')
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError(e.statusCode, 'bad_request', e.message ?? 'Bad request')
  }
  return undefined
}
