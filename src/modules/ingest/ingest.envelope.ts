import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { AppError } from '../../platform/errors.js'
import { canonicalJson } from '../../platform/util/canonical-json.js'

export type EnvelopeStatus = 'accepted' | 'partial' | 'failed' | 'replayed'
export interface EnvelopeErrorItem { code: string; message: string; field?: string }

export interface Envelope {
  request_id: string
  status: EnvelopeStatus
  data: unknown
  errors: EnvelopeErrorItem[]
}

/**
 * Serialises the envelope, signing it when a secret is configured: HMAC-SHA256 over
 * `"{signed_at}.{canonical JSON of request_id, status, data, errors}"`. The original signed only `data`, so a
 * relay could flip `status`; covering the whole body closes that.
 */
export function serializeEnvelope(env: Envelope, secret: string | undefined, now = new Date()): string {
  if (!secret) return JSON.stringify({ ...env, signature: null })
  const signed_at = now.toISOString()
  const signature = createHmac('sha256', secret).update(`${signed_at}.${canonicalJson(env)}`).digest('hex')
  return JSON.stringify({ ...env, signature: { algorithm: 'hmac-sha256', signed_at, signature } })
}

/** Verifies a response envelope's signature (used by tests and offered to clients as the reference). */
export function verifyEnvelope(body: string, secret: string): boolean {
  const parsed = JSON.parse(body) as Envelope & { signature: { signed_at: string; signature: string } | null }
  if (!parsed.signature) return false
  const { signature, ...env } = parsed
  const expected = createHmac('sha256', secret).update(`${signature.signed_at}.${canonicalJson(env)}`).digest()
  const given = Buffer.from(signature.signature, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The spec's error rendering: status `failed`, `data: {}`, one entry per problem. Codes keep the original's statuses. */
export function renderIngestError(err: AppError, request: FastifyRequest, secret: string | undefined): { status: number; body: string } {
  let status = err.statusCode
  let code = err.code
  // The original answered unparseable bodies with 422 validation_failed.
  if (code === 'malformed_json') { status = 422; code = 'validation_failed' }
  const errors: EnvelopeErrorItem[] = err.details.length > 0
    ? err.details.map((d) => ({ code, message: `${d.field}: ${d.message}`, field: d.field }))
    : [{ code, message: err.message }]
  const body = serializeEnvelope({ request_id: request.envelopeId ?? request.id, status: 'failed', data: {}, errors }, secret)
  return { status, body }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Id of this request in the ingest envelope and status API (a UUID). */
    envelopeId?: string
    /** The body exactly as received, for signature verification. */
    rawBody?: string
  }
}
