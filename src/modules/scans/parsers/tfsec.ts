/**
 * tfsec JSON (`tfsec --format json`), legacy (rule ids like "AWS050", `link`, severities ERROR/WARNING/INFO) and
 * current (rule ids like "aws-vpc-no-excessive-port-access", `links`, CRITICAL/HIGH/MEDIUM/LOW), as DefectDojo's
 * "TFSec Scan" reads it: `results: null` → no findings; passed checks skipped; title = rule_description;
 * severity CRITICAL → critical, HIGH/ERROR → high, MEDIUM/WARNING → medium, LOW → low, INFO → info, else low;
 * resolution → remedy; links (or the legacy link) → references; results with the same provider + rule + file +
 * start/end line are merged (occurrences counted).
 * Asset: CODE, scannerSource = the file name (tfsec does not name the scanned root).
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, isObject, ScanFormatError, str, strings } from './util.js'
import { codeAsset, jsonObjectRoot, lineNumber, objectList, optObject } from './sast-iac-common.js'

const WHERE = 'tfsec report'
const URL_RE = /https?:\/\/[^\s]+[^\s.,;)]/i

const SEVERITY: Record<string, Severity> = {
  CRITICAL: 'critical', HIGH: 'high', ERROR: 'high', MEDIUM: 'medium', WARNING: 'medium', LOW: 'low', INFO: 'info',
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  const results = root.results
  if (Array.isArray(results)) {
    const first: unknown = results[0]
    if (isObject(first)) {
      return typeof first.rule_id === 'string' && isObject(first.location) && ('rule_provider' in first || 'rule_description' in first) ? 1 : 0
    }
  }
  // `{"results": null}` (tfsec with nothing found) or `{"results": []}` alone: a weak claim.
  if ((results === null || (Array.isArray(results) && results.length === 0)) && Object.keys(root).length === 1) return 0.4
  return 0
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = jsonObjectRoot(doc, WHERE)
  if (!('results' in root)) throw new ScanFormatError(`${WHERE}: incorrect tfsec scan, missing attribute "results"`)
  const results = objectList(root, 'results', WHERE)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let assetKey: string | undefined

  for (const [i, item] of results.entries()) {
    const where = `${WHERE}: result ${i + 1}`
    if (item.passed === true || str(item.status)?.toLowerCase() === 'passed') continue
    const ruleId = str(item.rule_id)
    if (!ruleId) throw new ScanFormatError(`${where} has no "rule_id"`)
    const location = optObject(item, 'location', where)
    if (!location) throw new ScanFormatError(`${where} has no "location" object`)
    const provider = str(item.rule_provider) ?? ''
    const file = str(location.filename) ?? ''
    const start = lineNumber(location.start_line)
    const end = lineNumber(location.end_line)
    const key = `${provider}\u0000${ruleId}\u0000${file}\u0000${String(location.start_line)}\u0000${String(location.end_line)}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      continue
    }
    const severityText = str(item.severity)
    const severity = (severityText && SEVERITY[severityText.toUpperCase()]) || 'low'
    const links = Array.isArray(item.links) ? strings(item.links) : []
    if (links.length === 0) {
      const link = str(item.link)
      const url = link ? URL_RE.exec(link)?.[0] : undefined
      if (url) links.push(url)
    }
    const impact = str(item.impact)
    const description = [`Rule ID: ${ruleId}`, str(item.description), impact ? `Impact: ${impact}` : undefined].filter(Boolean).join('\n')
    assetKey ??= codeAsset(assets, doc, 'tfsec')
    const f: ParsedFinding = {
      assetKey,
      title: str(item.rule_description) ?? ruleId,
      description,
      severity,
      ...(severityText ? { scannerSeverity: severityText } : {}),
      ruleId,
      occurrences: 1,
    }
    const resolution = str(item.resolution)
    if (resolution) f.remedy = resolution
    if (links.length) f.references = links
    if (file || start !== undefined) {
      f.location = {
        ...(file ? { path: file } : {}),
        ...(start !== undefined ? { line: start } : {}),
        ...(end !== undefined && start !== undefined && end > start ? { endLine: end } : {}),
      }
    }
    if (provider) f.tags = [provider]
    const legacy = str(item.legacy_rule_id)
    const service = str(item.rule_service)
    const x: Record<string, unknown> = {}
    if (legacy) x.legacyRuleId = legacy
    if (service) x.service = service
    if (Object.keys(x).length) f.extra = x
    byKey.set(key, f)
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'tfsec',
  label: 'tfsec JSON',
  aliases: ['TFSec Scan'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
