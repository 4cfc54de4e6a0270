import { Type, type Static } from 'typebox'
import { TIERS } from '../../platform/auth/permissions.js'

const TierSchema = Type.Union(TIERS.map((t) => Type.Literal(t)), {
  description: 'community (rules), professional (+ statistical model and heuristics) or enterprise (+ the tenant\'s custom rules and allowlist). At most the API key\'s own tier.',
})

export const AnalyzeBody = Type.Object({
  prompt: Type.String({ description: 'The text to analyse (non-empty). Prompts longer than 100,000 characters are analysed up to that length and metadata.truncated is set.' }),
  user_tier: Type.Optional(TierSchema),
}, { additionalProperties: true })
export type AnalyzeBody = Static<typeof AnalyzeBody>

export const BatchBody = Type.Object({
  prompts: Type.Array(Type.String(), { description: 'Prompts to analyse, at most VV_PROMPT_MAX_BATCH (default 1,000).' }),
  user_tier: Type.Optional(TierSchema),
}, { additionalProperties: true })
export type BatchBody = Static<typeof BatchBody>

export const Detection = Type.Object({
  threat_type: Type.String({ description: 'prompt_injection, indirect_prompt_injection, jailbreak, system_prompt_extraction, data_exfiltration, data_leakage, harmful_instructions, obfuscation, or a custom rule\'s category.' }),
  risk_score: Type.Integer({ minimum: 0, maximum: 100 }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  description: Type.String({ description: 'What was found and where: the rule\'s explanation, the matched text (secrets masked), and the encoding it was hidden in, if any.' }),
  rule_id: Type.Optional(Type.String({ description: 'VV-… for our rules, VV-H-… for heuristics, VV-ML-001 for the statistical model, or a custom rule\'s id.' })),
  pattern_matched: Type.Optional(Type.String()),
  severity: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')])),
})

const Metadata = Type.Object({
  analyzed_by: Type.String(),
  analysis_version: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  tier: Type.String(),
  threshold: Type.Integer({ description: 'risk_score at or above which is_threat is true (VV_PROMPT_THRESHOLD).' }),
  analysis_time_ms: Type.Number(),
  scoring: Type.Object({
    rules: Type.Number({ description: 'Strongest rule evidence (0..1).' }),
    heuristics: Type.Number({ description: 'Strongest heuristic signal (0..1).' }),
    model: Type.Optional(Type.Number({ description: 'Statistical model probability (professional and enterprise).' })),
  }),
  signals: Type.Array(Type.String()),
  truncated: Type.Boolean(),
  allowlisted: Type.Optional(Type.Boolean()),
}, { additionalProperties: true })

const resultFields = {
  is_threat: Type.Boolean(),
  risk_score: Type.Integer({ minimum: 0, maximum: 100, description: 'Calibrated risk: 100 × the probability that the prompt is an attack.' }),
  confidence: Type.Number({ minimum: 0, maximum: 1, description: 'Confidence in the verdict (is_threat).' }),
  detections: Type.Array(Detection),
}

export const AnalysisResponse = Type.Object({ ...resultFields, metadata: Metadata })
export const BatchResponse = Type.Object({
  results: Type.Array(Type.Object({ ...resultFields, analysis_time_ms: Type.Number(), metadata: Type.Optional(Metadata) })),
})

/** The SecureVector error body: {error, status} plus retry_after (429) or max_size (413). */
export const SvError = Type.Object({
  error: Type.String(),
  status: Type.Integer(),
  retry_after: Type.Optional(Type.Integer()),
  max_size: Type.Optional(Type.Integer()),
  details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
})

// ---------------------------------------------------------------------------------------------------------------------
// Custom rules and allowlist (enterprise), platform error shape

const TestCase = Type.Object({
  input: Type.String({ minLength: 1, maxLength: 10_000 }),
  expected_result: Type.Union([Type.Literal('match'), Type.Literal('no_match')]),
  description: Type.Optional(Type.String({ maxLength: 500 })),
})

export const PromptRuleBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: 'Your id for the rule, unique in the tenant (letters, digits, _ . : -).' }),
  action: Type.Optional(Type.Union([Type.Literal('detect'), Type.Literal('allow')], { default: 'detect', description: 'detect: a custom detection rule; allow: an allowlist entry.' })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  category: Type.Optional(Type.String({ description: 'detect: the threat_type reported (e.g. prompt_injection or your own, snake_case).' })),
  severity: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')])),
  confidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  patterns: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 64, description: 'detect: case-insensitive regular expressions over the normalised prompt; each must be proven free of catastrophic backtracking.' })),
  languages: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z]{2,3}$' }), { maxItems: 50 })),
  test_cases: Type.Optional(Type.Array(TestCase, { maxItems: 100, description: 'Run on save; a failing case refuses the rule.' })),
  suppress_rules: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 500, description: 'allow: rule ids whose detections the tenant does not want (known false positives).' })),
  prompts: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100_000 }), { maxItems: 500, description: 'allow: exact prompts (compared after normalisation) that are never reported. Only their SHA-256 is stored.' })),
}, { additionalProperties: false })
export type PromptRuleBody = Static<typeof PromptRuleBody>

