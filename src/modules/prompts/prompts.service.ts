/**
 * Prompt analysis behind the API: one engine per process (built from the shipped packs and model), per-tenant
 * engines for the enterprise tier (their custom rules and allowlist, cached and invalidated through the event bus),
 * the analysis log (VV_PROMPT_LOG, written in batches off the request path) and the custom-rule store.
 */
import type { Logger } from 'pino'
import type { AuditService } from '../../platform/audit.js'
import type { Principal } from '../../platform/auth/authenticator.js'
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../platform/errors.js'
import type { EventBus } from '../../platform/events.js'
import type { Metrics } from '../../platform/metrics.js'
import { createEngine, promptFingerprint, type Allowlist, type PromptEngine } from './engine/index.js'
import { runRuleTestCases } from './engine/matcher.js'
import { checkRuleSafety, parseRulePack, ruleFromObject, type RuleIssue } from './engine/rules.js'
import type { AnalysisResult, Rule, Tier } from './engine/types.js'
import type { PromptRuleBody } from './prompts.schemas.js'
import type { ListAnalysesOptions, ListRulesOptions, PromptAnalysisRow, PromptRuleRow, PromptsRepository } from './prompts.repository.js'
import { pgJson } from '../../platform/db/storable-text.js'
import { sha256Hex } from '../../platform/util/hash.js'

export type PromptLogMode = 'off' | 'metadata' | 'full'
const RULES_CHANNEL = 'prompts.rules'
const TENANT_ENGINE_TTL_MS = 60_000
const LOG_FLUSH_MS = 1_000
const LOG_MAX_BUFFER = 5_000
/** Largest YAML rule pack accepted by the import. */
export const MAX_PACK_BYTES = 1_048_576
/** Rules per tenant at most. */
export const MAX_TENANT_RULES = 1_000

export interface PromptsServiceDeps {
  repository: PromptsRepository
  metrics: Metrics
  events: EventBus
  audit: AuditService
  logger: Logger
  settings: { threshold: number; logMode: PromptLogMode }
  /** The base engine (tests and the benchmark may pass their own). */
  engine?: PromptEngine
}

export interface StoredRuleView {
  id: string; action: string; enabled: boolean; name: string; description: string
  category: string | null; severity: string | null; confidence: number | null
  patterns: string[]; languages: string[]; test_cases: Array<{ input: string; expected_result: 'match' | 'no_match'; description?: string }>
  suppress_rules: string[]; prompt_hashes: string[]
  created_by: string | null; created_at: string; updated_at: string
}


function toFieldErrors(issues: RuleIssue[]): FieldError[] {
  return issues.map((i) => ({ field: i.field, message: i.message }))
}

