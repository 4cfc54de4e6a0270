/**
 * Rule packs (issue 4, "Engine"): parsing, validation, compilation, safety checks and test-case runs.
 *
 * Two YAML shapes load into the same {@link Rule}:
 *  - ours (assets/prompts/rules/*.yaml): `patterns: [...]`, `confidence`, `tier` (one tier = that tier and above),
 *    `languages`, `pattern_type: regex|detector`;
 *  - SecureVector's community format, so users can bring their packs: `pattern: {type, value: [...],
 *    case_sensitive, confidence_threshold}` (or the flat `pattern_type` / `patterns` / `threshold`), `tier` as a list,
 *    `enabled`, `test_cases[] {input, expected_result, description}`, `metadata`.
 * Python regex syntax that JavaScript spells differently is translated ((?P<n>…), (?P=n), \A, \Z, a leading (?i)).
 *
 * Regex safety: patterns run with JavaScript's backtracking engine, so every pattern must be free of catastrophic
 * backtracking. `checkPatternSafety` proves it with recheck (an automaton-based ReDoS checker); our packs are checked
 * in the test suite and tenant rules on save. On top of that each text a rule sees is capped (`MAX_RULE_INPUT`).
 */
import { createRequire } from 'node:module'
import { parse as parseYaml } from 'yaml'
import { GateIndex, gateStarts, type GateScan } from './gates.js'
import { LEAK_TYPES } from './leaks.js'
import { TIER_ORDER, type Rule, type RuleTestCase, type Severity, type Tier } from './types.js'

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical']
export const MAX_PATTERNS_PER_RULE = 64
export const MAX_PATTERN_LENGTH = 2_000
export const MAX_TEST_CASES = 100
/** Characters of one text variant a rule's regexes see at most. */
export const MAX_RULE_INPUT = 20_000
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
const CATEGORY_RE = /^[a-z][a-z0-9_]{1,63}$/

export interface RuleIssue {
  /** Path of the bad field, e.g. `rules[3].patterns[0]`. */
  field: string
  message: string
}

