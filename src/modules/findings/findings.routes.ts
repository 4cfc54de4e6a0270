import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { NotFoundError } from '../../platform/errors.js'
import type { FindingsRepository } from './findings.repository.js'
import { Event, EventsQuery, Finding, FindingsQuery, Pagination, PlatformError, platformErrors } from './findings.schemas.js'

const TAG = 'Findings'

export async function findingsRoutes(app: FastifyInstance, opts: { repository: FindingsRepository }) {
  const repo = opts.repository
  const common = { clientRateLimit: true } as const

  app.get('/api/v1/findings', {
    config: { ...common, auth: { permission: 'findings:read' } },
    schema: {
      summary: 'List findings', tags: [TAG],
      description: 'Findings of the caller\'s tenant from every source, de-duplicated by fingerprint. Filter by severity, status, source, asset, text and last_seen range; sort and paginate.',
      querystring: FindingsQuery,
      response: { 200: Type.Object({ data: Type.Array(Finding), pagination: Pagination }), ...platformErrors },
    },
  }, async (request) => repo.listFindings(request.principal!.tenantId, request.query as FindingsQuery))

  app.get('/api/v1/findings/:id', {
    config: { ...common, auth: { permission: 'findings:read' } },
    schema: {
      summary: 'Get one finding', tags: [TAG],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 200: Type.Object({ data: Finding }), 404: { ...PlatformError, description: 'No such finding in this tenant.' }, ...platformErrors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const finding = await repo.getFinding(request.principal!.tenantId, id)
    if (!finding) throw new NotFoundError('Finding not found', 'finding_not_found')
    return { data: finding }
  })

  app.get('/api/v1/events', {
    config: { ...common, auth: { permission: 'events:read' } },
    schema: {
      summary: 'List telemetry events', tags: [TAG],
      description: 'Events of the caller\'s tenant. Filter by severity, source, source_system, event_type, asset, message text and occurred_at range; sort and paginate.',
      querystring: EventsQuery,
      response: { 200: Type.Object({ data: Type.Array(Event), pagination: Pagination }), ...platformErrors },
    },
  }, async (request) => repo.listEvents(request.principal!.tenantId, request.query as EventsQuery))

  app.get('/api/v1/events/:event_id', {
    config: { ...common, auth: { permission: 'events:read' } },
    schema: {
      summary: 'Get one event', tags: [TAG],
      params: Type.Object({ event_id: Type.String({ maxLength: 128 }) }),
      response: { 200: Type.Object({ data: Event }), 404: { ...PlatformError, description: 'No such event in this tenant.' }, ...platformErrors },
    },
  }, async (request) => {
    const { event_id } = request.params as { event_id: string }
    const event = await repo.getEvent(request.principal!.tenantId, event_id)
    if (!event) throw new NotFoundError('Event not found', 'event_not_found')
    return { data: event }
  })
}
