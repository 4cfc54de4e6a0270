/**
 * SARIF 2.1.0 from any tool (CodeQL, Semgrep, Grype, Dependency-Check, Flawfinder, SpotBugs, gitleaks, …), as
 * DefectDojo's "SARIF" parser reads it:
 * - every run, every result of kind `fail` (the default); other kinds (pass, open, review, notApplicable,
 *   informational) are skipped;
 * - one finding per location of a result (a result without locations gives one finding);
 * - title = the result message (messageStrings + arguments substituted), else the rule's short/full description,
 *   name or id, shortened to 150 characters like Python's textwrap.shorten;
 * - severity from `level` (result, else the rule's defaultConfiguration): error → high, warning → medium,
 *   note → info, anything else → medium; a rule's (or result's) `security-severity` property overrides it
 *   (a CVSS-like score ≥9 critical, ≥7 high, ≥4 medium, >0 low, else info; or a severity word);
 * - CWE from the result's `cwe` property, else the rule's relationships / tags (e.g. "external/cwe/cwe-79"),
 *   plus taxa; CVE from the rule id; fixes → remedy; helpUri → reference;
 * - suppressed results (a non-empty `suppressions` list, not all of them rejected) are false positives;
 *   `baselineState: absent` results are mitigated;
 * - `fingerprints` (first method, highest version) else `partialFingerprints` (sorted, "key:value|…") → uniqueId.
 *   A result with several locations gives several findings: their uniqueId gets "#path:line" appended so they
 *   stay distinct.
 * Asset: CODE, scannerSource = the run's repository (versionControlProvenance) or SRCROOT, else the file name.
 * Detection is capped at 0.6: tool-specific parsers of SARIF (Snyk Code, …) win with higher scores.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { parseCwe, AssetCollector, isObject, num, ScanFormatError, shorten, str, strings, vulnIds } from './util.js'
import { clip, codeAsset, jsonObjectRoot, lineNumber, objectList } from './sast-iac-common.js'

const WHERE = 'SARIF report'
type Obj = Record<string, unknown>

const CWE_RE = /cwe-(\d+)/i
const CVE_RE = /CVE-\d+-\d+/i
const PLACEHOLDER_RE = /\{(\d+)\}/g
const HTTP_RE = /^https?:\/\//i
const MAX_FLOW_STEPS = 30

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.runs)) return 0
  const version = str(root.version)
  const schema = str(root.$schema)?.toLowerCase() ?? ''
  if (version?.startsWith('2.') || schema.includes('sarif')) return 0.6
  const first: unknown = root.runs[0]
  return isObject(first) && isObject(first.tool) ? 0.5 : 0.2
}

function substitute(text: string, args: unknown): string {
  if (!Array.isArray(args) || args.length === 0) return text
  return text.replace(PLACEHOLDER_RE, (m, i: string) => str(args[Number(i)]) ?? m)
}

/** The text of a message / multiformatMessageString, resolving `id` against the rule's messageStrings. */
function messageText(msg: unknown, rule: Obj | undefined, globalStrings: Obj | undefined): string | undefined {
  if (!isObject(msg)) return str(msg)
  const id = str(msg.id)
  if (id) {
    const fromRule = isObject(rule?.messageStrings) ? (rule.messageStrings as Obj)[id] : undefined
    const entry = fromRule ?? globalStrings?.[id]
    const template = isObject(entry) ? str(entry.text) ?? str(entry.markdown) : undefined
    if (template) return substitute(template, msg.arguments)
  }
  const text = typeof msg.text === 'string' ? msg.text : typeof msg.markdown === 'string' ? msg.markdown : undefined
  if (text === undefined || text.trim() === '') return undefined
  return substitute(text, msg.arguments)
}

function cvssToSeverity(score: number): Severity {
  if (score >= 9) return 'critical'
  if (score >= 7) return 'high'
  if (score >= 4) return 'medium'
  if (score > 0) return 'low'
  return 'info'
}

function levelToSeverity(level: string | undefined): Severity {
  switch (level) {
    case 'note': return 'info'
    case 'warning': return 'medium'
    case 'error': return 'high'
    default: return 'medium'
  }
}

const SEVERITY_WORDS = new Set(['info', 'low', 'medium', 'high', 'critical'])