export class RulePackError extends Error {
  constructor(
    message: string,
    readonly issues: RuleIssue[],
  ) {
    super(message)
    this.name = 'RulePackError'
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Translates the Python `re` syntax found in community packs into JavaScript syntax. */
export function translatePattern(pattern: string): { source: string; caseInsensitive: boolean } {
  let source = pattern
  let caseInsensitive = false
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source)
  if (inline) {
    if (inline[1]!.includes('i')) caseInsensitive = true
    source = source.slice(inline[0].length)
  }
  source = source
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$')
  return { source, caseInsensitive }
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}

function tiersOf(v: unknown, field: string, issues: RuleIssue[]): Tier[] {
  if (v === undefined || v === null) return [...TIER_ORDER]
  const list = Array.isArray(v) ? v : [v]
  const out = new Set<Tier>()
  for (const [i, t] of list.entries()) {
    const idx = TIER_ORDER.indexOf(String(t).toLowerCase() as Tier)
    if (idx < 0) {
      issues.push({ field: Array.isArray(v) ? `${field}[${i}]` : field, message: 'must be community, professional or enterprise' })
      continue
    }
    // One tier named alone means "this tier and above" (a professional rule also runs for enterprise).
    if (!Array.isArray(v)) for (const t2 of TIER_ORDER.slice(idx)) out.add(t2)
    else out.add(TIER_ORDER[idx]!)
  }
  return TIER_ORDER.filter((t) => out.has(t))
}

/**
 * Validates one rule object (either shape) and returns it as a Rule, or the issues found (paths under `at`).
 * Patterns are compiled to check their syntax; their safety is checked separately (checkRuleSafety), because it costs
 * milliseconds per pattern.
 */
export function ruleFromObject(raw: unknown, at: string, source: string): { rule?: Rule; issues: RuleIssue[] } {
  const issues: RuleIssue[] = []
  if (!isObj(raw)) return { issues: [{ field: at, message: 'must be an object' }] }
  const f = (name: string) => (at ? `${at}.${name}` : name)

  const id = str(raw.id)
  if (!id) issues.push({ field: f('id'), message: 'is required' })
  else if (!ID_RE.test(id)) issues.push({ field: f('id'), message: 'must be 1–128 letters, digits, _ . : - (starting with a letter or digit)' })
  const name = str(raw.name) ?? id ?? ''
  const description = str(raw.description) ?? name
  if (description.length > 1000) issues.push({ field: f('description'), message: 'must be at most 1000 characters' })

  const category = str(raw.category)?.toLowerCase()
  if (!category) issues.push({ field: f('category'), message: 'is required' })
  else if (!CATEGORY_RE.test(category)) issues.push({ field: f('category'), message: 'must be snake_case, e.g. prompt_injection' })

  const severity = (str(raw.severity) ?? 'medium').toLowerCase() as Severity
  if (!SEVERITIES.includes(severity)) issues.push({ field: f('severity'), message: 'must be low, medium, high or critical' })

  const pat = isObj(raw.pattern) ? raw.pattern : undefined
  const conf = raw.confidence ?? raw.threshold ?? raw.confidence_threshold ?? pat?.confidence_threshold ?? pat?.threshold ?? 0.8
  const confidence = typeof conf === 'number' ? conf : Number(conf)
  if (!Number.isFinite(confidence) || confidence <= 0 || confidence > 1) {
    issues.push({ field: f(raw.confidence !== undefined ? 'confidence' : 'threshold'), message: 'must be a number in (0, 1]' })
  }

  const patternType = (str(raw.pattern_type) ?? str(pat?.type) ?? 'regex').toLowerCase()
  if (patternType !== 'regex' && patternType !== 'detector') {
    issues.push({ field: f('pattern_type'), message: 'must be regex or detector' })
  }
  const patField = raw.patterns !== undefined ? 'patterns' : pat !== undefined ? 'pattern.value' : 'patterns'
  const rawPatterns = raw.patterns ?? pat?.value ?? pat?.patterns
  const list = typeof rawPatterns === 'string' ? [rawPatterns] : rawPatterns
  const patterns: string[] = []
  if (!Array.isArray(list) || list.length === 0) issues.push({ field: f(patField), message: 'must be a non-empty list of patterns' })
  else if (list.length > MAX_PATTERNS_PER_RULE) issues.push({ field: f(patField), message: `must hold at most ${MAX_PATTERNS_PER_RULE} patterns` })
  else {
    for (const [i, p] of list.entries()) {
      const pf = `${f(patField)}[${i}]`
      if (typeof p !== 'string' || p.length === 0) {
        issues.push({ field: pf, message: 'must be a non-empty string' })
        continue
      }
      if (p.length > MAX_PATTERN_LENGTH) {
        issues.push({ field: pf, message: `must be at most ${MAX_PATTERN_LENGTH} characters` })
        continue
      }
      if (patternType === 'detector') {
        if (!(p in LEAK_TYPES)) issues.push({ field: pf, message: `is not a detector; one of ${Object.keys(LEAK_TYPES).join(', ')}` })
      } else {
        try {
          new RegExp(translatePattern(p).source, 'iu')
        } catch (e) {
          try {
            new RegExp(translatePattern(p).source, 'i')
          } catch {
            issues.push({ field: pf, message: `is not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}` })
            continue
          }
        }
      }
      patterns.push(p)
    }
  }
  const caseSensitive = Boolean(raw.case_sensitive ?? pat?.case_sensitive ?? false)
  const tiers = tiersOf(raw.tier ?? raw.tiers, f('tier'), issues)
  const enabled = raw.enabled === undefined ? true : raw.enabled !== false && raw.enabled !== 'false'

  const languages: string[] = []
  const langs = raw.languages ?? (isObj(raw.metadata) ? raw.metadata.languages : undefined)
  if (langs !== undefined) {
    if (!Array.isArray(langs) || langs.some((l) => typeof l !== 'string' || !/^[a-z]{2,3}$/.test(l))) {
      issues.push({ field: f('languages'), message: 'must be a list of ISO 639-1 codes such as en, es, zh' })
    } else languages.push(...(langs as string[]))
  }

  const testCases: RuleTestCase[] = []
  const tc = raw.test_cases
  if (tc !== undefined && tc !== null) {
    if (!Array.isArray(tc)) issues.push({ field: f('test_cases'), message: 'must be a list' })
    else if (tc.length > MAX_TEST_CASES) issues.push({ field: f('test_cases'), message: `must hold at most ${MAX_TEST_CASES} cases` })
    else {
      for (const [i, c] of tc.entries()) {
        const cf = `${f('test_cases')}[${i}]`
        if (!isObj(c)) {
          issues.push({ field: cf, message: 'must be an object with input and expected_result' })
          continue
        }
        const input = str(c.input)
        const expected = (str(c.expected_result) ?? str(c.expected) ?? '').toLowerCase()
        if (input === undefined || input.length === 0) issues.push({ field: `${cf}.input`, message: 'is required' })
        if (expected !== 'match' && expected !== 'no_match') issues.push({ field: `${cf}.expected_result`, message: 'must be match or no_match' })
        if (input !== undefined && input.length > 0 && (expected === 'match' || expected === 'no_match')) {
          testCases.push({ input, expected, description: str(c.description) })
        }
      }
    }
  }

  if (issues.length > 0 || !id || !category) return { issues }
  const metadata = isObj(raw.metadata) ? { ...raw.metadata } : {}
  return {
    rule: {
      id, name, description, category, severity, confidence, tiers, enabled,
      patternType: patternType as Rule['patternType'], patterns, caseSensitive, languages, testCases, source, metadata,
    },
    issues,
  }
}

export interface ParsedPack {
  rules: Rule[]
  issues: RuleIssue[]
}

/**
 * Parses a YAML (or JSON) rule pack: a document with `rules: [...]`, or a bare list of rules. Rules with problems are
 * left out and reported in `issues`; duplicate ids are reported too.
 */
export function parseRulePack(text: string, source: string): ParsedPack {
  let doc: unknown
  try {
    doc = parseYaml(text, { maxAliasCount: 100, prettyErrors: false, uniqueKeys: false })
  } catch (e) {
    return { rules: [], issues: [{ field: '(document)', message: `is not valid YAML: ${(e as Error).message.split('\n')[0]}` }] }
  }
  const list = Array.isArray(doc) ? doc : isObj(doc) ? doc.rules : undefined
  if (!Array.isArray(list)) return { rules: [], issues: [{ field: 'rules', message: 'must be a list of rules' }] }
  const rules: Rule[] = []
  const issues: RuleIssue[] = []
  const seen = new Set<string>()
  for (const [i, raw] of list.entries()) {
    const r = ruleFromObject(raw, `rules[${i}]`, source)
    issues.push(...r.issues)
    if (!r.rule) continue
    if (seen.has(r.rule.id)) {
      issues.push({ field: `rules[${i}].id`, message: `duplicates the id "${r.rule.id}"` })
      continue
    }
    seen.add(r.rule.id)
    rules.push(r.rule)
  }
  return { rules, issues }
}

// ---------------------------------------------------------------------------------------------------------------------
// Compilation and matching

export interface CompiledRule {
  rule: Rule
  /** One regex per pattern (regex rules; flag g); empty for detector rules. */
  regexes: RegExp[]
  /** The same, sticky (flag y): tried at the places where a pattern's literals begin. */
  sticky: RegExp[]
  /**
   * Per pattern, the ids (in `index`) of the literals one of which it must begin with; the pattern only runs on texts
   * containing one of them. null = the pattern always runs.
   */
  gates: Array<Int32Array | null>
  /**
   * Per pattern, the ids of a more selective set of literals one of which every match contains somewhere (when that
   * set is more selective than the prefix gate); the pattern is skipped when none occurs. null = none.
   */
  requires: Array<Int32Array | null>
  /** The gate index shared by the rules compiled together. */
  index: GateIndex
}

/** Index of the `)` closing the group that opens at `open`, or -1. */
function closingParen(src: string, open: number): number {
  let depth = 0
  let inClass = false
  for (let i = open; i < src.length; i++) {
    const c = src[i]
    if (c === '\\') { i++; continue }
    if (inClass) { if (c === ']') inClass = false; continue }
    if (c === '[') inClass = true
    else if (c === '(') depth++
    else if (c === ')' && --depth === 0) return i
  }
  return -1
}

/** The top-level alternatives of a pattern (split at `|` outside groups and classes). */
function topLevelBranches(src: string): string[] {
  const out: string[] = []
  let depth = 0
  let inClass = false
  let from = 0
  for (let i = 0; i < src.length; i++) {
    const c = src[i]
    if (c === '\\') { i++; continue }
    if (inClass) { if (c === ']') inClass = false; continue }
    if (c === '[') inClass = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === '|' && depth === 0) { out.push(src.slice(from, i)); from = i + 1 }
  }
  out.push(src.slice(from))
  return out
}

