/**
 * npm audit from npm 7 on (`npm audit --json`, also `npm audit fix --dry-run --json` with the report under `audit`):
 * `{ auditReportVersion: 2, vulnerabilities: { name: node }, metadata }`. DefectDojo's "NPM Audit v7+ Scan": one
 * finding per vulnerable package (every top-level key, as the report's metadata counts them), merged by
 * title + severity. A package with its own advisory is titled by the first advisory; a package vulnerable only
 * through dependencies is titled by its name (CWE-1035).
 */
import type { ParseResult, ParsedFinding, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, asArray, cvssVersion, isObject, num, parseCwe, ScanFormatError, str, vulnIds } from './util.js'
import { NPM_DEFAULT_CWE, npmPurl, npmSeverity } from './js-secrets-common.js'

const WHERE = 'npm audit (v7+) report'
const GHSA_IN_URL = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i

function reportOf(root: Record<string, unknown>): Record<string, unknown> | undefined {
  if (isObject(root.audit)) return root.audit
  return root
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const report = reportOf(doc.json)
  if (!report || report.auditReportVersion === undefined) return 0
  return isObject(report.vulnerabilities) ? 1 : 0.6
}

function describe(node: Record<string, unknown>, tree: Record<string, unknown>): string {
  const lines: string[] = [`${str(node.name) ?? '?'} ${str(node.range) ?? ''}`.trim(), `Severity: ${str(node.severity) ?? 'unknown'}`]
  for (const via of asArray(node.via)) {
    if (typeof via === 'string') lines.push(`Depends on vulnerable versions of ${via}`)
    else if (isObject(via)) lines.push(`${str(via.title) ?? 'Advisory'}${str(via.url) ? ` - ${str(via.url)}` : ''}`)
  }
  const fix = node.fixAvailable
  if (isObject(fix)) lines.push(`Fix available: update ${str(fix.name) ?? '?'} to version ${str(fix.version) ?? '?'}${fix.isSemVerMajor === true ? ' (semver major)' : ''}`)
  else if (fix === true) lines.push('Fix available: npm audit fix')
  else lines.push('No fix available from the tool.')
  for (const n of asArray(node.nodes)) if (typeof n === 'string') lines.push(n)
  const effects = asArray(node.effects).filter((e): e is string => typeof e === 'string')
  if (effects.length) {
    lines.push('Affects:')
    for (const e of effects.slice(0, 50)) {
      const eff = tree[e]
      lines.push(`  ${e}${isObject(eff) && str(eff.range) ? ` ${str(eff.range)}` : ''}`)
    }
    if (effects.length > 50) lines.push(`  … and ${effects.length - 50} more`)
  }
  return lines.join('\n')
}

function parse(doc: ScanDocument): ParseResult {
  const root = doc.json
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object`)
  const report = reportOf(root)!
  if (!report.auditReportVersion) {
    throw new ScanFormatError(`${WHERE}: no "auditReportVersion": this parser only reads npm audit 7 and above (use npm_audit for npm 6)`)
  }
  const tree = report.vulnerabilities
  if (!isObject(tree)) throw new ScanFormatError(`${WHERE}: "vulnerabilities" must be an object of packages`)

  const assets = new AssetCollector()
  const assetKey = assets.add('BUILD', { buildFile: doc.filename || 'package-lock.json' })
  const byKey = new Map<string, ParsedFinding>()
  for (const [pkg, node] of Object.entries(tree)) {
    if (!isObject(node)) throw new ScanFormatError(`${WHERE}: vulnerability "${pkg}" must be an object`)
    if (node.via !== undefined && !Array.isArray(node.via)) throw new ScanFormatError(`${WHERE}: vulnerability "${pkg}" "via" must be an array`)
    const name = str(node.name) ?? pkg
    const severity = npmSeverity(node.severity)
    const via = asArray(node.via)
    const first = via[0]
    const advisories = via.filter(isObject)
    let title = name
    let cwe: number[] = []
    let ruleId: string | undefined
    let cvss: ParsedFinding['cvss']
    const references: string[] = []
    if (typeof first === 'string') {
      cwe = [NPM_DEFAULT_CWE]
    } else if (isObject(first)) {
      title = str(first.title) ?? name
      cwe = parseCwe(first.cwe)
      ruleId = str(first.source)
      const c = isObject(first.cvss) ? first.cvss : undefined
      const vector = str(c?.vectorString)
      const score = num(c?.score)
      if (vector || (score !== undefined && score > 0)) {
        cvss = { ...(vector ? { vector } : {}), ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) }
      }
    }
    for (const a of advisories) {
      const u = str(a.url)
      if (u && !references.includes(u)) references.push(u)
    }
    const ids = vulnIds(...advisories.map((a) => GHSA_IN_URL.exec(str(a.url) ?? '')?.[0]))
    const fix = node.fixAvailable
    const remedy = isObject(fix)
      ? `Update ${str(fix.name) ?? name} to version ${str(fix.version) ?? 'latest'}${fix.isSemVerMajor === true ? ' (semver major change)' : ''}`
      : fix === true ? 'Run npm audit fix' : 'No specific mitigation provided by tool.'
    const nodes = asArray(node.nodes).filter((n): n is string => typeof n === 'string')
    const finding: ParsedFinding = {
      assetKey,
      title,
      description: describe(node, tree),
      remedy,
      severity,
      ...(str(node.severity) ? { scannerSeverity: str(node.severity)! } : {}),
      ...(ids.length ? { vulnerabilityIds: ids } : {}),
      ...(cwe.length ? { cwe } : {}),
      ...(cvss ? { cvss } : {}),
      component: { name, purl: npmPurl(name, undefined)!, ecosystem: 'npm' },
      ...(nodes[0] ? { location: { path: nodes[0] } } : {}),
      ...(ruleId ? { ruleId } : {}),
      ...(references.length ? { references } : {}),
      extra: {
        ...(str(node.range) ? { range: str(node.range) } : {}),
        ...(typeof node.isDirect === 'boolean' ? { isDirect: node.isDirect } : {}),
        ...(advisories.length > 1 ? { advisories: advisories.length } : {}),
      },
    }
    const key = title + severity
    const prev = byKey.get(key)
    byKey.set(key, { ...finding, occurrences: (prev?.occurrences ?? 0) + 1 })
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'npm_audit_7_plus',
  label: 'npm audit (npm 7 and later)',
  aliases: ['NPM Audit v7+ Scan', 'npm7_audit'],
  formats: ['json'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