function cwesOf(v: unknown, out: number[]): void {
  for (const s of strings(v)) {
    const m = CWE_RE.exec(s)
    if (m) out.push(Number(m[1]))
  }
}

/** DefectDojo's rule CWEs: the relationships' targets when the rule has relationships, else its tags. */
function ruleCwes(rule: Obj): number[] {
  const out: number[] = []
  if (Array.isArray(rule.relationships)) {
    for (const rel of rule.relationships) {
      if (!isObject(rel) || !isObject(rel.target)) continue
      const target = rel.target
      const id = str(target.id)
      if (!id) continue
      const component = isObject(target.toolComponent) ? str(target.toolComponent.name) : undefined
      if (component?.toUpperCase() === 'CWE' && /^\d+$/.test(id)) out.push(Number(id))
      else cwesOf(id, out)
    }
    return out
  }
  const props = isObject(rule.properties) ? rule.properties : undefined
  cwesOf(props?.tags, out)
  return out
}

function taxaCwes(taxa: unknown): number[] {
  const out: number[] = []
  if (!Array.isArray(taxa)) return out
  for (const t of taxa) {
    if (!isObject(t)) continue
    const id = str(t.id)
    const component = isObject(t.toolComponent) ? str(t.toolComponent.name) : undefined
    if (id && component?.toUpperCase() === 'CWE' && /^\d+$/.test(id)) out.push(Number(id))
    else if (id) cwesOf(id, out)
  }
  return out
}

/** DefectDojo's get_fingerprints_hashes: per method ("name/vN"), the value of the highest version. */
function fingerprintHashes(values: Obj): Map<string, { version: number; value: string }> {
  const out = new Map<string, { version: number; value: string }>()
  for (const [key, raw] of Object.entries(values)) {
    const value = str(raw) ?? (isObject(raw) ? str(raw.value) : undefined)
    if (value === undefined) continue
    let method = key
    let version = 0
    const parts = key.split('/')
    if (parts.length > 1) {
      method = parts[parts.length - 2]!
      const v = Number(parts[parts.length - 1]!.replace('v', ''))
      version = Number.isFinite(v) ? v : 0
    }
    const prev = out.get(method)
    if (!prev || prev.version < version) out.set(method, { version, value })
  }
  return out
}

function uniqueIdOf(result: Obj): string | undefined {
  if (isObject(result.fingerprints) && Object.keys(result.fingerprints).length > 0) {
    const first = fingerprintHashes(result.fingerprints).values().next()
    if (!first.done) return first.value.value
  }
  if (isObject(result.partialFingerprints) && Object.keys(result.partialFingerprints).length > 0) {
    const hashes = fingerprintHashes(result.partialFingerprints)
    const keys = [...hashes.keys()].sort()
    if (keys.length) return keys.map((k) => `${k}:${hashes.get(k)!.value}`).join('|')
  }
  return undefined
}

interface Loc { path?: string; line?: number; endLine?: number; snippet?: string; logical?: string }

function locationOf(location: unknown, artifacts: Obj[]): Loc {
  if (!isObject(location)) return {}
  const out: Loc = {}
  const phys = isObject(location.physicalLocation) ? location.physicalLocation : undefined
  if (phys) {
    const art = isObject(phys.artifactLocation) ? phys.artifactLocation : undefined
    let uri = str(art?.uri)
    if (!uri && art && num(art.index) !== undefined) {
      const a = artifacts[num(art.index)!]
      uri = isObject(a) && isObject(a.location) ? str(a.location.uri) : undefined
    }
    if (uri) out.path = uri
    const region = isObject(phys.region) ? phys.region : undefined
    if (region && region.byteOffset === undefined) {
      const line = lineNumber(region.startLine)
      if (line !== undefined) out.line = line
      const end = lineNumber(region.endLine)
      if (end !== undefined && line !== undefined && end > line) out.endLine = end
    }
    const snippet = (isObject(region?.snippet) ? str((region.snippet as Obj).text) : undefined)
      ?? (isObject(phys.contextRegion) && isObject(phys.contextRegion.snippet) ? str(phys.contextRegion.snippet.text) : undefined)
    if (snippet) out.snippet = snippet
  }
  if (Array.isArray(location.logicalLocations)) {
    const l: unknown = location.logicalLocations[0]
    if (isObject(l)) {
      const name = str(l.fullyQualifiedName) ?? str(l.name)
      if (name) out.logical = name
    }
  }
  return out
}