const MIN_GATE = 3

const MAX_ALTERNATIVES = 12
/** Literals one pattern's prefix gate may list (they are not multiplied any further). */
const MAX_GATE_LITERALS = 48

interface Atom {
  /** The strings the atom can match, when it is literal enough to enumerate; undefined otherwise. */
  alts?: string[] | undefined
  /** For a group that is not enumerable: the literals its matches begin with. */
  prefixes?: string[] | undefined
  end: number
}

/** Strips a group's `(?:` / `(?<name>` opener; undefined for lookarounds and other special groups. */
function groupBody(src: string, open: number, close: number): string | undefined {
  const inner = src.slice(open + 1, close)
  if (inner.startsWith('?:')) return inner.slice(2)
  if (/^\?<[A-Za-z_]/.test(inner)) return inner.slice(inner.indexOf('>') + 1)
  if (inner.startsWith('?')) return undefined
  return inner
}

/** Every string a pattern can match, when it is a small alternation of literal sequences; undefined otherwise. */
function enumerate(src: string, depth: number): string[] | undefined {
  if (depth > 4) return undefined
  const out: string[] = []
  for (const b of topLevelBranches(src)) {
    let outs = ['']
    let i = 0
    while (i < b.length) {
      const a = atomAt(b, i, depth)
      if (!a || a.alts === undefined) return undefined
      const q = quantifier(b, a.end)
      if (q.kind === 'other') return undefined
      let alts = a.alts
      if (q.kind === 'optional') alts = [...alts, '']
      else if (q.kind === 'plus' && !(a.alts.length === 1 && a.alts[0] === ' ')) return undefined
      outs = outs.flatMap((o) => alts.map((x) => o + x))
      if (outs.length > MAX_ALTERNATIVES) return undefined
      i = q.end
    }
    out.push(...outs)
  }
  return out
}

