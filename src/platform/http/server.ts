import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import rateLimit from '@fastify/rate-limit'
import helmet, { type HelmetOptions } from 'helmet'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { can } from '../auth/permissions.js'
import { SYSTEM_TENANT_ID } from '../audit.js'
import { AppError, ForbiddenError, RateLimitedError, UnauthorizedError, ValidationError } from '../errors.js'
import type { Platform } from '../platform.js'
import { JsonTooDeepError, MAX_JSON_DEPTH, nestsDeeperThan, storableDateTime } from '../validation.js'
import { renderPlatformError, toAppError, type ErrorRenderer } from './families.js'
import type { RouteCatalogEntry } from './types.js'
import './types.js'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * helmet's security headers, worked out once at start: with static options they do not depend on the request.
 * (@fastify/helmet builds a new helmet middleware, re-parsing the CSP, on every request; that was ~8% of the CPU of
 * a single-event ingest. See helmetjs/helmet#430 for the same idea.)
 */
function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader(name: string, value: string | number) { headers[name.toLowerCase()] = String(value) },
    // Only X-Powered-By is removed, which Fastify never sets.
    removeHeader() {},
  }
  let called = false
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err
    called = true
  })
  if (!called) throw new Error('helmet did not finish synchronously; its options must be static')
  return headers
}

export interface ServerOptions {
  /** Renderers of the API families' error bodies, by family name. */
  families?: Record<string, ErrorRenderer>
}

interface AjvFormats { formats: Record<string, unknown>; addFormat(name: string, format: unknown): unknown }
/**
 * ajv-formats' date-time made the project's (storableDateTime: a `since=0000-01-01T00:00:00Z` filter was a 500).
 * Called by @fastify/ajv-compiler after the formats are added.
 */
function refuseYearZero(ajv: AjvFormats): void {
  const base = ajv.formats['date-time'] as { validate: (s: string) => boolean; compare?: unknown }
  ajv.addFormat('date-time', { ...base, validate: storableDateTime(base.validate) })
}

/**
 * Ajv coerces a query value such as "1e400" to Infinity and then skips minimum/maximum for it (they apply to finite
 * numbers only), so `?limit=1e400` reached the database. Numbers in the query and path must be finite.
 */
function nonFiniteField(values: unknown): string | undefined {
  if (values === null || typeof values !== 'object') return undefined
  for (const k in values) {
    const v = (values as Record<string, unknown>)[k]
    if (typeof v === 'number' && !Number.isFinite(v)) return k
    if (Array.isArray(v) && v.some((x) => typeof x === 'number' && !Number.isFinite(x))) return k
  }
  return undefined
}

