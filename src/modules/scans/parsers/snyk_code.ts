/**
 * Snyk Code (`snyk code test --sarif`): SARIF 2.1.0 whose driver is "SnykCode". DefectDojo's "Snyk Code Scan":
 * one finding per result of the first run, title "{ruleId}_{uri}", severity from `properties.priorityScore`
 * (≤399 low, ≤699 medium, ≤899 high, else critical). The generic SARIF parser also reads these files; this one
 * scores higher because the driver name is Snyk's.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScanFindingStatus, ScannerParser, Severity } from './types.js'
import { AssetCollector, asArray, isObject, num, parseCwe, ScanFormatError, str } from './util.js'
import { clip } from './sca-common.js'

const WHERE = 'Snyk Code SARIF report'
const DRIVER_NAMES = new Set(['snykcode', 'snyk code'])

function isSnykCodeRun(run: unknown): boolean {
  if (!isObject(run) || !isObject(run.tool) || !isObject(run.tool.driver)) return false
  const name = str(run.tool.driver.name)
  return name !== undefined && DRIVER_NAMES.has(name.toLowerCase())
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  const root = Array.isArray(doc.json) ? doc.json[0] : doc.json
  if (!isObject(root) || !Array.isArray(root.runs)) return 0
  return isSnykCodeRun(root.runs[0]) ? 0.9 : 0
}

function severityFromPriority(score: number): Severity {
  if (score <= 399) return 'low'
  if (score <= 699) return 'medium'
  if (score <= 899) return 'high'
  return 'critical'
}

function severityFromLevel(level: string | undefined): Severity {
  switch (level) {
    case 'error': return 'high'
    case 'warning': return 'medium'
    case 'note': return 'low'
    default: return 'info'
  }
}

/** SARIF suppressions → our status: Snyk writes its ignore reason as properties.category. */
function suppressionStatus(result: Record<string, unknown>): { status: ScanFindingStatus; reason?: string } | undefined {
  for (const s of asArray(result.suppressions as unknown)) {
    if (!isObject(s)) continue
    const state = str(s.status)
    if (state === 'rejected' || state === 'underReview') continue
    const category = isObject(s.properties) ? str(s.properties.category) : undefined
    const reason = str(s.justification) ?? category
    const status: ScanFindingStatus = category === 'wont-fix' || category === 'temporary-ignore' ? 'risk_accepted' : 'false_positive'
    return { status, ...(reason ? { reason } : {}) }
  }
  return undefined
}

const PREVENTION = '## Best practices for prevention'

function remedyOf(rule: Record<string, unknown> | undefined): string | undefined {
  const help = rule && isObject(rule.help) ? str(rule.help.markdown) ?? str(rule.help.text) : undefined
  if (!help) return undefined
  const i = help.indexOf(PREVENTION)
  return i >= 0 ? clip(help.slice(i + PREVENTION.length).trim(), 4000) : undefined
}