function codeFlowText(codeFlows: unknown): string | undefined {
  if (!Array.isArray(codeFlows)) return undefined
  for (const flow of codeFlows) {
    if (!isObject(flow) || !Array.isArray(flow.threadFlows)) continue
    for (const thread of flow.threadFlows) {
      if (!isObject(thread) || !Array.isArray(thread.locations) || thread.locations.length === 0) continue
      const lines = ['Code flow:']
      for (const [i, step] of thread.locations.slice(0, MAX_FLOW_STEPS).entries()) {
        if (!isObject(step)) continue
        const loc = isObject(step.location) ? step.location : undefined
        const phys = isObject(loc?.physicalLocation) ? (loc.physicalLocation as Obj) : undefined
        const uri = isObject(phys?.artifactLocation) ? str((phys.artifactLocation as Obj).uri) : undefined
        const region = isObject(phys?.region) ? (phys.region as Obj) : undefined
        let line = `${i + 1}. ${uri ?? '?'}`
        if (region?.startLine !== undefined) line += `:L${String(region.startLine)}`
        if (region?.startColumn !== undefined) line += `:C${String(region.startColumn)}`
        const snippet = isObject(region?.snippet) ? str((region.snippet as Obj).text) : undefined
        if (snippet) line += ` - ${snippet}`
        lines.push(line)
        const msg = isObject(loc?.message) ? str((loc.message as Obj).text) ?? str((loc.message as Obj).markdown) : undefined
        if (msg) lines.push(`   ${msg}`)
      }
      if (thread.locations.length > MAX_FLOW_STEPS) lines.push(`… ${thread.locations.length - MAX_FLOW_STEPS} more steps`)
      return lines.join('\n')
    }
  }
  return undefined
}

interface RunContext {
  rules: Map<string, Obj>
  ruleList: Obj[]
  artifacts: Obj[]
  globalStrings: Obj | undefined
  tool: string | undefined
  /** The run's asset, added on its first finding (an empty run adds none). */
  assetKey: () => string
  /** Rule texts used in every description, computed once per rule. */
  ruleTexts: Map<Obj, { name?: string | undefined; short?: string | undefined; full?: string | undefined }>
}

function loadRun(run: Obj, i: number, doc: ScanDocument, assets: AssetCollector): RunContext {
  const where = `${WHERE}: run ${i + 1}`
  if (!isObject(run.tool)) throw new ScanFormatError(`${where} has no "tool" object`)
  const driver = run.tool.driver
  if (!isObject(driver)) throw new ScanFormatError(`${where} has no "tool.driver" object`)
  let ruleList = objectList(driver, 'rules', `${where} tool.driver`)
  if (ruleList.length === 0 && Array.isArray(run.tool.extensions)) {
    const ext: unknown = run.tool.extensions[0]
    if (isObject(ext)) ruleList = objectList(ext, 'rules', `${where} tool.extensions[0]`)
  }
  const rules = new Map<string, Obj>()
  for (const r of ruleList) {
    const id = str(r.id)
    if (id !== undefined) rules.set(id, r)
  }
  const artifacts = Array.isArray(run.artifacts) ? (run.artifacts as unknown[]).map((a) => (isObject(a) ? a : {})) : []
  const vcs: unknown = Array.isArray(run.versionControlProvenance) ? run.versionControlProvenance[0] : undefined
  const repository = isObject(vcs) ? str(vcs.repositoryUri) : undefined
  const bases = isObject(run.originalUriBaseIds) ? run.originalUriBaseIds : undefined
  const srcroot = bases ? bases.SRCROOT ?? bases['%SRCROOT%'] : undefined
  const root = isObject(srcroot) ? str(srcroot.uri) : undefined
  const tool = str(driver.name)
  let key: string | undefined
  return {
    rules,
    ruleList,
    artifacts,
    globalStrings: isObject(driver.globalMessageStrings) ? driver.globalMessageStrings : undefined,
    tool,
    assetKey: () => (key ??= codeAsset(assets, doc, tool ?? 'sarif', repository ?? root, repository)),
    ruleTexts: new Map(),
  }
}