function quantifier(src: string, at: number): { kind: 'none' | 'optional' | 'plus' | 'other'; end: number } {
  const c = src[at]
  if (c === '?') return { kind: 'optional', end: at + 1 }
  if (c === '+') return { kind: 'plus', end: at + 1 }
  if (c === '*') return { kind: 'other', end: at + 1 }
  if (c === '{') {
    const m = /^\{(\d+)(,\d*)?\}/.exec(src.slice(at))
    if (m) return { kind: m[1] === '0' ? 'other' : m[1] === '1' && m[2] === undefined ? 'none' : 'other', end: at + m[0].length }
  }
  return { kind: 'none', end: at }
}

/** The atom at `i`: a literal character, `\s` (a space or a line break in normalised text), or a group. */
function atomAt(src: string, i: number, depth: number): Atom | undefined {
  const c = src[i]
  if (c === undefined) return undefined
  if (c === '\\') {
    const n = src[i + 1]
    if (n === 's') return { alts: [' '], end: i + 2 }
    if (n !== undefined && !/[A-Za-z0-9]/.test(n)) return { alts: [n], end: i + 2 }
    return undefined
  }
  if (c === '(') {
    const close = closingParen(src, i)
    if (close < 0) return undefined
    const body = groupBody(src, i, close)
    if (body === undefined) return undefined
    const alts = enumerate(body, depth + 1)
    if (alts !== undefined) return { alts, end: close + 1 }
    return { prefixes: requiredPrefixes(body, depth + 1, 1), end: close + 1 }
  }
  if (c === '[') {
    // a small class of literal characters, e.g. ['’] or [-\s]
    const alts: string[] = []
    let j = i + 1
    if (src[j] === '^') return undefined
    for (; j < src.length && src[j] !== ']'; j++) {
      const d = src[j]!
      if (d === '\\') {
        const n = src[j + 1]
        if (n === 's') alts.push(' ')
        else if (n !== undefined && !/[A-Za-z0-9]/.test(n)) alts.push(n)
        else return undefined
        j++
      } else if (d === '-' && j > i + 1 && src[j + 1] !== ']') return undefined
      else if (d >= '\ud800' && d <= '\udfff') return undefined // an astral character: a class of code points, not units
      else alts.push(d)
    }
    if (src[j] !== ']' || alts.length === 0 || alts.length > 6) return undefined
    return { alts: [...new Set(alts)], end: j + 1 }
  }
  if ('.*+?)]{}|^$'.includes(c)) return undefined
  return { alts: [c], end: i + 1 }
}

