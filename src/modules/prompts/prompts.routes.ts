import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { TIERS, type Tier } from '../../platform/auth/permissions.js'
import type { Principal } from '../../platform/auth/authenticator.js'
import { AppError, BadRequestError, ForbiddenError, RateLimitedError } from '../../platform/errors.js'
import {
  AnalysisLogList, AnalysisLogQuery, AnalysisResponse, AnalyzeBody, BatchBody, BatchResponse, ImportResult, PromptRule, PromptRuleBody,
  PromptRuleList, PromptRuleQuery, SvError,
} from './prompts.schemas.js'
import { PlatformError, platformErrors } from '../findings/findings.schemas.js'
import type { PromptsService } from './prompts.service.js'

export const SECUREVECTOR_FAMILY = 'securevector'
const TAG = 'Prompt analysis'
const RULES_TAG = 'Prompt rules'

export interface PromptsRoutesOptions {
  service: PromptsService
  maxBatch: number
  maxBodyBytes: number
  rateLimits: Record<Tier, number>
  logMode: string
}

const svErrors = {
  400: { ...SvError, description: 'The body is not valid JSON, or a field is missing or wrong (`error` names it; `details` lists each).' },
  401: { ...SvError, description: '`{"error": "Invalid API key", "status": 401}`: the X-Api-Key header is missing or not a valid key.' },
  403: { ...SvError, description: 'user_tier is above the API key\'s tier, or the key\'s role may not analyse prompts.' },
  413: { ...SvError, description: '`{"error": "Request payload too large", "status": 413, "max_size": 1048576}` (VV_PROMPT_MAX_BODY_BYTES).' },
  415: { ...SvError, description: 'The body is not application/json.' },
  429: { ...SvError, description: '`{"error": "Rate limit exceeded", "status": 429, "retry_after": N}` with X-RateLimit-* and Retry-After headers.' },
  500: { ...SvError, description: '`{"error": "Internal server error", "status": 500}`.' },
}

/** The tier a request runs at: the body's user_tier if given (never above the key's), else the key's. */
function effectiveTier(p: Principal, asked: Tier | undefined): Tier {
  const own: Tier = p.tier ?? 'community'
  if (asked === undefined) return own
  if (TIERS.indexOf(asked) > TIERS.indexOf(own)) {
    throw new ForbiddenError(`user_tier "${asked}" is above this API key's tier "${own}"; ask for "${own}" or a lower tier`, 'tier_not_allowed')
  }
  return asked
}

function requirePrompt(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new BadRequestError(`${field} must be a string`, 'validation_failed', [{ field, message: 'must be a string' }])
  if (value.trim().length === 0) throw new BadRequestError(`${field} must not be empty`, 'validation_failed', [{ field, message: 'must not be empty' }])
  return value
}

