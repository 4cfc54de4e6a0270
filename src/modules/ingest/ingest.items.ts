import type { FieldError } from '../../platform/errors.js'
import { normalizeSeverity, SEVERITIES, type Severity } from '../findings/severity.js'
import { sha256Hex } from '../../platform/util/hash.js'
import { compileValidator } from '../../platform/validation.js'
import { FINDING_STATUSES, METADATA_MAX_BYTES, SpectraFinding, TelemetryEvent } from './ingest.schemas.js'

const eventValidator = compileValidator(TelemetryEvent)
const findingValidator = compileValidator(SpectraFinding)

export interface NormalizedEvent {
  event_id: string
  source_system: string
  event_type: string
  occurred_at: string
  severity: Severity
  asset_ref: string
  message: string
  metadata: Record<string, unknown>
}

export interface NormalizedFinding {
  finding_id: string
  title: string
  description: string
  severity: Severity
  status: (typeof FINDING_STATUSES)[number]
  first_seen: string
  last_seen: string | null
  asset_ref: string | null
  recommendation: string | null
  metadata: Record<string, unknown>
}

export type ItemOutcome<T> = { ok: true; item: T } | { ok: false; errors: FieldError[] }

/**
 * Python's `str(datetime)` of an RFC 3339 string, as the original service's derived ids were computed over it:
 * `2026-02-22T10:00:00Z` → `2026-02-22 10:00:00+00:00`; fractions become microseconds, dropped when zero.
 */
export function pythonDatetimeString(rfc3339: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/.exec(rfc3339)
  if (!m) return rfc3339
  const micros = (m[3] ?? '').padEnd(6, '0').slice(0, 6)
  const frac = micros === '' || /^0+$/.test(micros) ? '' : `.${micros}`
  const offset = m[4] === 'Z' || m[4] === 'z' ? '+00:00' : m[4]!
  return `${m[1]} ${m[2]}${frac}${offset}`
}

const NON_ASCII = /[\u007f-\uffff]/
const NON_ASCII_ALL = /[\u007f-\uffff]/g
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/** `json.dumps(..., sort_keys=True, separators=(',', ':'))` of a flat object of strings and nulls (ensure_ascii included). */
function pythonCanonicalJson(obj: Record<string, string | null>): string {
  const keys = Object.keys(obj).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const v = obj[keys[i]!]
    out += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${v === null || v === undefined ? 'null' : JSON.stringify(v)}`
  }
  out += '}'
  // ensure_ascii: Python escapes everything outside space..tilde, so DEL and every non-ASCII character become
  // \uXXXX (astral characters as their two surrogates); JSON.stringify has already escaped the controls alike.
  return NON_ASCII.test(out) ? out.replace(NON_ASCII_ALL, escapeChar) : out
}

/** The original service's derived ids, reproduced bit for bit so re-sent items keep their ids. */
export function derivedId(prefix: 'evt' | 'fnd', fields: Record<string, string | null>): string {
  return `${prefix}_${sha256Hex(pythonCanonicalJson(fields)).slice(0, 24)}`
}

function metadataErrors(metadata: unknown): FieldError[] {
  if (metadata === undefined) return []
  const size = Buffer.byteLength(JSON.stringify(metadata))
  return size > METADATA_MAX_BYTES ? [{ field: `metadata`, message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON (got ${size})` }] : []
}

/** Validates and normalises one event; field names in errors are relative to the item. */
export function normalizeEvent(raw: unknown): ItemOutcome<NormalizedEvent> {
  if (!eventValidator.check(raw)) return { ok: false, errors: eventValidator.errors(raw) }
  const e = raw as TelemetryEvent
  const severity = normalizeSeverity(e.severity)
  const errors = metadataErrors(e.metadata)
  if (!severity) errors.unshift({ field: `severity`, message: `must be one of ${SEVERITIES.join(', ')}` })
  if (errors.length > 0 || !severity) return { ok: false, errors }
  const event_id = e.event_id ?? derivedId('evt', {
    source_system: e.source_system, event_type: e.event_type, occurred_at: pythonDatetimeString(e.occurred_at), asset_ref: e.asset_ref, message: e.message,
  })
  return {
    ok: true,
    item: {
      event_id, source_system: e.source_system, event_type: e.event_type, occurred_at: e.occurred_at, severity,
      asset_ref: e.asset_ref, message: e.message, metadata: e.metadata ?? {},
    },
  }
}

/** Validates and normalises one finding; field names in errors are relative to the item. */
export function normalizeFinding(raw: unknown): ItemOutcome<NormalizedFinding> {
  if (!findingValidator.check(raw)) return { ok: false, errors: findingValidator.errors(raw) }
  const f = raw as SpectraFinding
  const errors = metadataErrors(f.metadata)
  const severity = normalizeSeverity(f.severity)
  if (!severity) errors.push({ field: `severity`, message: 'must be one of informational, info, low, medium, med, high, critical' })
  const status = (f.status ?? 'open').trim().toLowerCase()
  if (!(FINDING_STATUSES as readonly string[]).includes(status)) errors.push({ field: `status`, message: `must be one of ${FINDING_STATUSES.join(', ')}` })
  if (f.last_seen !== undefined && Date.parse(f.last_seen) < Date.parse(f.first_seen)) errors.push({ field: `last_seen`, message: 'must not be before first_seen' })
  if (errors.length > 0 || !severity) return { ok: false, errors }
  const finding_id = f.finding_id ?? derivedId('fnd', {
    title: f.title, severity, first_seen: pythonDatetimeString(f.first_seen), asset_ref: f.asset_ref ?? null,
  })
  return {
    ok: true,
    item: {
      finding_id, title: f.title, description: f.description, severity, status: status as NormalizedFinding['status'],
      first_seen: f.first_seen, last_seen: f.last_seen ?? null, asset_ref: f.asset_ref ?? null,
      recommendation: f.recommendation ?? null, metadata: f.metadata ?? {},
    },
  }
}