/** Literals one of which every match of `branch` (no top-level `|`) begins with; undefined when unknown. */
function branchPrefixes(branch: string, depth: number, minLength: number): string[] | undefined {
  let i = 0
  // zero-width assertions consume nothing
  for (;;) {
    if (branch.startsWith('\\b', i) || branch.startsWith('\\B', i)) { i += 2; continue }
    if (branch[i] === '^') { i++; continue }
    if (branch.startsWith('(?=', i) || branch.startsWith('(?!', i) || branch.startsWith('(?<=', i) || branch.startsWith('(?<!', i)) {
      const close = closingParen(branch, i)
      if (close < 0) return undefined
      i = close + 1
      continue
    }
    break
  }
  if (depth > 4) return undefined
  let outs = ['']
  while (i < branch.length) {
    // word boundaries inside the literal run do not consume
    if (branch.startsWith('\\b', i)) { i += 2; continue }
    const a = atomAt(branch, i, depth)
    if (!a) break
    const q = quantifier(branch, a.end)
    if (a.alts === undefined) {
      // a group we cannot enumerate: join its prefixes and stop
      if (a.prefixes !== undefined && (q.kind === 'none' || q.kind === 'plus')) outs = shorten(outs.flatMap((o) => a.prefixes!.map((x) => o + x)), minLength, MAX_GATE_LITERALS)
      break
    }
    if (q.kind === 'other') break
    let alts = a.alts
    if (q.kind === 'optional') alts = [...alts, '']
    const next = outs.flatMap((o) => alts.map((x) => o + x))
    if (next.length > MAX_ALTERNATIVES) {
      // a long list of literals still gates well; it just stops growing here
      outs = shorten(next, minLength, MAX_GATE_LITERALS)
      break
    }
    outs = next
    if (q.kind === 'plus' && !(a.alts.length === 1 && a.alts[0] === ' ')) break
    i = q.end
  }
  const lits = outs.map((o) => o.toLowerCase())
  return lits.every((l) => gateLongEnough(l, minLength)) ? [...new Set(lits)] : undefined
}

/**
 * Cuts alternatives to a common shorter length until at most MAX_ALTERNATIVES distinct ones remain (a prefix of a
 * required prefix is still required). Alternatives that get too short fail the length check later.
 */