/** The findings of one Snyk Code SARIF log (also used by the snyk parser, which delegates SARIF to it). */
export function snykCodeFindings(log: unknown, assets: AssetCollector, fallbackSource: string, ctx: ParseContext): ParsedFinding[] {
  if (!isObject(log) || !Array.isArray(log.runs)) throw new ScanFormatError(`${WHERE}: expected a SARIF log with "runs"`)
  const run = log.runs[0]
  if (run === undefined) return []
  if (!isObject(run)) throw new ScanFormatError(`${WHERE}: runs[0] must be an object`)
  if (log.runs.length > 1) ctx.warn(`${WHERE}: only the first of ${log.runs.length} runs is read (as DefectDojo does)`)
  const results = run.results
  if (results === undefined || results === null) return []
  if (!Array.isArray(results)) throw new ScanFormatError(`${WHERE}: runs[0].results must be an array`)

  const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : {}
  const rules = Array.isArray(driver.rules) ? driver.rules : []
  const ruleById = new Map<string, Record<string, unknown>>()
  for (const r of rules) if (isObject(r) && str(r.id)) ruleById.set(str(r.id)!, r)
  const remedyByRule = new Map<string, string | undefined>()

  const base = isObject(run.originalUriBaseIds) ? run.originalUriBaseIds : {}
  const srcRoot = Object.values(base).map((b) => (isObject(b) ? str(b.uri) : undefined)).find((u) => u !== undefined)
  const assetKey = assets.add('CODE', { scannerSource: srcRoot ?? fallbackSource })

  const findings: ParsedFinding[] = []
  for (const [i, result] of results.entries()) {
    if (!isObject(result)) throw new ScanFormatError(`${WHERE}: results[${i}] must be an object`)
    const ruleId = str(result.ruleId)
    if (!ruleId) throw new ScanFormatError(`${WHERE}: results[${i}] has no ruleId`)
    const ruleIndex = num(result.ruleIndex)
    const rule = (ruleIndex !== undefined && isObject(rules[ruleIndex]) ? rules[ruleIndex] as Record<string, unknown> : undefined) ?? ruleById.get(ruleId)
    const loc = asArray(result.locations as unknown)[0]
    const phys = isObject(loc) && isObject(loc.physicalLocation) ? loc.physicalLocation : {}
    const uri = isObject(phys.artifactLocation) ? str(phys.artifactLocation.uri) : undefined
    const region = isObject(phys.region) ? phys.region : {}
    const line = num(region.startLine)
    const endLine = num(region.endLine)
    const props = isObject(result.properties) ? result.properties : {}
    const priority = num(props.priorityScore)
    const level = str(result.level) ?? (rule && isObject(rule.defaultConfiguration) ? str(rule.defaultConfiguration.level) : undefined)
    const message = isObject(result.message) ? str(result.message.text) : undefined
    const ruleProps = rule && isObject(rule.properties) ? rule.properties : {}
    const cwe = parseCwe(ruleProps.cwe)
    const fingerprints = isObject(result.fingerprints) ? result.fingerprints : {}
    const uniqueId = str(fingerprints['snyk/asset/finding/v1']) ?? str(fingerprints['0']) ?? str(Object.values(fingerprints)[0])
    const ruleName = rule && isObject(rule.shortDescription) ? str(rule.shortDescription.text) : undefined
    if (!remedyByRule.has(ruleId)) remedyByRule.set(ruleId, remedyOf(rule))
    const remedy = remedyByRule.get(ruleId)
    const suppressed = suppressionStatus(result)

    findings.push({
      assetKey,
      title: `${ruleId}_${uri ?? ''}`,
      ...(message || ruleName ? { description: [ruleName, message].filter(Boolean).join('\n\n') } : {}),
      ...(remedy ? { remedy } : {}),
      severity: priority !== undefined ? severityFromPriority(priority) : severityFromLevel(level),
      ...(priority !== undefined ? { scannerSeverity: String(priority) } : level ? { scannerSeverity: level } : {}),
      ...(cwe.length ? { cwe } : {}),
      ...(uri ? { location: { path: uri, ...(line !== undefined ? { line } : {}), ...(endLine !== undefined ? { endLine } : {}) } } : {}),
      ruleId,
      ...(suppressed ? { status: suppressed.status, ...(suppressed.reason ? { statusReason: suppressed.reason } : {}) } : {}),
      ...(uniqueId ? { uniqueId } : {}),
      extra: {
        ...(priority !== undefined ? { priorityScore: priority } : {}),
        ...(typeof props.isAutofixable === 'boolean' ? { isAutofixable: props.isAutofixable } : {}),
        ...(level ? { level } : {}),
      },
    })
  }
  return findings
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const logs = Array.isArray(doc.json) ? doc.json : [doc.json]
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  for (const log of logs) {
    if (isObject(log) && Array.isArray(log.vulnerabilities)) {
      throw new ScanFormatError(`${WHERE}: this is a Snyk CLI JSON report (snyk test --json), not SARIF; import it as "snyk"`)
    }
    if (!isObject(log) || !Array.isArray(log.runs)) throw new ScanFormatError(`${WHERE}: expected a SARIF log object with a "runs" array`)
    findings.push(...snykCodeFindings(log, assets, doc.filename || 'snyk-code', ctx))
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'snyk_code',
  label: 'Snyk Code (SARIF)',
  aliases: ['Snyk Code Scan', 'snykcode'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