const PROTO_KEY_MESSAGE = 'Request body has a "__proto__" or "constructor.prototype" key, which is refused (prototype poisoning)'
/** Fastify reports every refused body as invalid JSON; one that JSON.parse reads was refused for a prototype key. */
function isValidJson(err: Error, body: string): boolean {
  if ((err as { code?: string }).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') return false
  try { JSON.parse(body); return true } catch { return false }
}

/**
 * Fastify's JSON parser (bodies with "__proto__" or "constructor.prototype" keys refused) plus the nesting limit
 * (MAX_JSON_DEPTH). Every JSON route uses it; routes that replace their parser (to keep the raw body) call it.
 */
export function jsonBodyParser(app: FastifyInstance): (request: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => void {
  const parse = app.getDefaultJsonParser('error', 'error')
  return (request, body, done) => {
    parse(request, body, (err, value) => {
      if (err) done(isValidJson(err, body) ? new AppError(400, 'malformed_json', PROTO_KEY_MESSAGE) : err)
      else if (nestsDeeperThan(value, MAX_JSON_DEPTH)) done(new JsonTooDeepError())
      else done(null, value)
    })
  }
}

/**
 * The HTTP server with every cross-cutting behaviour: request ids, one log line per request, HTTPS enforcement,
 * authentication and permissions declared per route, the shared client rate limit, security headers, body
 * limits, and errors rendered in each API family's shape. Modules register their routes on the result.
 */
export async function createServer(platform: Platform, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const { config, logger, metrics } = platform
  const bodyLimit = config.MAX_BODY_MB * 1024 * 1024
  const families = new Map<string, ErrorRenderer>(Object.entries(opts.families ?? {}))
  const { authFailed } = metrics

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One summary line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    bodyLimit,
    trustProxy: config.TRUST_PROXY,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false }, onCreate: refuseYearZero } as FastifyServerOptions['ajv'],
  }) as unknown as FastifyInstance

  app.addHook('preHandler', (request, _reply, done) => {
    for (const [where, values] of [['querystring', request.query], ['params', request.params]] as const) {
      const field = nonFiniteField(values)
      if (field !== undefined) return done(new ValidationError(`Invalid ${where}: ${field} must be a finite number`, [{ field, message: 'must be a finite number' }], 'validation_failed', 400))
    }
    done()
  })

  const parseJson = jsonBodyParser(app)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => parseJson(request, body as string, done))

  app.decorate('platform', platform)
  app.decorate('routeCatalog', [] as RouteCatalogEntry[])
  app.decorateRequest('principal', undefined)
  app.decorateRequest('outcome', undefined)

  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' || (Array.isArray(route.method) && route.method.includes('HEAD') && route.method.length === 1)) return
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      if (method === 'HEAD') continue
      const schema = route.schema as { body?: unknown } | undefined
      app.routeCatalog.push({ method, url: route.url, auth: route.config?.auth, family: route.config?.family ?? 'platform', bodyRequired: schema?.body !== undefined })
    }
  })

  const render = (err: AppError, request: FastifyRequest, reply: FastifyReply) => {
    const family = request.routeOptions?.config?.family
    const renderer = (family && families.get(family)) || renderPlatformError
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v)
    if (err instanceof RateLimitedError) reply.header('retry-after', String(err.retryAfterSeconds))
    reply.code(err.statusCode)
    // A renderer may adjust the status (a family keeping its original's codes) before the body is sent.
    const body = renderer(err, request, reply)
    return reply.send(body)
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, bodyLimit)
    if (appError) {
      if (appError.statusCode >= 500) request.log.error({ err: error, tenant_id: request.principal?.tenantId }, 'request failed')
      return render(appError, request, reply)
    }
    request.log.error({ err: error, tenant_id: request.principal?.tenantId }, 'unhandled error')
    return render(new AppError(500, 'internal_error', 'Internal server error'), request, reply)
  })

  app.setNotFoundHandler((request, reply) =>
    render(new AppError(404, 'route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`), request, reply))

  const security = securityHeaders({
    // The API serves JSON; the docs pages (Swagger UI, ReDoc) set their own CSP.
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], workerSrc: ["'self'", 'blob:'] } },
    hsts: config.REQUIRE_HTTPS ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  })
  // Set first, so every answer carries them, errors from later hooks included.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(security)
    done()
  })

  app.addHook('onRequest', async (request) => {
    const cfg = request.routeOptions.config
    if (config.REQUIRE_HTTPS && request.protocol !== 'https' && request.routeOptions.url !== '/healthz' && request.routeOptions.url !== '/readyz') {
      throw new AppError(400, 'https_required', 'HTTPS is required')
    }
    const auth = cfg.auth
    if (!auth) return
    const endpoint = request.routeOptions.url ?? 'unknown'
    try {
      const header = request.headers.authorization
      const bearer = typeof header === 'string' && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : undefined
      if (typeof header === 'string' && !bearer) throw new UnauthorizedError('Authorization header must use the Bearer scheme', 'unauthorized')
      const apiKey = request.headers['x-api-key']
      request.principal = await platform.authenticator.authenticate({ bearer, apiKey: typeof apiKey === 'string' ? apiKey : undefined })
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err
      authFailed.inc({ endpoint, reason: err.code })
      await platform.audit.record({
        tenantId: SYSTEM_TENANT_ID, action: 'auth.failed', outcome: 'failure', actorType: 'anonymous', requestId: request.id,
        details: { endpoint, method: request.method, reason: err.code, message: err.message, ip: request.ip },
      })
      throw err
    }
    const p = request.principal
    if (!can(p.role, auth.permission)) {
      authFailed.inc({ endpoint, reason: 'forbidden' })
      await platform.audit.record({
        tenantId: p.tenantId, action: 'auth.forbidden', outcome: 'denied', actorType: p.kind, actorId: p.subject, requestId: request.id,
        details: { endpoint, method: request.method, role: p.role, permission: auth.permission },
      })
      throw new ForbiddenError(`Role "${p.role}" lacks permission "${auth.permission}"`, 'forbidden')
    }
  })

  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    ...(platform.redis ? { redis: platform.redis, nameSpace: 'vv-rl:' } : {}),
    keyGenerator: (req) => {
      const p = req.principal
      if (!p) return `ip:${req.ip}`
      return p.apiKeyId ? `key:${p.apiKeyId}` : `sub:${p.tenantId}:${p.subject}`
    },
    errorResponseBuilder: (_req, ctx) =>
      new RateLimitedError(Math.max(1, Math.ceil(ctx.ttl / 1000)), `Rate limit exceeded: ${ctx.max} requests per minute; retry in ${ctx.after}`, 'rate_limited'),
  })

  // client_rate_limit: one budget per principal shared by every route flagged clientRateLimit (a limiter made
  // once, so one store: in-process here, or Redis shared by every process).
  const clientLimit = app.createRateLimit({ max: config.CLIENT_RATE_LIMIT, timeWindow: 60_000 })
  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.clientRateLimit) return
    const r = await clientLimit(request)
    if (r.isAllowed) return
    reply.header('x-ratelimit-limit', String(r.max))
    reply.header('x-ratelimit-remaining', String(r.remaining))
    reply.header('x-ratelimit-reset', String(r.ttlInSeconds))
    if (r.isExceeded) {
      throw new RateLimitedError(Math.max(1, r.ttlInSeconds), `Rate limit exceeded: ${r.max} requests per minute; retry in ${r.ttlInSeconds} s`, 'rate_limited')
    }
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    metrics.httpRequests.inc({ method: request.method, route, status })
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
    const outcome = request.outcome ?? (status < 400 ? 'success' : status < 500 ? 'rejected' : 'error')
    const line = { endpoint: route, method: request.method, status, outcome, duration_ms: Math.round(reply.elapsedTime * 100) / 100, tenant_id: request.principal?.tenantId }
    if (status >= 500) request.log.error(line, 'request completed')
    else request.log.info(line, 'request completed')
  })

  return app
}