function shorten(alts: string[], minLength: number, max = MAX_ALTERNATIVES): string[] {
  let list = [...new Set(alts)]
  let len = Math.max(...list.map((a) => a.length))
  while (list.length > max && len > Math.max(2, minLength)) {
    len--
    list = [...new Set(list.map((a) => a.slice(0, len)))]
  }
  return list
}

/** A gate literal must be specific enough to be worth checking: 3 characters, or 2 of a CJK-like script. */
function gateLongEnough(lit: string, minLength: number): boolean {
  const t = lit
  if (t.trim().length === 0) return false
  if (t.length >= minLength) return true
  return t.length >= Math.min(minLength, 2) && /[\u0900-\u097f\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]/.test(t)
}

/**
 * Literals (lower-cased) one of which every match of the pattern begins with, e.g. ["ignore", "disregard"] for
 * `(?:ignore|disregard)\s+…`; undefined when the pattern can begin otherwise. Used as a cheap gate: a rule whose
 * literals all miss a text cannot match it.
 */
export function requiredPrefixes(source: string, depth = 0, minLength = MIN_GATE): string[] | undefined {
  const out = new Set<string>()
  for (const b of topLevelBranches(source)) {
    const p = branchPrefixes(b, depth, minLength)
    if (p === undefined) return undefined
    for (const x of p) out.add(x)
  }
  return out.size > 0 ? [...out] : undefined
}

/** How selective a literal set is: its shortest member (CJK characters count double), then fewer members. */
function selectivity(set: string[]): number {
  let min = Infinity
  for (const x of set) {
    let len = 0
    for (const ch of x) len += /[\u0900-\u097f\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]/.test(ch) ? 2 : ch === ' ' ? 0.5 : 1
    min = Math.min(min, len)
  }
  return min - set.length / 1000
}

/** The required literal sets of one branch (a sequence): every match contains a member of each. */
function branchRequired(branch: string, depth: number): string[][] {
  const found: string[][] = []
  let outs = ['']
  const close = () => {
    if (outs.some((o) => o.length > 0) && outs.every((o) => o.trim().length > 0)) found.push(outs.map((o) => o.toLowerCase()))
    outs = ['']
  }
  let i = 0
  while (i < branch.length) {
    const c = branch[i]
    if (branch.startsWith('\\b', i) || branch.startsWith('\\B', i)) { i += 2; continue }
    if (c === '^' || c === '$') { i++; continue }
    if (branch.startsWith('(?=', i) || branch.startsWith('(?!', i) || branch.startsWith('(?<=', i) || branch.startsWith('(?<!', i)) {
      const end = closingParen(branch, i)
      if (end < 0) break
      i = end + 1
      continue
    }
    const a = atomAt(branch, i, depth)
    if (!a) {
      // something we cannot read as literal (a class, `.`, \w, …): it ends the run; skip it and its quantifier
      close()
      let j = i
      if (branch[j] === '\\') j += 2
      else if (branch[j] === '[') { j++; while (j < branch.length && branch[j] !== ']') { if (branch[j] === '\\') j++; j++ } j++ }
      else j++
      i = quantifier(branch, j).end
      continue
    }
    const q = quantifier(branch, a.end)
    if (a.alts === undefined) {
      close()
      if ((q.kind === 'none' || q.kind === 'plus') && depth < 4 && branch[i] === '(') {
        const body = groupBody(branch, i, closingParen(branch, i))
        const inner = body === undefined ? undefined : requiredLiterals(body, depth + 1)
        if (inner) found.push(inner)
      }
      i = q.end
      continue
    }
    if (q.kind === 'other') { close(); i = q.end; continue }
    let alts = a.alts
    if (q.kind === 'optional') alts = [...alts, '']
    const joined = outs.flatMap((o) => alts.map((x) => o + x))
    if (joined.length <= MAX_ALTERNATIVES) outs = joined
    else {
      // too many together: the run so far is one required set, and this atom starts the next (when required)
      close()
      if (q.kind === 'optional') outs = ['']
      else outs = alts.length > MAX_ALTERNATIVES ? shorten(alts, 1) : [...alts]
      if (outs.length > MAX_ALTERNATIVES || alts.length > MAX_ALTERNATIVES) close()
    }
    if (q.kind === 'plus' && !(a.alts.length === 1 && a.alts[0] === ' ')) close()
    i = q.end
  }
  close()
  return found
}