export function createPromptsService(deps: PromptsServiceDeps) {
  const { repository, metrics, events, audit, logger, settings } = deps
  const base = deps.engine ?? createEngine({ threshold: settings.threshold })
  const analysesTotal = metrics.counter({
    name: 'prompt_analyses_total', help: 'Prompts analysed, by verdict (threat|clean), threat type of the strongest detection and tier', labelNames: ['verdict', 'threat_type', 'tier'] as const,
  })
  const analysisDuration = metrics.histogram({
    name: 'prompt_analysis_duration_seconds', help: 'Engine time per analysed prompt', labelNames: ['tier'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
  })

  // ---- per-tenant enterprise engines
  const tenantEngines = new Map<string, { engine: Promise<PromptEngine>; until: number }>()
  let unsubscribe: (() => void) | undefined
  const ready = events.subscribe(RULES_CHANNEL, (m) => {
    const tenantId = (m as { tenantId?: unknown }).tenantId
    if (typeof tenantId === 'string') tenantEngines.delete(tenantId)
  }).then((u) => { unsubscribe = u }, (err: unknown) => logger.warn({ err }, 'prompt rule invalidation channel unavailable; tenant engines refresh every minute'))

  async function buildTenantEngine(tenantId: string): Promise<PromptEngine> {
    const rows = await repository.enabledRules(tenantId)
    const custom: Rule[] = []
    const allow: { rules: string[]; prompts: string[] } = { rules: [], prompts: [] }
    for (const row of rows) {
      const d = row.definition as Record<string, unknown>
      if (row.action === 'allow') {
        allow.rules.push(...((d.suppress_rules as string[] | undefined) ?? []))
        allow.prompts.push(...((d.prompt_hashes as string[] | undefined) ?? []))
        continue
      }
      const r = ruleFromObject({ ...d, id: row.rule_id, tier: 'enterprise' }, '', 'tenant')
      if (r.rule) custom.push(r.rule)
      else logger.warn({ tenant_id: tenantId, rule_id: row.rule_id, issues: r.issues }, 'stored prompt rule no longer valid; skipped')
    }
    return base.withTenant(custom, allow as Allowlist)
  }

  function engineFor(tenantId: string, tier: Tier): PromptEngine | Promise<PromptEngine> {
    if (tier !== 'enterprise') return base
    const now = Date.now()
    const cached = tenantEngines.get(tenantId)
    if (cached && cached.until > now) return cached.engine
    const engine = buildTenantEngine(tenantId)
    tenantEngines.set(tenantId, { engine, until: now + TENANT_ENGINE_TTL_MS })
    engine.catch(() => tenantEngines.delete(tenantId))
    return engine
  }

  async function rulesChanged(tenantId: string): Promise<void> {
    tenantEngines.delete(tenantId)
    await events.publish(RULES_CHANNEL, { tenantId }).catch((err: unknown) => logger.warn({ err }, 'could not publish prompt rule change'))
  }

  // ---- analysis log
  let buffer: Parameters<PromptsRepository['insertAnalyses']>[0] = []
  let flushing: Promise<void> | undefined
  const flush = async (): Promise<void> => {
    if (flushing) await flushing
    if (buffer.length === 0) return
    const rows = buffer
    buffer = []
    flushing = repository.insertAnalyses(rows).catch((err: unknown) => logger.error({ err, rows: rows.length }, 'prompt analysis log write failed')).finally(() => { flushing = undefined })
    await flushing
  }
  const timer = settings.logMode === 'off' ? undefined : setInterval(() => { void flush() }, LOG_FLUSH_MS)
  timer?.unref()

  function record(p: Principal, tier: Tier, source: 'analyze' | 'batch', prompt: string, r: AnalysisResult, ms: number): void {
    const top = r.detections[0]
    analysesTotal.inc({ verdict: r.is_threat ? 'threat' : 'clean', threat_type: top?.threat_type ?? 'none', tier })
    analysisDuration.observe({ tier }, ms / 1000)
    if (settings.logMode === 'off') return
    if (buffer.length >= LOG_MAX_BUFFER) return // the database is behind; metrics still count
    buffer.push({
      tenant_id: p.tenantId, principal: p.subject, tier, source,
      prompt_sha256: sha256Hex(prompt), prompt_chars: prompt.length, prompt: settings.logMode === 'full' ? prompt : null,
      is_threat: r.is_threat, risk_score: r.risk_score, confidence: r.confidence,
      threat_types: [...new Set(r.detections.map((d) => d.threat_type))], rule_ids: r.detections.flatMap((d) => (d.rule_id ? [d.rule_id] : [])),
      analysis_ms: ms,
    })
    if (buffer.length >= 500) void flush()
  }

  // ---- custom rules
  function view(row: PromptRuleRow): StoredRuleView {
    const d = row.definition as Record<string, unknown>
    const arr = (k: string) => (Array.isArray(d[k]) ? (d[k] as string[]) : [])
    return {
      id: row.rule_id, action: row.action, enabled: row.enabled,
      name: (d.name as string | undefined) ?? row.rule_id, description: (d.description as string | undefined) ?? '',
      category: (d.category as string | undefined) ?? null, severity: (d.severity as string | undefined) ?? null,
      confidence: typeof d.confidence === 'number' ? d.confidence : null,
      patterns: arr('patterns'), languages: arr('languages'),
      test_cases: Array.isArray(d.test_cases) ? (d.test_cases as StoredRuleView['test_cases']) : [],
      suppress_rules: arr('suppress_rules'), prompt_hashes: arr('prompt_hashes'),
      created_by: row.created_by, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString(),
    }
  }

  /** Validates a rule body (syntax, safety, test cases) and returns what is stored. */
  function validate(body: PromptRuleBody): { action: 'detect' | 'allow'; enabled: boolean; definition: Record<string, unknown> } {
    const action = body.action ?? 'detect'
    const enabled = body.enabled ?? true
    if (action === 'allow') {
      const errors: FieldError[] = []
      if (!body.suppress_rules?.length && !body.prompts?.length) errors.push({ field: 'suppress_rules', message: 'an allow entry needs suppress_rules or prompts' })
      for (const f of ['category', 'severity', 'confidence', 'patterns', 'test_cases'] as const) {
        if (body[f] !== undefined) errors.push({ field: f, message: 'applies to detect rules only' })
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(body.id)) errors.push({ field: 'id', message: 'must be 1–128 letters, digits, _ . : - (starting with a letter or digit)' })
      if (errors.length > 0) throw new ValidationError(`Invalid allow entry: ${errors[0]!.field} ${errors[0]!.message}`, errors)
      return {
        action, enabled,
        definition: {
          name: body.name ?? body.id, description: body.description ?? '',
          suppress_rules: [...new Set(body.suppress_rules ?? [])],
          prompt_hashes: [...new Set((body.prompts ?? []).map(promptFingerprint))],
        },
      }
    }
    const raw = {
      id: body.id, name: body.name, description: body.description, category: body.category, severity: body.severity,
      confidence: body.confidence, patterns: body.patterns, languages: body.languages, test_cases: body.test_cases, tier: 'enterprise',
    }
    if (body.category === undefined) throw new ValidationError('Invalid rule: category is required', [{ field: 'category', message: 'is required' }])
    const parsed = ruleFromObject(raw, '', 'tenant')
    if (!parsed.rule) throw new ValidationError(`Invalid rule: ${parsed.issues[0]?.field} ${parsed.issues[0]?.message}`, toFieldErrors(parsed.issues))
    return { action, enabled, definition: checkedDefinition(parsed.rule) }
  }

  /** Safety and test cases of a parsed rule; the stored definition (our format) when both pass. */
  function checkedDefinition(rule: Rule, at = ''): Record<string, unknown> {
    const unsafe = checkRuleSafety(rule, at)
    if (unsafe.length > 0) throw new ValidationError(`Unsafe pattern: ${unsafe[0]!.field} ${unsafe[0]!.message}`, toFieldErrors(unsafe))
    const failures = runRuleTestCases(rule)
    if (failures.length > 0) {
      const details = failures.map((f) => ({ field: `${at ? `${at}.` : ''}test_cases[${f.index}]`, message: `expected ${f.expected} but the rule ${f.expected === 'match' ? 'did not match' : 'matched'}: ${JSON.stringify(f.input.slice(0, 80))}` }))
      throw new ValidationError(`Rule test case failed: ${details[0]!.field} ${details[0]!.message}`, details, 'test_case_failed')
    }
    return {
      name: rule.name, description: rule.description, category: rule.category, severity: rule.severity, confidence: rule.confidence,
      patterns: rule.patterns, languages: rule.languages,
      test_cases: rule.testCases.map((t) => ({ input: t.input, expected_result: t.expected, ...(t.description ? { description: t.description } : {}) })),
    }
  }

  async function ensureRoom(tenantId: string): Promise<void> {
    const { total } = await repository.listRules(tenantId, { sort: 'id', limit: 1, offset: 0 })
    if (total >= MAX_TENANT_RULES) throw new ConflictError(`A tenant holds at most ${MAX_TENANT_RULES} prompt rules; delete some first`, 'rule_limit_reached')
  }

  return {
    engine: base,
    ready,

    analyze(p: Principal, tier: Tier, prompt: string): AnalysisResult | Promise<AnalysisResult> {
      const run = (engine: PromptEngine) => {
        const r = engine.analyze(prompt, { tier, analyzedBy: 'api' })
        record(p, tier, 'analyze', prompt, r, r.metadata.analysis_time_ms)
        return r
      }
      const e = engineFor(p.tenantId, tier)
      return e instanceof Promise ? e.then(run) : run(e)
    },

    async analyzeBatch(p: Principal, tier: Tier, prompts: string[]) {
      const engine = await engineFor(p.tenantId, tier)
      const results = engine.analyzeBatch(prompts, { tier, analyzedBy: 'api' })
      results.forEach((r, i) => record(p, tier, 'batch', prompts[i]!, r, r.analysis_time_ms))
      return results
    },

    async listRules(tenantId: string, o: ListRulesOptions) {
      const { total, rows } = await repository.listRules(tenantId, o)
      return { total, data: rows.map(view) }
    },

    async getRule(tenantId: string, id: string): Promise<StoredRuleView> {
      const row = await repository.getRule(tenantId, id)
      if (!row) throw new NotFoundError(`No prompt rule "${id}"`, 'rule_not_found')
      return view(row)
    },

    async createRule(p: Principal, body: PromptRuleBody): Promise<StoredRuleView> {
      const v = validate(body)
      await ensureRoom(p.tenantId)
      const [r] = await repository.upsertRules([{ tenant_id: p.tenantId, rule_id: body.id, action: v.action, enabled: v.enabled, definition: pgJson(v.definition), created_by: p.subject }], false)
      if (!r) throw new ConflictError(`A prompt rule "${body.id}" exists; update it with PUT /api/v1/prompt-rules/${body.id}`, 'rule_exists')
      await audit.record({ tenantId: p.tenantId, action: 'prompt_rule.created', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'prompt_rule', resourceId: body.id, details: { action: v.action } })
      await rulesChanged(p.tenantId)
      return view(r.row)
    },

    async updateRule(p: Principal, id: string, body: PromptRuleBody): Promise<StoredRuleView> {
      if (body.id !== id) throw new ValidationError('Invalid rule: id must equal the id in the URL', [{ field: 'id', message: `must be "${id}" (ids cannot be changed; create a new rule instead)` }])
      const v = validate(body)
      const row = await repository.updateRule(p.tenantId, id, { action: v.action, enabled: v.enabled, definition: pgJson(v.definition) })
      if (!row) throw new NotFoundError(`No prompt rule "${id}"`, 'rule_not_found')
      await audit.record({ tenantId: p.tenantId, action: 'prompt_rule.updated', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'prompt_rule', resourceId: id, details: { action: v.action, enabled: v.enabled } })
      await rulesChanged(p.tenantId)
      return view(row)
    },

    async deleteRule(p: Principal, id: string): Promise<void> {
      if (!(await repository.deleteRule(p.tenantId, id))) throw new NotFoundError(`No prompt rule "${id}"`, 'rule_not_found')
      await audit.record({ tenantId: p.tenantId, action: 'prompt_rule.deleted', outcome: 'success', actorType: p.kind, actorId: p.subject, resourceType: 'prompt_rule', resourceId: id, details: {} })
      await rulesChanged(p.tenantId)
    },

    /**
     * Imports a YAML pack (our format or SecureVector's community format). Each rule is validated, proven safe and has
     * its test cases run; good rules are created (or, with `replace`, updated), bad ones are reported with their
     * errors and nothing else is lost.
     */
    async importPack(p: Principal, yaml: string, replace: boolean) {
      const parsed = parseRulePack(yaml, 'import')
      const rejected: Array<{ id: string | null; errors: FieldError[] }> = []
      const byIndex = new Map<string, FieldError[]>()
      for (const i of parsed.issues) {
        const m = /^(rules\[\d+\])/.exec(i.field)
        const key = m?.[1] ?? '(document)'
        byIndex.set(key, [...(byIndex.get(key) ?? []), { field: i.field, message: i.message }])
      }
      for (const [, errors] of byIndex) rejected.push({ id: null, errors })
      if (parsed.rules.length === 0 && rejected.length === 0) rejected.push({ id: null, errors: [{ field: 'rules', message: 'the pack holds no rules' }] })
      // every rule is checked first (CPU only); then one query finds the ids that exist and one statement writes
      const good: Array<{ rule: Rule; definition: Record<string, unknown> }> = []
      for (const rule of parsed.rules) {
        try {
          good.push({ rule, definition: checkedDefinition({ ...rule, tiers: ['enterprise'] }) })
        } catch (e) {
          rejected.push({ id: rule.id, errors: (e as ValidationError).details })
        }
      }
      const existing = await repository.existingRuleIds(p.tenantId, good.map((g) => g.rule.id))
      const { total } = await repository.listRules(p.tenantId, { sort: 'id', limit: 1, offset: 0 })
      let room = MAX_TENANT_RULES - total
      const rows: Parameters<PromptsRepository['upsertRules']>[0] = []
      for (const { rule, definition } of good) {
        if (existing.has(rule.id) && !replace) {
          rejected.push({ id: rule.id, errors: [{ field: 'id', message: 'exists; import with replace=true to overwrite' }] })
          continue
        }
        if (!existing.has(rule.id) && room-- <= 0) {
          rejected.push({ id: rule.id, errors: [{ field: 'id', message: `the tenant already holds ${MAX_TENANT_RULES} prompt rules` }] })
          continue
        }
        rows.push({ tenant_id: p.tenantId, rule_id: rule.id, action: 'detect', enabled: rule.enabled, definition: pgJson(definition), created_by: p.subject })
      }
      const written = await repository.upsertRules(rows, replace)
      const created = written.filter((w) => w.created).map((w) => w.row.rule_id)
      const updated = written.filter((w) => !w.created).map((w) => w.row.rule_id)
      // a rule another request created in between is reported, not silently dropped
      const writtenIds = new Set(written.map((w) => w.row.rule_id))
      for (const r of rows) if (!writtenIds.has(r.rule_id)) rejected.push({ id: r.rule_id, errors: [{ field: 'id', message: 'exists; import with replace=true to overwrite' }] })
      await audit.record({ tenantId: p.tenantId, action: 'prompt_rule.imported', outcome: rejected.length > 0 ? 'partial' : 'success', actorType: p.kind, actorId: p.subject, resourceType: 'prompt_rule', resourceId: 'import', details: { created: created.length, updated: updated.length, rejected: rejected.length } })
      if (created.length + updated.length > 0) await rulesChanged(p.tenantId)
      return { created, updated, rejected }
    },

    async listAnalyses(tenantId: string, o: ListAnalysesOptions) {
      await flush()
      const { total, rows } = await repository.listAnalyses(tenantId, o)
      return {
        total,
        data: rows.map((r: PromptAnalysisRow) => ({
          id: r.id, created_at: r.created_at.toISOString(), principal: r.principal, tier: r.tier, source: r.source,
          prompt_sha256: r.prompt_sha256, prompt_chars: r.prompt_chars, prompt: r.prompt, is_threat: r.is_threat,
          risk_score: r.risk_score, confidence: r.confidence, threat_types: r.threat_types, rule_ids: r.rule_ids, analysis_ms: r.analysis_ms,
        })),
      }
    },

    flush,

    async close(): Promise<void> {
      if (timer) clearInterval(timer)
      await ready
      unsubscribe?.()
      await flush()
    },
  }
}
export type PromptsService = ReturnType<typeof createPromptsService>
