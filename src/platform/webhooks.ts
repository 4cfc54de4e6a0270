/**
 * Outgoing webhooks: signed with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) under a
 * per-tenant secret, delivered by the job system (retries with backoff, survives restarts), through the outbound
 * HTTP client and its SSRF guard. Every attempt is recorded on the delivery row.
 */
import { randomBytes } from 'node:crypto'
import { Type } from 'typebox'
import { Webhook } from 'standardwebhooks'
import type { Logger } from 'pino'
import type { SecretBox } from './crypto/secret-box.js'
import type { Database } from './db/database.js'
import type { WebhookAttempt } from './db/schema.js'
import type { HttpClient } from './http-client/index.js'
import { defineJob, UnrecoverableJobError, type JobQueue } from './jobs/index.js'
import { pgJson } from './db/storable-text.js'

export const WEBHOOK_DELIVERY_JOB = 'webhooks.deliver'
/** Attempts in total; with the job system's exponential backoff from 5 s this spans about 10 minutes. */
const MAX_ATTEMPTS = 8

export interface WebhookDelivery {
  id: string
  event: string
  url: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: WebhookAttempt[]
  created_at: string
  delivered_at: string | null
}

export interface EnqueueWebhook {
  tenantId: string
  sourceType: string
  sourceId: string
  event: string
  url: string
  headers?: Record<string, string> | undefined
  payload: Record<string, unknown>
}

const aad = (tenantId: string) => `webhook-secret:${tenantId}`

export function createWebhookService(deps: { db: Database; secrets: SecretBox; jobs: JobQueue; http: HttpClient; logger: Logger }) {
  const { db, secrets } = deps

  async function signingSecret(tenantId: string): Promise<string> {
    const row = await db.selectFrom('webhook_secrets').select('secret').where('tenant_id', '=', tenantId).executeTakeFirst()
    if (row) return secrets.open(row.secret, aad(tenantId))
    const fresh = `whsec_${randomBytes(24).toString('base64')}`
    await db.insertInto('webhook_secrets').values({ tenant_id: tenantId, secret: secrets.seal(fresh, aad(tenantId)) })
      .onConflict((oc) => oc.column('tenant_id').doNothing()).execute()
    // Another process may have won the race: read back what is stored.
    const stored = await db.selectFrom('webhook_secrets').select('secret').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
    return secrets.open(stored.secret, aad(tenantId))
  }

  const service = {
    signingSecret,

    async rotate(tenantId: string): Promise<string> {
      const fresh = `whsec_${randomBytes(24).toString('base64')}`
      const sealed = secrets.seal(fresh, aad(tenantId))
      await db.insertInto('webhook_secrets').values({ tenant_id: tenantId, secret: sealed, rotated_at: new Date() })
        .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ secret: sealed, rotated_at: new Date() })).execute()
      return fresh
    },

    /** Records a delivery and queues it; the caller's transaction does not wait for the receiver. */
    async enqueue(w: EnqueueWebhook): Promise<string> {
      const row = await db.insertInto('webhook_deliveries').values({
        tenant_id: w.tenantId, source_type: w.sourceType, source_id: w.sourceId, event: w.event, url: w.url,
        headers: w.headers && Object.keys(w.headers).length > 0 ? secrets.seal(JSON.stringify(w.headers), `webhook-delivery:${w.tenantId}`) : null,
        payload: pgJson(w.payload), status: 'pending',
      }).returning('id').executeTakeFirstOrThrow()
      await deps.jobs.enqueue(WEBHOOK_DELIVERY_JOB, { deliveryId: row.id }, { tenantId: w.tenantId })
      return row.id
    },

    /** Deletes delivered and failed deliveries created before `before`; returns how many. */
    async purgeFinished(before: Date): Promise<number> {
      const r = await db.deleteFrom('webhook_deliveries').where('status', 'in', ['delivered', 'failed']).where('created_at', '<', before).executeTakeFirst()
      return Number(r.numDeletedRows)
    },

    async list(tenantId: string, sourceType: string, sourceIds: string[]): Promise<Map<string, WebhookDelivery[]>> {
      const out = new Map<string, WebhookDelivery[]>()
      if (sourceIds.length === 0) return out
      const rows = await db.selectFrom('webhook_deliveries').select(['id', 'source_id', 'event', 'url', 'status', 'attempts', 'created_at', 'delivered_at'])
        .where('tenant_id', '=', tenantId).where('source_type', '=', sourceType).where('source_id', 'in', sourceIds).orderBy('created_at').execute()
      for (const r of rows) {
        const list = out.get(r.source_id) ?? []
        list.push({
          id: r.id, event: r.event, url: r.url, status: r.status, attempts: r.attempts,
          created_at: r.created_at.toISOString(), delivered_at: r.delivered_at?.toISOString() ?? null,
        })
        out.set(r.source_id, list)
      }
      return out
    },

    job: defineJob({
      name: WEBHOOK_DELIVERY_JOB,
      queue: 'webhooks',
      payload: Type.Object({ deliveryId: Type.String({ format: 'uuid' }) }),
      maxAttempts: MAX_ATTEMPTS,
      backoffMs: 5000,
      timeoutMs: 60_000,
      async handler(ctx) {
        const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', ctx.payload.deliveryId).executeTakeFirst()
        if (!row || row.status !== 'pending') return { skipped: row?.status ?? 'missing' }
        const body = JSON.stringify(row.payload)
        const extra = row.headers ? JSON.parse(secrets.open(row.headers, `webhook-delivery:${row.tenant_id}`)) as Record<string, string> : {}
        const msgId = `msg_${row.id.replace(/-/g, '')}`
        const now = new Date()
        const signature = new Webhook(await signingSecret(row.tenant_id)).sign(msgId, now, body)
        const started = Date.now()
        let attempt: WebhookAttempt
        let ok = false
        let permanent = false
        try {
          const res = await deps.http.request(row.url, {
            method: 'POST', body, retries: 0, timeoutMs: 15_000, maxRedirects: 0, signal: ctx.signal,
            headers: {
              ...extra, 'content-type': 'application/json', 'user-agent': 'VeriVault-Webhooks/1',
              'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature,
            },
          })
          ok = res.status >= 200 && res.status < 300
          // 410 Gone: the receiver asks us to stop (Standard Webhooks).
          permanent = res.status === 410
          attempt = { at: now.toISOString(), status_code: res.status, error: ok ? null : `HTTP ${res.status}`, duration_ms: Date.now() - started }
        } catch (err) {
          const e = err as { code?: string; message?: string }
          permanent = e.code === 'ssrf_blocked'
          attempt = { at: now.toISOString(), status_code: null, error: (e.message ?? String(err)).slice(0, 500), duration_ms: Date.now() - started }
        }
        const last = ok || permanent || ctx.attempt >= MAX_ATTEMPTS
        await db.updateTable('webhook_deliveries').set({
          attempts: pgJson([...row.attempts, attempt]),
          status: ok ? 'delivered' : last ? 'failed' : 'pending',
          delivered_at: ok ? new Date() : null, updated_at: new Date(),
        }).where('id', '=', row.id).execute()
        if (ok) return { status: attempt.status_code }
        if (permanent) throw new UnrecoverableJobError(attempt.error ?? 'delivery refused')
        throw new Error(`webhook delivery failed: ${attempt.error}`)
      },
    }),
  }
  return service
}
export type WebhookService = ReturnType<typeof createWebhookService>