/**
 * The most selective set of literals one of which every match of the pattern contains, anywhere (e.g. ["system
 * prompt", "instructions"] for `(?:show|print)\s+(?:your\s+)?(?:system\s+prompt|instructions)`); undefined when
 * none is worth checking. A pattern whose required literals are all absent cannot match.
 */
export function requiredLiterals(source: string, depth = 0): string[] | undefined {
  const out = new Set<string>()
  for (const b of topLevelBranches(source)) {
    const sets = branchRequired(b, depth).map(minimal).filter((set) => set.length > 0 && set.length <= 2 * MAX_ALTERNATIVES)
    if (sets.length === 0) return undefined
    let best = sets[0]!
    for (const set of sets) if (selectivity(set) > selectivity(best)) best = set
    for (const x of best) out.add(x)
  }
  const list = minimal([...out])
  return list.length > 0 && list.length <= 2 * MAX_ALTERNATIVES ? list : undefined
}

/** A set without members that contain another member ("system prompt" goes when "prompt" is there). */
function minimal(set: string[]): string[] {
  const uniq = [...new Set(set)].filter((x) => x.length > 0)
  return uniq.filter((x) => !uniq.some((y) => y !== x && x.includes(y)))
}

/** Compiles a rule; its gate literals go into `index` (shared by the rules compiled together). */
export function compileRule(rule: Rule, index: GateIndex = new GateIndex()): CompiledRule {
  if (rule.patternType === 'detector') return { rule, regexes: [], sticky: [], gates: [], requires: [], index }
  const regexes: RegExp[] = []
  const sticky: RegExp[] = []
  const requires: Array<Int32Array | null> = []
  const gates: Array<Int32Array | null> = []
  for (const p of rule.patterns) {
    const t = translatePattern(p)
    const flags = rule.caseSensitive && !t.caseInsensitive ? 'gu' : 'giu'
    let re: RegExp
    try {
      re = new RegExp(t.source, flags)
    } catch {
      re = new RegExp(t.source, flags.replace('u', ''))
    }
    regexes.push(re)
    sticky.push(new RegExp(re.source, re.flags.replace('g', 'y')))
    const lits = rule.caseSensitive ? undefined : requiredPrefixes(t.source)
    gates.push(lits === undefined ? null : Int32Array.from(lits.map((l) => index.add(l))))
    const inner = rule.caseSensitive ? undefined : requiredLiterals(t.source)
    // an inner set gates a pattern that has no prefix gate when its shortest member has three characters or more
    // ("sex", "kid": rare enough to beat searching every text), and replaces a prefix gate only when it is clearly
    // more specific
    const useInner = inner !== undefined && (lits === undefined ? selectivity(inner) > 2.5 : selectivity(inner) >= 3.5 && selectivity(inner) > selectivity(lits) + 1)
    requires.push(useInner ? Int32Array.from(inner.map((l) => index.add(l))) : null)
  }
  return { rule, regexes, sticky, gates, requires, index }
}

/**
 * Runs a compiled regex rule on one normalised text; returns the first match. `scan` is `index.scan(text)` (computed
 * by the caller once per text and shared by the rules of the same index). A gated pattern is tried, anchored, only at
 * the places where one of its literals begins; a pattern whose literal occurs many times searches from the first.
 */
