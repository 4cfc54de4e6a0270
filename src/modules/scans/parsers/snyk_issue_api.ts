/**
 * Snyk REST API issues (`GET /rest/orgs/{org}/issues`, JSON:API): `{ jsonapi, data: [ { id, type: "issue",
 * attributes, relationships } ], links }`. DefectDojo's "Snyk Issue API Scan": one finding per `data` entry of
 * type "issue" whose attributes.type is "code" or "package_vulnerability" (others are skipped), title =
 * attributes.title, severity = effective_severity_level (unknown → info), ignored → false positive,
 * status "resolved" → mitigated, unique id = the issue id.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScanFindingStatus, ScannerParser, Severity } from './types.js'
import { AssetCollector, asArray, cvssVersion, isObject, num, ScanFormatError, str, vulnIds } from './util.js'

const WHERE = 'Snyk issue API report'
const SEVERITY: Record<string, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'info' }
const FIXABLE_CODE = ['is_fixable_snyk', 'is_fixable_upstream', 'is_fixable_manually'] as const
const FIXABLE_SCA = [...FIXABLE_CODE, 'is_patchable', 'is_pinnable', 'is_upgradeable'] as const

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.data)) return 0
  const first = root.data[0]
  if (isObject(first) && first.type === 'issue' && isObject(first.attributes) &&
    ('effective_severity_level' in first.attributes || 'problems' in first.attributes || 'coordinates' in first.attributes)) return 1
  // An empty page of the issues API: a JSON:API envelope with no data.
  if (first === undefined && isObject(root.jsonapi)) return 0.5
  return 0
}

interface Coordinates {
  path?: string
  line?: number
  endLine?: number
  componentName?: string
  componentVersion?: string
  reachability: string[]
  fixable: boolean
}

function readCoordinates(isCode: boolean, coordinates: unknown): Coordinates {
  const out: Coordinates = { reachability: [], fixable: false }
  const flags = isCode ? FIXABLE_CODE : FIXABLE_SCA
  for (const c of asArray(coordinates)) {
    if (!isObject(c)) continue
    if (flags.some((k) => c[k] === true)) out.fixable = true
    if (!isCode && str(c.reachability)) out.reachability.push(str(c.reachability)!)
    for (const rep of asArray(c.representations as unknown)) {
      if (!isObject(rep)) continue
      if (!isCode) {
        if (isObject(rep.dependency)) {
          // DefectDojo keeps the last dependency named and uses the package name as file path.
          out.componentName = str(rep.dependency.package_name)
          out.componentVersion = str(rep.dependency.package_version)
          out.path = out.componentName
        }
      } else if (isObject(rep.sourceLocation) && out.path === undefined) {
        const loc = rep.sourceLocation
        out.path = str(loc.file)
        const region = isObject(loc.region) ? loc.region : undefined
        if (region) {
          const start = isObject(region.start) ? num(region.start.line) : undefined
          const end = isObject(region.end) ? num(region.end.line) : undefined
          if (start !== undefined) out.line = start
          if (end !== undefined) out.endLine = end
        }
      }
    }
  }
  return out
}

function cvssOf(severities: unknown): ParsedFinding['cvss'] {
  let v3: ParsedFinding['cvss']
  let v4: ParsedFinding['cvss']
  for (const s of asArray(severities)) {
    if (!isObject(s)) continue
    const version = str(s.version) ?? ''
    const vector = str(s.vector)
    const score = num(s.score)
    if (!vector || score === undefined) continue
    // DefectDojo takes the first rating of each version (Snyk's own comes first).
    if (!v3 && version.includes('3')) v3 = { vector, score, version: cvssVersion(vector) ?? version }
    if (!v4 && version.includes('4')) v4 = { vector, score, version: cvssVersion(vector) ?? version }
  }
  return v3 ?? v4
}

function finding(issue: Record<string, unknown>, index: number, assets: AssetCollector): ParsedFinding | undefined {
  if (issue.type !== 'issue') return undefined
  const a = issue.attributes
  if (!isObject(a)) throw new ScanFormatError(`${WHERE}: data[${index}] has no "attributes" object`)
  const kind = str(a.type)
  if (kind !== 'code' && kind !== 'package_vulnerability') return undefined
  const isCode = kind === 'code'

  const cwe: number[] = []
  for (const c of asArray(a.classes as unknown)) {
    if (!isObject(c) || c.source !== 'CWE') continue
    const id = (str(c.id) ?? '').replace('CWE-', '')
    if (/^\d+$/.test(id)) cwe.push(Number(id))
  }
  const problems = asArray(a.problems as unknown).filter(isObject)
  const coords = readCoordinates(isCode, a.coordinates)
  const word = str(a.effective_severity_level)
  const severity = SEVERITY[(word ?? '').toLowerCase()] ?? 'info'

  const statusWord = str(a.status)
  const ignored = a.ignored === true
  let status: ScanFindingStatus | undefined
  let statusReason: string | undefined
  if (statusWord === 'resolved') { status = 'mitigated'; statusReason = 'resolved in Snyk' }
  else if (ignored) { status = 'false_positive'; statusReason = 'ignored in Snyk' }

  const impact: string[] = []
  const p0 = problems[0]
  if (p0) impact.push(`Problem: ${str(p0.id) ?? 'unknown'} (${str(p0.source) ?? 'unknown source'}, ${str(p0.type) ?? 'unknown type'})`)
  const exploit = isObject(a.exploit_details) ? asArray(a.exploit_details.sources as unknown).map((s) => String(s)) : []
  if (exploit.length) impact.push(`Exploit sources: ${exploit.join(', ')}`)
  if (coords.reachability.length) impact.push(`Reachability: ${[...new Set(coords.reachability)].sort().join(', ')}`)
  const risk = isObject(a.risk) && isObject(a.risk.score) ? a.risk.score : undefined
  if (risk) impact.push(`Risk score: ${str(risk.value) ?? 'N/A'} (model ${str(risk.model) ?? 'N/A'})`)
  const text = str(a.description)
  const description = [text, impact.join('\n')].filter(Boolean).join('\n\n')

  const scanItem = isObject(issue.relationships) && isObject(issue.relationships.scan_item) && isObject(issue.relationships.scan_item.data)
    ? str(issue.relationships.scan_item.data.id) : undefined
  const source = scanItem ? `snyk-project:${scanItem}` : 'snyk-issues'
  const assetKey = isCode ? assets.add('CODE', { scannerSource: source }) : assets.add('BUILD', { buildFile: source })

  const refs = problems.map((p) => str(p.url)).filter((u): u is string => u !== undefined)
  const key = str(a.key)
  const ids = vulnIds(...problems.map((p) => p.id))
  // CVE / GHSA ids first: they are what other tools report.
  ids.sort((x, y) => Number(!/^(CVE|GHSA)-/i.test(x)) - Number(!/^(CVE|GHSA)-/i.test(y)))
  const cvss = cvssOf(a.severities)
  const uniqueId = str(issue.id)

  return {
    assetKey,
    title: str(a.title) ?? key ?? `Snyk ${kind} issue`,
    ...(description ? { description } : {}),
    severity,
    ...(word ? { scannerSeverity: word } : {}),
    ...(ids.length ? { vulnerabilityIds: ids } : {}),
    ...(cwe.length ? { cwe } : {}),
    ...(cvss ? { cvss } : {}),
    ...(coords.componentName ? { component: { name: coords.componentName, ...(coords.componentVersion ? { version: coords.componentVersion } : {}) } } : {}),
    ...(coords.path ? { location: { path: coords.path, ...(coords.line !== undefined ? { line: coords.line } : {}), ...(coords.endLine !== undefined ? { endLine: coords.endLine } : {}) } } : {}),
    ...(key ? { ruleId: key } : {}),
    ...(status ? { status, statusReason } : {}),
    ...(refs.length ? { references: refs } : {}),
    ...(uniqueId ? { uniqueId } : {}),
    extra: {
      issueType: kind,
      fixAvailable: coords.fixable,
      ...(risk && num(risk.value) !== undefined ? { riskScore: num(risk.value) } : {}),
      ...(str(a.created_at) ? { created: str(a.created_at) } : {}),
    },
  }
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = doc.json
  if (doc.kind !== 'json' || !isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON:API object with "data"`)
  const assets = new AssetCollector()
  if (!('data' in root) || root.data === null) return { assets: [], findings: [] }
  if (!Array.isArray(root.data)) throw new ScanFormatError(`${WHERE}: "data" must be an array of issues`)
  const findings: ParsedFinding[] = []
  for (const [i, issue] of root.data.entries()) {
    if (!isObject(issue)) throw new ScanFormatError(`${WHERE}: data[${i}] must be an object`)
    const f = finding(issue, i, assets)
    if (f) findings.push(f)
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'snyk_issue_api',
  label: 'Snyk issues (REST API)',
  aliases: ['Snyk Issue API Scan', 'snyk_api'],
  formats: ['json'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