function titleOf(result: Obj, rule: Obj | undefined, rc: RunContext): string | undefined {
  let title = result.message !== undefined ? messageText(result.message, rule, rc.globalStrings) : undefined
  if (title === undefined && rule) {
    if (rule.shortDescription !== undefined) title = messageText(rule.shortDescription, rule, rc.globalStrings)
    else if (rule.fullDescription !== undefined) title = messageText(rule.fullDescription, rule, rc.globalStrings)
    else title = str(rule.name) ?? str(rule.id)
  }
  return title === undefined ? undefined : shorten(title)
}

function describe(result: Obj, rule: Obj | undefined, rc: RunContext, loc: Loc, message: string | undefined): string | undefined {
  const lines: string[] = []
  if (message) lines.push(`Result message: ${message}`)
  if (loc.snippet) lines.push('Snippet:', clip(loc.snippet, 2000)!)
  if (loc.logical && !loc.path) lines.push(`Location: ${loc.logical}`)
  if (rule) {
    let texts = rc.ruleTexts.get(rule)
    if (!texts) {
      texts = {
        name: str(rule.name),
        short: rule.shortDescription !== undefined ? messageText(rule.shortDescription, rule, rc.globalStrings) : undefined,
        full: rule.fullDescription !== undefined ? messageText(rule.fullDescription, rule, rc.globalStrings) : undefined,
      }
      rc.ruleTexts.set(rule, texts)
    }
    const { name, short, full } = texts
    if (name) lines.push(`Rule name: ${name}`)
    if (short && short !== message) lines.push(`Rule short description: ${short}`)
    if (full && full !== message && full !== short) lines.push(`Rule full description: ${clip(full, 4000)!}`)
  }
  const flow = codeFlowText(result.codeFlows)
  if (flow) lines.push(flow)
  return lines.length ? lines.join('\n') : undefined
}

function severityOf(result: Obj, rule: Obj | undefined): { severity: Severity; scannerSeverity?: string; score?: number } {
  const level = str(result.level) ?? (isObject(rule?.defaultConfiguration) ? str((rule.defaultConfiguration as Obj).level) : undefined)
  let severity = levelToSeverity(level)
  let scannerSeverity = level
  let score: number | undefined
  const resultProps = isObject(result.properties) ? result.properties : undefined
  const ruleProps = isObject(rule?.properties) ? (rule.properties as Obj) : undefined
  const raw = resultProps?.['security-severity'] ?? ruleProps?.['security-severity']
  if (raw !== undefined && raw !== null) {
    const s = str(raw)
    const n = num(raw)
    if (n !== undefined) {
      severity = cvssToSeverity(n)
      score = n
      scannerSeverity = s
    } else if (s) {
      const word = s.toLowerCase()
      severity = SEVERITY_WORDS.has(word) ? (word as Severity) : 'info'
      scannerSeverity = s
    }
  }
  return { severity, ...(scannerSeverity ? { scannerSeverity } : {}), ...(score !== undefined ? { score } : {}) }
}