export const PromptRule = Type.Object({
  id: Type.String(),
  action: Type.String(),
  enabled: Type.Boolean(),
  name: Type.String(),
  description: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  severity: Type.Union([Type.String(), Type.Null()]),
  confidence: Type.Union([Type.Number(), Type.Null()]),
  patterns: Type.Array(Type.String()),
  languages: Type.Array(Type.String()),
  test_cases: Type.Array(TestCase),
  suppress_rules: Type.Array(Type.String()),
  prompt_hashes: Type.Array(Type.String(), { description: 'allow: SHA-256 of the normalised allowed prompts.' }),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
})

export const PromptRuleList = Type.Object({
  data: Type.Array(PromptRule),
  pagination: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }),
})

export const PromptRuleQuery = Type.Object({
  action: Type.Optional(Type.Union([Type.Literal('detect'), Type.Literal('allow')])),
  category: Type.Optional(Type.String({ maxLength: 64 })),
  enabled: Type.Optional(Type.Boolean()),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the id, name or description.' })),
  sort: Type.Optional(Type.Union([Type.Literal('id'), Type.Literal('-id'), Type.Literal('updated_at'), Type.Literal('-updated_at')], { default: 'id' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
}, { additionalProperties: false })

export const ImportResult = Type.Object({
  created: Type.Array(Type.String()),
  updated: Type.Array(Type.String()),
  rejected: Type.Array(Type.Object({ id: Type.Union([Type.String(), Type.Null()]), errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })) })),
})

export const AnalysisLogEntry = Type.Object({
  id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  principal: Type.String(),
  tier: Type.String(),
  source: Type.String(),
  prompt_sha256: Type.String(),
  prompt_chars: Type.Integer(),
  prompt: Type.Union([Type.String(), Type.Null()], { description: 'Only with VV_PROMPT_LOG=full.' }),
  is_threat: Type.Boolean(),
  risk_score: Type.Integer(),
  confidence: Type.Number(),
  threat_types: Type.Array(Type.String()),
  rule_ids: Type.Array(Type.String()),
  analysis_ms: Type.Number(),
})

export const AnalysisLogQuery = Type.Object({
  is_threat: Type.Optional(Type.Boolean()),
  threat_type: Type.Optional(Type.String({ maxLength: 64 })),
  rule_id: Type.Optional(Type.String({ maxLength: 128 })),
  tier: Type.Optional(TierSchema),
  min_risk: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  sort: Type.Optional(Type.Union([Type.Literal('-created_at'), Type.Literal('created_at'), Type.Literal('-risk_score'), Type.Literal('risk_score')], { default: '-created_at' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
}, { additionalProperties: false })

export const AnalysisLogList = Type.Object({
  data: Type.Array(AnalysisLogEntry),
  pagination: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }),
  logging: Type.String({ description: 'The VV_PROMPT_LOG mode in force (off keeps nothing).' }),
})
