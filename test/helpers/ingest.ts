import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'

export const BASE = '/api/v1/integrations/spectrastrike'

export const sampleEvent = (over: Record<string, unknown> = {}) => ({
  source_system: 'spectrastrike-sensor',
  event_type: 'PROCESS_ANOMALY',
  occurred_at: '2026-02-22T10:00:00Z',
  severity: 'high',
  asset_ref: 'host-nyc-01',
  message: 'Unexpected parent-child process chain',
  metadata: { pid: 2244, parent_pid: 2210, technique: 'T1059' },
  ...over,
})

export const sampleFinding = (over: Record<string, unknown> = {}) => ({
  title: 'Suspicious PowerShell Script',
  description: 'Encoded command observed in endpoint telemetry',
  severity: 'critical',
  status: 'open',
  first_seen: '2026-02-22T09:45:00Z',
  asset_ref: 'host-nyc-01',
  recommendation: 'Block script hash and isolate endpoint',
  metadata: { technique: 'T1059.001' },
  ...over,
})

export function sign(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  return { 'x-timestamp': String(timestamp), 'x-signature': createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex') }
}

export async function post(app: FastifyInstance, path: string, body: unknown, headers: Record<string, string>) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  const res = await app.inject({ method: 'POST', url: `${BASE}${path}`, headers: { 'content-type': 'application/json', ...headers }, payload })
  return { res, status: res.statusCode, body: res.json() as Record<string, any> }
}