function statusOf(result: Obj): Pick<ParsedFinding, 'status' | 'statusReason'> {
  if (Array.isArray(result.suppressions) && result.suppressions.length > 0) {
    const active = result.suppressions.filter((s) => !(isObject(s) && str(s.status) === 'rejected'))
    if (active.length > 0) {
      const s: unknown = active[0]
      const kind = isObject(s) ? str(s.kind) : undefined
      const justification = isObject(s) ? str(s.justification) : undefined
      const underReview = isObject(s) && str(s.status) === 'underReview'
      return {
        status: 'false_positive',
        statusReason: justification ?? `Suppressed${kind ? ` (${kind})` : ''}${underReview ? ', under review' : ''}`,
      }
    }
  }
  if (str(result.baselineState) === 'absent') return { status: 'mitigated', statusReason: 'baselineState: absent' }
  return {}
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = jsonObjectRoot(doc, WHERE)
  const runs = objectList(root, 'runs', WHERE, true)
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []

  for (const [ri, run] of runs.entries()) {
    const rc = loadRun(run, ri, doc, assets)
    const results = objectList(run, 'results', `${WHERE}: run ${ri + 1}`)
    for (const result of results) {
      const kind = str(result.kind) ?? 'fail'
      if (kind !== 'fail') continue
      const ruleId = str(result.ruleId) ?? (isObject(result.rule) ? str(result.rule.id) : undefined)
      let rule = ruleId !== undefined ? rc.rules.get(ruleId) : undefined
      if (!rule) {
        const idx = num(result.ruleIndex) ?? (isObject(result.rule) ? num(result.rule.index) : undefined)
        if (idx !== undefined && ruleId === undefined) rule = rc.ruleList[idx]
      }

      let title = titleOf(result, rule, rc)
      if (title === undefined) {
        title = ruleId ?? 'SARIF result'
        ctx.warn(`${WHERE}: a result has no message and no rule text; titled "${title}"`)
      }
      const message = result.message !== undefined ? messageText(result.message, rule, rc.globalStrings) : undefined
      const { severity, scannerSeverity, score } = severityOf(result, rule)

      // CWE: DefectDojo keeps the last one found, the result's own `cwe` property winning over the rule's.
      const fromResult: number[] = []
      const resultProps = isObject(result.properties) ? result.properties : undefined
      cwesOf(resultProps?.cwe, fromResult)
      const fromRule = rule ? ruleCwes(rule) : []
      const primary = fromResult.length ? fromResult[fromResult.length - 1] : fromRule[fromRule.length - 1]
      const ruleProps = isObject(rule?.properties) ? (rule.properties as Obj) : undefined
      const others = [...fromResult, ...fromRule, ...taxaCwes(result.taxa), ...parseCwe(ruleProps?.cwe)]
      const cwe = [...new Set(primary !== undefined ? [primary, ...others] : others)]

      const cve = ruleId ? CVE_RE.exec(ruleId)?.[0] : undefined
      const ids = cve ? vulnIds(cve) : []

      let reference: string | undefined
      if (rule) {
        reference = str(rule.helpUri)
        if (!reference && rule.help !== undefined) {
          const help = messageText(rule.help, rule, rc.globalStrings)
          if (help && HTTP_RE.test(help)) reference = help
        }
      }

      let remedy: string | undefined
      if (Array.isArray(result.fixes)) {
        const texts = result.fixes.map((f) => (isObject(f) && isObject(f.description) ? str(f.description.text) : undefined))
          .filter((t): t is string => t !== undefined)
        if (texts.length) remedy = texts.join('\n')
      }

      const tagSet = new Set<string>()
      for (const t of [...strings(ruleProps?.tags), ...strings(resultProps?.tags)]) {
        tagSet.add(t.startsWith('external/cwe/') ? t.slice('external/cwe/'.length) : t)
      }
      const uid = uniqueIdOf(result)
      const status = statusOf(result)
      const component = str(resultProps?.component)
      const componentVersion = str(resultProps?.componentVersion)

      const locs = Array.isArray(result.locations) && result.locations.length > 0
        ? result.locations.map((l) => locationOf(l, rc.artifacts))
        : [{} as Loc]
      for (const loc of locs) {
        const location: NonNullable<ParsedFinding['location']> = {}
        if (loc.path) location.path = loc.path
        if (loc.line !== undefined) location.line = loc.line
        if (loc.endLine !== undefined) location.endLine = loc.endLine
        const f: ParsedFinding = {
          assetKey: rc.assetKey(),
          title,
          severity,
          ...(scannerSeverity ? { scannerSeverity } : {}),
        }
        const description = describe(result, rule, rc, loc, message)
        if (description) f.description = description
        if (remedy) f.remedy = remedy
        if (ids.length) f.vulnerabilityIds = ids
        if (cwe.length) f.cwe = cwe
        if (score !== undefined) f.cvss = { score }
        if (component) f.component = { name: component, ...(componentVersion ? { version: componentVersion } : {}) }
        if (Object.keys(location).length) f.location = location
        if (ruleId) f.ruleId = ruleId
        if (status.status) Object.assign(f, status)
        if (reference) f.references = [reference]
        if (uid) f.uniqueId = locs.length > 1 ? `${uid}#${loc.path ?? ''}:${loc.line ?? ''}` : uid
        if (tagSet.size) f.tags = [...tagSet]
        const extra: Record<string, unknown> = {}
        if (rc.tool) extra.tool = rc.tool
        if (loc.logical) extra.logicalLocation = loc.logical
        const baseline = str(result.baselineState)
        if (baseline) extra.baselineState = baseline
        if (Object.keys(extra).length) f.extra = extra
        findings.push(f)
      }
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'sarif',
  label: 'SARIF 2.1.0',
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
