/**
 * WS /ws/{job_id}: live log and progress of one import job. Authenticated before the upgrade (X-API-Key or
 * Authorization header, `?api_key=` query, or Sec-WebSocket-Protocol `api_key, <key>` / `bearer, <token>` for
 * browsers, which cannot set headers). Messages come from the platform event bus, so a client connected to one
 * process sees a job that a worker in another process runs.
 */
import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { Type } from 'typebox'
import { can } from '../../platform/auth/permissions.js'
import { ForbiddenError } from '../../platform/errors.js'
import { authErrors, completionSummary, FINISHED_STATUSES, JobParams, PhoenixError } from './scans.schemas.js'
import { jobChannel, type ScansService } from './scans.service.js'

const PROTOCOL_MARKERS = new Set(['api_key', 'apikey', 'x-api-key', 'bearer'])

/** Credentials from the places a WebSocket client can put them. */
export function wsCredentials(request: FastifyRequest): { bearer?: string; apiKey?: string } {
  const h = request.headers
  const auth = typeof h.authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(h.authorization)?.[1] : undefined
  if (auth) return { bearer: auth }
  if (typeof h['x-api-key'] === 'string') return { apiKey: h['x-api-key'] }
  const q = (request.query as Record<string, unknown>).api_key
  if (typeof q === 'string' && q !== '') return { apiKey: q }
  const protocols = typeof h['sec-websocket-protocol'] === 'string' ? h['sec-websocket-protocol'].split(',').map((p) => p.trim()) : []
  for (let i = 0; i < protocols.length - 1; i++) {
    const marker = protocols[i]!.toLowerCase()
    if (PROTOCOL_MARKERS.has(marker)) return marker === 'bearer' ? { bearer: protocols[i + 1]! } : { apiKey: protocols[i + 1]! }
  }
  return {}
}

export async function scansWebSocket(app: FastifyInstance, opts: { service: ScansService; heartbeatMs: number }) {
  const { service } = opts
  const { platform } = app
  await app.register(websocket, {
    options: {
      maxPayload: 16 * 1024,
      // Answer with the marker, never echo a credential back in a response header.
      handleProtocols: (protocols: Set<string>) => [...protocols].find((p) => PROTOCOL_MARKERS.has(p.toLowerCase())) ?? false,
    },
  })

  app.get('/ws/:job_id', {
    websocket: true,
    config: { family: 'phoenix' },
    schema: {
      summary: 'Stream an import job\'s log and progress (WebSocket)', tags: ['Scanner import'],
      description: 'Upgrade to a WebSocket. Server messages: `connected` (current status and progress — also for late joiners), `log`, `progress`, '
        + '`complete`, `error`, `heartbeat` (every 15 s). Client commands: `{"command":"ping"}` → `pong`, `{"command":"get_status"}` → `status` with the job. '
        + 'Credentials: X-API-Key, Authorization: Bearer, `?api_key=`, or Sec-WebSocket-Protocol `api_key, <key>`.',
      params: JobParams,
      querystring: Type.Object({ api_key: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: { 404: { ...PhoenixError, description: '`not_found`: no such job in this tenant (answered before the upgrade).' }, ...authErrors },
    },
    preValidation: async (request) => {
      const principal = await platform.authenticator.authenticate(wsCredentials(request))
      if (!can(principal.role, 'scans:read')) throw new ForbiddenError(`Role ${principal.role} lacks scans:read`)
      request.principal = principal
      // Unknown and other tenants' jobs are refused before the upgrade.
      await service.get(principal.tenantId, (request.params as { job_id: string }).job_id)
    },
  }, async (socket: WebSocket, request) => {
    const id = (request.params as { job_id: string }).job_id
    const tenantId = request.principal!.tenantId
    const send = (msg: unknown) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg))
    }
    const now = () => new Date().toISOString()
    // Subscribe first, then read the state: nothing published in between is lost. Live messages wait until
    // `connected` has gone out, so that it is always the first message.
    let live = false
    const held: unknown[] = []
    const unsubscribe = await platform.events.subscribe(jobChannel(id), (msg) => (live ? send(msg) : held.push(msg)))
    const heartbeat = setInterval(() => send({ type: 'heartbeat', timestamp: now() }), opts.heartbeatMs)
    socket.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
    })
    socket.on('message', (raw) => {
      void (async () => {
        let command: unknown
        try {
          command = (JSON.parse(raw.toString()) as { command?: unknown }).command
        } catch {
          command = undefined
        }
        if (command === 'ping') send({ type: 'pong', job_id: id, timestamp: now() })
        else if (command === 'get_status') send({ type: 'status', job_id: id, timestamp: now(), data: await service.get(tenantId, id) })
        else send({ type: 'command_error', job_id: id, timestamp: now(), data: { message: 'Unknown command: send {"command":"ping"} or {"command":"get_status"}' } })
      })().catch(() => socket.close(1011, 'internal error'))
    })

    const job = await service.get(tenantId, id)
    send({ type: 'connected', job_id: id, timestamp: now(), data: { message: `Connected to job ${id}`, status: job.status, progress: job.progress } })
    live = true
    const endSeen = held.some((m) => ['complete', 'error'].includes((m as { type?: string }).type ?? ''))
    for (const msg of held.splice(0)) send(msg)
    // A client joining after the end still learns how it ended (unless the live message just did).
    if (FINISHED_STATUSES.has(job.status) && !endSeen) {
      if (job.status === 'completed') {
        send({ type: 'complete', job_id: id, timestamp: now(), data: completionSummary(job) })
      } else {
        send({ type: 'error', job_id: id, timestamp: now(), data: { status: job.status, progress: job.progress, error_message: job.error_message ?? 'Cancelled by user' } })
      }
    }
  })
}