export async function promptsRoutes(app: FastifyInstance, opts: PromptsRoutesOptions) {
  const { service, maxBatch, maxBodyBytes, rateLimits } = opts

  // One limiter per tier; the key's own tier decides the budget (asking for a lower tier does not add one).
  const limiters = Object.fromEntries(TIERS.map((t) => [t, app.createRateLimit({
    max: rateLimits[t],
    timeWindow: 60_000,
    keyGenerator: (req: FastifyRequest) => {
      const p = req.principal!
      return `prompt:${p.apiKeyId ? `key:${p.apiKeyId}` : `sub:${p.tenantId}:${p.subject}`}`
    },
  })])) as Record<Tier, ReturnType<FastifyInstance['createRateLimit']>>

  async function rateLimit(request: FastifyRequest, reply: FastifyReply) {
    const tier: Tier = request.principal?.tier ?? 'community'
    const r = await limiters[tier](request)
    if (!('max' in r)) return
    const reset = Math.ceil(Date.now() / 1000) + Math.max(0, r.ttlInSeconds)
    reply.header('x-ratelimit-limit', String(r.max))
    reply.header('x-ratelimit-remaining', String(Math.max(0, r.remaining)))
    reply.header('x-ratelimit-reset', String(reset))
    if (!r.isAllowed && r.isExceeded) {
      throw new RateLimitedError(Math.max(1, r.ttlInSeconds), `Rate limit exceeded: ${r.max} requests per minute for the ${tier} tier`, 'rate_limited')
    }
  }

  // A rule pack arrives as YAML text (or as JSON {"yaml": "..."}).
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body))

  // Types are checked before schema validation, which would otherwise coerce a number into a string.
  const checkPromptTypes = async (request: FastifyRequest) => {
    const body = request.body as Record<string, unknown> | null
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('The body must be a JSON object', 'validation_failed', [{ field: '(body)', message: 'must be a JSON object' }])
    if ('prompts' in body || request.routeOptions.url === '/analyze/batch') {
      const list = body.prompts
      if (!Array.isArray(list)) throw new BadRequestError('prompts must be an array of strings', 'validation_failed', [{ field: 'prompts', message: 'must be an array of strings' }])
      if (list.length > maxBatch) {
        throw new BadRequestError(`prompts holds ${list.length} prompts; at most ${maxBatch} per batch (VV_PROMPT_MAX_BATCH)`, 'batch_too_large', [{ field: 'prompts', message: `must hold at most ${maxBatch} prompts` }])
      }
      list.forEach((p, i) => requirePrompt(p, `prompts[${i}]`))
    } else requirePrompt(body.prompt, 'prompt')
    if (body.user_tier !== undefined && !TIERS.includes(body.user_tier as Tier)) {
      throw new BadRequestError('user_tier must be community, professional or enterprise', 'validation_failed', [{ field: 'user_tier', message: 'must be community, professional or enterprise' }])
    }
  }

  const analyzeConfig = { family: SECUREVECTOR_FAMILY, auth: { permission: 'prompts:analyze' } } as const

  app.post('/analyze', {
    bodyLimit: maxBodyBytes,
    config: analyzeConfig,
    preValidation: checkPromptTypes,
    preHandler: rateLimit,
    schema: {
      summary: 'Analyse one prompt',
      description: 'SecureVector-compatible. Authenticate with `X-Api-Key`; the tier comes from the key (`user_tier` may ask for it or a lower one). '
        + 'The verdict is explained by `detections` (rules, heuristics, statistical model). Prompt text is not stored unless VV_PROMPT_LOG=full.',
      tags: [TAG],
      body: AnalyzeBody,
      response: { 200: AnalysisResponse, ...svErrors },
    },
  }, async (request) => {
    const body = request.body as AnalyzeBody
    const tier = effectiveTier(request.principal!, body.user_tier)
    return service.analyze(request.principal!, tier, body.prompt)
  })

  app.post('/analyze/batch', {
    bodyLimit: maxBodyBytes,
    config: analyzeConfig,
    preValidation: checkPromptTypes,
    preHandler: rateLimit,
    schema: {
      summary: 'Analyse a batch of prompts',
      description: `SecureVector-compatible. Up to VV_PROMPT_MAX_BATCH prompts (now ${maxBatch}); one result per prompt, in order, each with analysis_time_ms. Counts as one request for the rate limit.`,
      tags: [TAG],
      body: BatchBody,
      response: { 200: BatchResponse, ...svErrors },
    },
  }, async (request) => {
    const body = request.body as BatchBody
    if (body.prompts.length === 0) throw new BadRequestError('prompts must hold at least one prompt', 'validation_failed', [{ field: 'prompts', message: 'must not be empty' }])
    const tier = effectiveTier(request.principal!, body.user_tier)
    return { results: await service.analyzeBatch(request.principal!, tier, body.prompts) }
  })

  // ---- custom rules and allowlist (platform error shape)
  const manage = { auth: { permission: 'prompts:manage' } } as const
  const read = { auth: { permission: 'prompts:read' } } as const
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) })
  const notFound = { 404: { ...PlatformError, description: '`rule_not_found`: no rule with this id in the tenant.' } }
  const invalid = { 422: { ...PlatformError, description: '`validation_failed`, `test_case_failed`: details name each bad field (e.g. patterns[0], test_cases[1]).' } }

  app.get('/api/v1/prompt-rules', {
    config: read,
    schema: { summary: 'List the tenant\'s custom prompt rules and allowlist entries', description: 'They apply to enterprise-tier analyses.', tags: [RULES_TAG], querystring: PromptRuleQuery, response: { 200: PromptRuleList, ...platformErrors } },
  }, async (request) => {
    const q = request.query as { action?: 'detect' | 'allow'; category?: string; enabled?: boolean; q?: string; sort?: 'id'; limit?: number; offset?: number }
    const limit = q.limit ?? 100
    const offset = q.offset ?? 0
    const r = await service.listRules(request.principal!.tenantId, { action: q.action, category: q.category, enabled: q.enabled, q: q.q, sort: q.sort ?? 'id', limit, offset })
    return { data: r.data, pagination: { total: r.total, limit, offset } }
  })

  app.get('/api/v1/prompt-rules/:id', {
    config: read,
    schema: { summary: 'Get a custom prompt rule', tags: [RULES_TAG], params: IdParams, response: { 200: Type.Object({ data: PromptRule }), ...platformErrors, ...notFound } },
  }, async (request) => ({ data: await service.getRule(request.principal!.tenantId, (request.params as { id: string }).id) }))

  app.post('/api/v1/prompt-rules', {
    config: manage,
    schema: {
      summary: 'Create a custom prompt rule or allowlist entry',
      description: 'A detect rule is validated, its patterns are proven free of catastrophic backtracking, and its test cases are run; any failure is a 422 naming the field. '
        + 'An allow entry suppresses rule ids or clears exact prompts (stored as SHA-256). Both apply to enterprise-tier analyses at once.',
      tags: [RULES_TAG], body: PromptRuleBody,
      response: { 201: Type.Object({ data: PromptRule }), ...platformErrors, 409: { ...PlatformError, description: '`rule_exists` or `rule_limit_reached`.' }, ...invalid },
    },
  }, async (request, reply) => {
    const data = await service.createRule(request.principal!, request.body as PromptRuleBody)
    return reply.code(201).send({ data })
  })

  app.put('/api/v1/prompt-rules/:id', {
    config: manage,
    schema: { summary: 'Replace a custom prompt rule or allowlist entry', description: 'Validated like a new rule.', tags: [RULES_TAG], params: IdParams, body: PromptRuleBody, response: { 200: Type.Object({ data: PromptRule }), ...platformErrors, ...notFound, ...invalid } },
  }, async (request) => ({ data: await service.updateRule(request.principal!, (request.params as { id: string }).id, request.body as PromptRuleBody) }))

  app.delete('/api/v1/prompt-rules/:id', {
    config: manage,
    schema: { summary: 'Delete a custom prompt rule or allowlist entry', tags: [RULES_TAG], params: IdParams, response: { 204: Type.Null(), ...platformErrors, ...notFound } },
  }, async (request, reply) => {
    await service.deleteRule(request.principal!, (request.params as { id: string }).id)
    return reply.code(204).send()
  })

  app.post('/api/v1/prompt-rules/import', {
    config: manage,
    bodyLimit: 1_048_576,
    schema: {
      summary: 'Import a rule pack (YAML)',
      description: 'Body: a YAML rule pack (Content-Type application/yaml or text/yaml), in our format or SecureVector\'s community format (`rules:` with `pattern: {type, value, confidence_threshold}`). '
        + 'Each rule is validated, proven safe and has its test cases run; good rules are created, bad ones are listed in `rejected` with their errors. `?replace=true` overwrites rules with the same id.',
      tags: [RULES_TAG],
      querystring: Type.Object({ replace: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
      response: { 200: ImportResult, ...platformErrors },
    },
  }, async (request) => {
    const body = request.body as unknown
    const yaml = typeof body === 'string' ? body : typeof (body as { yaml?: unknown } | null)?.yaml === 'string' ? (body as { yaml: string }).yaml : undefined
    if (yaml === undefined || yaml.trim() === '') {
      throw new BadRequestError('Send the rule pack as YAML (Content-Type: application/yaml) or as JSON {"yaml": "..."}', 'validation_failed', [{ field: 'yaml', message: 'is required' }])
    }
    return service.importPack(request.principal!, yaml, (request.query as { replace?: boolean }).replace ?? false)
  })

  app.get('/api/v1/prompt-analyses', {
    config: read,
    schema: {
      summary: 'List logged prompt analyses',
      description: 'What VV_PROMPT_LOG keeps: nothing (off, the default), metadata (SHA-256, length, verdict, rule ids, timing) or full (plus the prompt). Filter, sort and page.',
      tags: [TAG], querystring: AnalysisLogQuery, response: { 200: AnalysisLogList, ...platformErrors },
    },
  }, async (request) => {
    const q = request.query as { is_threat?: boolean; threat_type?: string; rule_id?: string; tier?: string; min_risk?: number; since?: string; until?: string; sort?: '-created_at'; limit?: number; offset?: number }
    const limit = q.limit ?? 50
    const offset = q.offset ?? 0
    const r = await service.listAnalyses(request.principal!.tenantId, {
      isThreat: q.is_threat, threatType: q.threat_type, ruleId: q.rule_id, tier: q.tier, minRisk: q.min_risk,
      since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined, sort: q.sort ?? '-created_at', limit, offset,
    })
    return { data: r.data, pagination: { total: r.total, limit, offset }, logging: opts.logMode }
  })
}

/** The SecureVector error body. */
export function renderSecureVectorError(err: AppError, maxBodyBytes: number): Record<string, unknown> {
  switch (err.statusCode) {
    case 401: return { error: 'Invalid API key', status: 401 }
    case 413: return { error: 'Request payload too large', status: 413, max_size: maxBodyBytes }
    case 429: return { error: 'Rate limit exceeded', status: 429, retry_after: err instanceof RateLimitedError ? err.retryAfterSeconds : 60 }
    case 500: return { error: 'Internal server error', status: 500 }
  }
  return { error: err.message, status: err.statusCode, ...(err.details.length > 0 ? { details: err.details.map((d) => ({ field: d.field, message: d.message })) } : {}) }
}
