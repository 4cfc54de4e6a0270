/**
 * Runs compiled rules over a normalised prompt: regex rules over every text variant (the normalised prompt, its
 * leet-folded / spaced-out forms and decoded payloads), detector rules (data_leakage) over the case-preserved original.
 * A rule reports its first hit, preferring the prompt itself over a variant.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { findLeaks, LEAK_TYPES } from './leaks.js'
import { normalizePrompt } from './normalize.js'
import { GateIndex, type GateScan } from './gates.js'
import { compileRule, matchRegexRule, MAX_RULE_INPUT, parseRulePack, type CompiledRule, type RuleIssue } from './rules.js'
import type { LeakFinding, NormalizedPrompt, Rule, RuleHit, Tier } from './types.js'

/** Directory of the rule packs we ship (`assets/prompts/rules/*.yaml`). */
export const BUILTIN_RULES_DIR = fileURLToPath(new URL('../../../../assets/prompts/rules/', import.meta.url))

export interface LoadedPacks {
  rules: Rule[]
  /** Problems per file; the builtin packs have none (a test enforces it). */
  issues: Array<RuleIssue & { file: string }>
}

/** Loads every *.yaml / *.yml pack of a directory, in file-name order; later duplicate ids are reported and skipped. */
export function loadRulePacks(dir: string = BUILTIN_RULES_DIR): LoadedPacks {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f)).sort()
  const rules: Rule[] = []
  const issues: LoadedPacks['issues'] = []
  const seen = new Set<string>()
  for (const file of files) {
    const parsed = parseRulePack(readFileSync(`${dir}/${file}`, 'utf8'), file)
    for (const i of parsed.issues) issues.push({ ...i, file })
    for (const r of parsed.rules) {
      if (seen.has(r.id)) {
        issues.push({ file, field: r.id, message: `duplicates the id "${r.id}" of an earlier pack` })
        continue
      }
      seen.add(r.id)
      rules.push(r)
    }
  }
  return { rules, issues }
}

let builtin: Rule[] | undefined
/** The shipped rules, parsed once per process. */
export function builtinRules(): Rule[] {
  builtin ??= loadRulePacks().rules
  return builtin
}

/**
 * Compiles rules together: their gate literals share one index, so a text is scanned for all of them at once. Every
 * regex is run twice on a short text, so that V8 compiles it to native code now rather than on the first request that
 * opens its gate (which would cost that request milliseconds).
 */
export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  const index = new GateIndex()
  const compiled = rules.filter((r) => r.enabled).map((r) => compileRule(r, index))
  for (const c of compiled) {
    for (const re of [...c.regexes, ...c.sticky]) {
      for (let k = 0; k < 2; k++) {
        re.lastIndex = 0
        re.exec('warm up the regular expression engine')
      }
    }
  }
  index.scan('warm up')
  return compiled
}

let builtinCompiled: CompiledRule[] | undefined
/** The shipped rules, compiled once per process (engines share them; they are read-only). */
export function compiledBuiltinRules(): CompiledRule[] {
  builtinCompiled ??= compileRules(builtinRules())
  return builtinCompiled
}

export interface MatchContext {
  norm: NormalizedPrompt
  /** findLeaks over the original, computed once on first use. */
  leaks?: LeakFinding[] | undefined
}

/**
 * Which rules of a compiled list can match a scanned text: a rule all of whose patterns are gated can only match when
 * one of its gating literals occurs, so the literals that do occur (few, in a typical prompt) point at the rules worth
 * running and the others are never visited.
 */
interface RulePlan {
  /** Rules to run on every text: detector rules and rules with an ungated pattern. */
  always: number[]
  /** Per gate index, literal id → positions (in the list) of the rules it opens. */
  byIndex: Map<GateIndex, Map<number, number[]>>
}
const plans = new WeakMap<readonly CompiledRule[], RulePlan>()

