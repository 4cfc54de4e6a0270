import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { SYSTEM_TENANT_ID } from '../../platform/audit.js'
import { verifyPassword } from '../../platform/auth/passwords.js'
import { ROLES, TIERS, type Role, type Tier } from '../../platform/auth/permissions.js'
import { NotFoundError, UnauthorizedError } from '../../platform/errors.js'
import { Pagination, PlatformError, platformErrors } from '../findings/findings.schemas.js'
import type { Module } from '../module.js'

const ApiKey = Type.Object({
  id: Type.String(), name: Type.String(), prefix: Type.String({ description: 'Visible part of the key, e.g. vv_1a2b3c4d.' }),
  role: Type.String(), tier: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(), last_used_at: Type.Union([Type.String(), Type.Null()]), revoked_at: Type.Union([Type.String(), Type.Null()]),
})
const AuditEntry = Type.Object({
  seq: Type.Integer(), occurred_at: Type.String(), action: Type.String(), outcome: Type.String(), actor_type: Type.String(),
  actor_id: Type.Union([Type.String(), Type.Null()]), resource_type: Type.Union([Type.String(), Type.Null()]),
  resource_id: Type.Union([Type.String(), Type.Null()]), request_id: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()), prev_hash: Type.String(), hash: Type.String(),
})

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const keyOut = (k: { id: string; name: string; prefix: string; role: string; tier: string | null; created_at: Date; last_used_at: Date | null; revoked_at: Date | null }) => ({
  id: k.id, name: k.name, prefix: k.prefix, role: k.role, tier: k.tier, created_at: k.created_at.toISOString(), last_used_at: iso(k.last_used_at), revoked_at: iso(k.revoked_at),
})