export function matchRegexRule(c: CompiledRule, text: string, scan?: GateScan): { pattern: string; evidence: string } | undefined {
  const t = text.length > MAX_RULE_INPUT ? text.slice(0, MAX_RULE_INPUT) : text
  const sc = scan ?? c.index.scan(t)
  for (let i = 0; i < c.regexes.length; i++) {
    const req = c.requires[i]
    if (req) {
      let present = false
      for (let k = 0; k < req.length; k++) if (sc.first[req[k]!]! >= 0) { present = true; break }
      if (!present) continue
    }
    const gate = c.gates[i]
    let m: RegExpExecArray | null = null
    if (gate) {
      const starts = gateStarts(sc, gate)
      if (starts === 'none') continue
      if (typeof starts === 'number') {
        const re = c.regexes[i]!
        re.lastIndex = starts
        m = re.exec(t)
      } else {
        const re = c.sticky[i]!
        for (let k = 0; k < starts.length && m === null; k++) {
          if (k > 0 && starts[k] === starts[k - 1]) continue
          re.lastIndex = starts[k]!
          m = re.exec(t)
        }
      }
    } else {
      const re = c.regexes[i]!
      re.lastIndex = 0
      m = re.exec(t)
    }
    if (m) return { pattern: c.rule.patterns[i]!, evidence: m[0].length > 120 ? `${m[0].slice(0, 117)}...` : m[0] }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------------------
// Safety

export interface SafetyVerdict {
  safe: boolean
  /** recheck's verdict: safe, vulnerable or unknown (timed out). */
  status: string
  /** e.g. "exponential backtracking on 'aaaa…!'". */
  message?: string | undefined
}

type CheckSync = typeof import('recheck').checkSync
let recheckModule: { checkSync: CheckSync } | undefined
/**
 * recheck, loaded on first use: only saving a tenant rule needs it, and loading it costs every process ~33 MB of
 * memory (its Scala.js bundle) and ~0.2 s at start.
 */
function recheck(): { checkSync: CheckSync } {
  return (recheckModule ??= createRequire(import.meta.url)('recheck') as { checkSync: CheckSync })
}

/**
 * Proves a pattern free of catastrophic backtracking with recheck. Polynomial (quadratic and worse) and exponential
 * patterns are refused; "unknown" (the checker ran out of time) is refused too, so only proven-safe patterns pass.
 */
export function checkPatternSafety(pattern: string, caseSensitive = false, timeoutMs = 2_000): SafetyVerdict {
  const t = translatePattern(pattern)
  const flags = caseSensitive && !t.caseInsensitive ? 'u' : 'iu'
  let diag: ReturnType<CheckSync>
  try {
    diag = recheck().checkSync(t.source, flags, { timeout: timeoutMs })
  } catch (e) {
    return { safe: false, status: 'unknown', message: `could not be checked: ${(e as Error).message}` }
  }
  if (diag.status === 'safe') return { safe: true, status: 'safe' }
  if (diag.status === 'vulnerable') {
    const kind = diag.complexity.type === 'exponential' ? 'exponential' : `polynomial (degree ${'degree' in diag.complexity ? diag.complexity.degree : '?'})`
    return { safe: false, status: 'vulnerable', message: `backtracks in ${kind} time, e.g. on ${JSON.stringify(diag.attack.pattern)}; rewrite it without nested or adjacent overlapping quantifiers` }
  }
  return { safe: false, status: 'unknown', message: 'could not be proven free of catastrophic backtracking in time; simplify it' }
}

/** Safety issues of every pattern of a rule (regex rules only), with field paths under `at`. */
export function checkRuleSafety(rule: Rule, at = '', timeoutMs = 2_000): RuleIssue[] {
  if (rule.patternType !== 'regex') return []
  const issues: RuleIssue[] = []
  for (const [i, p] of rule.patterns.entries()) {
    const v = checkPatternSafety(p, rule.caseSensitive, timeoutMs)
    if (!v.safe) issues.push({ field: `${at ? `${at}.` : ''}patterns[${i}]`, message: v.message ?? 'is not safe' })
  }
  return issues
}
