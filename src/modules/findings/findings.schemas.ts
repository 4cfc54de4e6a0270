import { Type, type Static } from 'typebox'
import { SEVERITIES } from './severity.js'

const csvOf = (values: readonly string[], what: string) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description: `${what}: one or more of ${values.join(', ')}, comma-separated.` })

export const Pagination = Type.Object({
  page: Type.Integer({ minimum: 1 }),
  per_page: Type.Integer({ minimum: 1 }),
  total: Type.Integer({ minimum: 0 }),
  total_pages: Type.Integer({ minimum: 0 }),
})

const pageParams = {
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: 'Page number, from 1.' }),
  per_page: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Items per page (at most 500).' }),
  order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc', description: 'Sort direction.' }),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only items at or after this time (RFC 3339).' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only items before this time (RFC 3339).' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Case-insensitive text search.' })),
}

export const FINDING_SORTS = ['last_seen', 'first_seen', 'severity', 'title', 'created_at', 'updated_at'] as const
export const FindingsQuery = Type.Object({
  ...pageParams,
  severity: Type.Optional(csvOf(SEVERITIES, 'Severity filter')),
  status: Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'Status filter, comma-separated (open, in_progress, resolved, closed, …).' })),
  source: Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'Source filter, comma-separated (spectrastrike, scan, integration).' })),
  asset: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Asset reference or asset id.' })),
  sort: Type.Union(FINDING_SORTS.map((s) => Type.Literal(s)), { default: 'last_seen', description: 'Sort field (time range filters apply to last_seen).' }),
}, { additionalProperties: false })
export type FindingsQuery = Static<typeof FindingsQuery>

export const Finding = Type.Object({
  id: Type.String({ format: 'uuid' }),
  source: Type.String(),
  external_id: Type.Union([Type.String(), Type.Null()], { description: 'The id the source gave the finding.' }),
  fingerprint: Type.String({ description: 'De-duplication key within the tenant.' }),
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  severity: Type.Union(SEVERITIES.map((s) => Type.Literal(s))),
  status: Type.String(),
  asset_id: Type.Union([Type.String(), Type.Null()]),
  asset_ref: Type.Union([Type.String(), Type.Null()]),
  recommendation: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  first_seen: Type.String({ format: 'date-time' }),
  last_seen: Type.String({ format: 'date-time' }),
  occurrences: Type.Integer({ description: 'How many times the finding was reported.' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
})

export const EVENT_SORTS = ['occurred_at', 'received_at', 'severity'] as const
export const EventsQuery = Type.Object({
  ...pageParams,
  severity: Type.Optional(csvOf(SEVERITIES, 'Severity filter')),
  source: Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'Source filter, comma-separated.' })),
  source_system: Type.Optional(Type.String({ maxLength: 64 })),
  event_type: Type.Optional(Type.String({ maxLength: 64 })),
  asset: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Asset reference.' })),
  sort: Type.Union(EVENT_SORTS.map((s) => Type.Literal(s)), { default: 'occurred_at', description: 'Sort field (time range filters apply to occurred_at).' }),
}, { additionalProperties: false })
export type EventsQuery = Static<typeof EventsQuery>

export const Event = Type.Object({
  event_id: Type.String(),
  source: Type.String(),
  source_system: Type.String(),
  event_type: Type.String(),
  occurred_at: Type.String({ format: 'date-time' }),
  severity: Type.Union(SEVERITIES.map((s) => Type.Literal(s))),
  asset_ref: Type.Union([Type.String(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  request_id: Type.Union([Type.String(), Type.Null()], { description: 'Ingest request that delivered it.' }),
  received_at: Type.String({ format: 'date-time' }),
})

export const PlatformError = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    request_id: Type.String(),
  }),
}, { description: 'Error body of the platform APIs.' })

export const platformErrors = {
  400: { ...PlatformError, description: 'Bad query parameter (named in details).' },
  401: { ...PlatformError, description: 'Missing or invalid credentials.' },
  403: { ...PlatformError, description: 'The role lacks the permission.' },
  429: { ...PlatformError, description: 'Rate limited; see Retry-After.' },
}