async function identityRoutes(app: FastifyInstance) {
  const { platform } = app
  const { identity, tokens, audit, db } = platform

  app.post('/api/v1/auth/token', {
    // Public, so limited per client address against password guessing.
    config: { rateLimit: { max: 20, timeWindow: 60_000, groupId: 'login' } },
    schema: {
      summary: 'Exchange a user\'s password for an access token', tags: ['Identity'],
      body: Type.Object({
        tenant: Type.String({ minLength: 1, maxLength: 64, description: 'Tenant slug or id.' }),
        email: Type.String({ minLength: 3, maxLength: 320 }),
        password: Type.String({ minLength: 1, maxLength: 1024 }),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(), expires_at: Type.String() }),
        401: { ...PlatformError, description: 'Wrong tenant, e-mail or password (one message for all three).' },
        422: { ...PlatformError, description: 'Invalid body.' },
        429: { ...PlatformError, description: 'Too many attempts.' },
      },
    },
  }, async (request) => {
    const body = request.body as { tenant: string; email: string; password: string }
    const tenant = await identity.findTenant(body.tenant)
    const user = tenant ? await identity.findUserForLogin(tenant.id, body.email) : undefined
    // Verify against a dummy hash when the user is unknown so timing does not reveal which part was wrong.
    const ok = await verifyPassword(body.password, user?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')
    if (!tenant || !user || !ok) {
      await audit.record({ tenantId: tenant?.id ?? SYSTEM_TENANT_ID, action: 'auth.login_failed', outcome: 'failure', actorType: 'anonymous', actorId: body.email, requestId: request.id, details: { ip: request.ip } })
      throw new UnauthorizedError('Invalid tenant, e-mail or password', 'invalid_credentials')
    }
    await identity.touchUserLogin(user.id)
    await audit.record({ tenantId: tenant.id, action: 'auth.login', outcome: 'success', actorType: 'user', actorId: user.id, requestId: request.id, details: { ip: request.ip } })
    const { token, expiresAt } = await tokens.issue({ sub: user.id, tenantId: tenant.id, role: user.role })
    return { access_token: token, token_type: 'Bearer' as const, expires_in: tokens.accessTtlSeconds, expires_at: expiresAt.toISOString() }
  })

  app.get('/api/v1/auth/me', {
    config: { auth: { permission: 'findings:read' } },
    schema: {
      summary: 'Who am I: the caller\'s tenant, role and credential', tags: ['Identity'],
      response: {
        200: Type.Object({ data: Type.Object({ kind: Type.String(), subject: Type.String(), tenant_id: Type.String(), tenant_slug: Type.String(), role: Type.String(), tier: Type.Union([Type.String(), Type.Null()]) }) }),
        ...platformErrors,
      },
    },
  }, async (request) => {
    const p = request.principal!
    return { data: { kind: p.kind, subject: p.subject, tenant_id: p.tenantId, tenant_slug: p.tenantSlug, role: p.role, tier: p.tier ?? null } }
  })

  app.get('/api/v1/api-keys', {
    config: { auth: { permission: 'keys:manage' } },
    schema: { summary: 'List the tenant\'s API keys (never the secrets)', tags: ['Identity'], response: { 200: Type.Object({ data: Type.Array(ApiKey) }), ...platformErrors } },
  }, async (request) => ({ data: (await identity.listApiKeys(request.principal!.tenantId)).map(keyOut) }))

  app.post('/api/v1/api-keys', {
    config: { auth: { permission: 'keys:manage' } },
    schema: {
      summary: 'Create an API key (the key is shown once)', tags: ['Identity'],
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        role: Type.Union(ROLES.map((r) => Type.Literal(r))),
        tier: Type.Optional(Type.Union(TIERS.map((t) => Type.Literal(t)), { description: 'Prompt-analysis tier.' })),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ data: Type.Intersect([ApiKey, Type.Object({ key: Type.String({ description: 'The secret; store it now, it is not shown again.' }) })]) }), 422: PlatformError, ...platformErrors },
    },
  }, async (request, reply) => {
    const p = request.principal!
    const body = request.body as { name?: string; role: Role; tier?: Tier }
    const { key, record } = await identity.createApiKey(p.tenantId, { role: body.role, tier: body.tier, name: body.name })
    await audit.record({ tenantId: p.tenantId, action: 'api_key.created', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'api_key', resourceId: record.prefix, requestId: request.id, details: { role: record.role, tier: record.tier } })
    return reply.code(201).send({ data: { ...keyOut(record), key } })
  })

  app.delete('/api/v1/api-keys/:prefix', {
    config: { auth: { permission: 'keys:manage' } },
    schema: {
      summary: 'Revoke an API key', tags: ['Identity'],
      params: Type.Object({ prefix: Type.String({ maxLength: 64 }) }),
      response: { 204: Type.Null({ description: 'Revoked.' }), 404: { ...PlatformError, description: 'No active key with that prefix in this tenant.' }, ...platformErrors },
    },
  }, async (request, reply) => {
    const p = request.principal!
    const { prefix } = request.params as { prefix: string }
    const revoked = await identity.revokeApiKey(prefix, p.tenantId)
    if (!revoked) throw new NotFoundError('API key not found', 'api_key_not_found')
    platform.authenticator.forgetApiKeys()
    await audit.record({ tenantId: p.tenantId, action: 'api_key.revoked', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'api_key', resourceId: prefix, requestId: request.id })
    return reply.code(204).send()
  })

  app.get('/api/v1/audit', {
    config: { auth: { permission: 'audit:read' } },
    schema: {
      summary: 'List the tenant\'s audit trail', tags: ['Audit'],
      querystring: Type.Object({
        page: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 1 }), per_page: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        action: Type.Optional(Type.String({ maxLength: 100 })), outcome: Type.Optional(Type.String({ maxLength: 20 })),
        since: Type.Optional(Type.String({ format: 'date-time' })), until: Type.Optional(Type.String({ format: 'date-time' })),
        order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ data: Type.Array(AuditEntry), pagination: Pagination }), ...platformErrors },
    },
  }, async (request) => {
    const q = request.query as { page: number; per_page: number; action?: string; outcome?: string; since?: string; until?: string; order: 'asc' | 'desc' }
    let query = db.selectFrom('audit_log').where('tenant_id', '=', request.principal!.tenantId)
    if (q.action) query = query.where('action', '=', q.action)
    if (q.outcome) query = query.where('outcome', '=', q.outcome)
    if (q.since) query = query.where('occurred_at', '>=', new Date(q.since))
    if (q.until) query = query.where('occurred_at', '<', new Date(q.until))
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('seq', q.order).limit(q.per_page).offset((q.page - 1) * q.per_page).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ])
    const total = Number(count.n)
    return {
      data: rows.map((r) => ({ ...r, seq: Number(r.seq), occurred_at: r.occurred_at.toISOString(), details: r.details as Record<string, unknown> })),
      pagination: { page: q.page, per_page: q.per_page, total, total_pages: Math.ceil(total / q.per_page) },
    }
  })

  app.get('/api/v1/audit/verify', {
    config: { auth: { permission: 'audit:read' } },
    schema: {
      summary: 'Verify the tenant\'s audit hash chain', tags: ['Audit'],
      response: {
        200: Type.Object({ data: Type.Object({ ok: Type.Boolean(), entries: Type.Integer(), broken_at: Type.Union([Type.Object({ seq: Type.Integer(), reason: Type.String() }), Type.Null()]) }) }),
        ...platformErrors,
      },
    },
  }, async (request) => {
    const r = await audit.verify(request.principal!.tenantId)
    return { data: { ok: r.ok, entries: r.entries, broken_at: r.brokenAt ?? null } }
  })
}

/** Tokens, API keys and the audit trail of the caller's tenant. */
export const identityModule: Module = {
  name: 'identity',
  async register(app) { await app.register(identityRoutes) },
}