function planFor(compiled: readonly CompiledRule[]): RulePlan {
  let plan = plans.get(compiled)
  if (plan) return plan
  plan = { always: [], byIndex: new Map() }
  compiled.forEach((c, pos) => {
    if (c.rule.patternType === 'detector' || c.regexes.some((_, i) => !c.requires[i] && !c.gates[i])) {
      plan!.always.push(pos)
      return
    }
    let lits = plan!.byIndex.get(c.index)
    if (!lits) plan!.byIndex.set(c.index, (lits = new Map()))
    c.regexes.forEach((_, i) => {
      // a pattern needs one of its required literals (the selective set when there is one)
      for (const id of c.requires[i] ?? c.gates[i]!) {
        const list = lits!.get(id)
        if (!list) lits!.set(id, [pos])
        else if (list[list.length - 1] !== pos) list.push(pos)
      }
    })
  })
  plans.set(compiled, plan)
  return plan
}

/** Hits of the rules that run for `tier` (all rules when tier is undefined), in rule order. */
export function matchRules(compiled: readonly CompiledRule[], ctx: MatchContext, tier?: Tier): RuleHit[] {
  const plan = planFor(compiled)
  const variants = ctx.norm.variants
  const n = compiled.length
  const found: Array<RuleHit | undefined> = new Array(n)
  const done = new Uint8Array(n)
  for (let vi = 0; vi < variants.length; vi++) {
    const v = variants[vi]!
    const text = v.text.length > MAX_RULE_INPUT ? v.text.slice(0, MAX_RULE_INPUT) : v.text
    // the rules worth running on this variant, in rule order
    const open = new Uint8Array(n)
    for (const pos of plan.always) open[pos] = 1
    const scans = new Map<GateIndex, GateScan>()
    for (const [index, lits] of plan.byIndex) {
      const scan = index.scan(text)
      scans.set(index, scan)
      for (const id of scan.seen) {
        const rules = lits.get(id)
        if (rules) for (const pos of rules) open[pos] = 1
      }
    }
    for (let pos = 0; pos < n; pos++) {
      if (open[pos] === 0 || done[pos] === 1) continue
      const c = compiled[pos]!
      if (tier !== undefined && !c.rule.tiers.includes(tier)) { done[pos] = 1; continue }
      if (c.rule.patternType === 'detector') {
        done[pos] = 1
        ctx.leaks ??= findLeaks(ctx.norm.original)
        const f = ctx.leaks.find((l) => c.rule.patterns.includes(l.type))
        if (f) found[pos] = { rule: c.rule, pattern: f.type, evidence: `${LEAK_TYPES[f.type] ?? f.type} ${f.masked}${f.validated ? ' (validated)' : ''}`, via: [] }
        continue
      }
      let scan = scans.get(c.index)
      if (!scan) scans.set(c.index, (scan = c.index.scan(text)))
      const m = matchRegexRule(c, text, scan)
      if (m) {
        found[pos] = { rule: c.rule, pattern: m.pattern, evidence: m.evidence, via: v.via }
        done[pos] = 1
      }
    }
  }
  const hits: RuleHit[] = []
  for (const h of found) if (h) hits.push(h)
  return hits
}

/** Whether one rule matches one input the way the engine would see it (used to run rules' test cases). */
export function ruleMatchesInput(c: CompiledRule, input: string): RuleHit | undefined {
  return matchRules([c], { norm: normalizePrompt(input) })[0]
}

export interface TestCaseFailure {
  ruleId: string
  index: number
  input: string
  expected: 'match' | 'no_match'
  description?: string | undefined
}

/** Runs a rule's test cases; returns the failing ones. */
export function runRuleTestCases(rule: Rule): TestCaseFailure[] {
  const c = compileRule(rule)
  const out: TestCaseFailure[] = []
  rule.testCases.forEach((tc, index) => {
    const hit = ruleMatchesInput(c, tc.input) !== undefined
    if (hit !== (tc.expected === 'match')) out.push({ ruleId: rule.id, index, input: tc.input, expected: tc.expected, description: tc.description })
  })
  return out
}
