/**
 * osv-scanner (`osv-scanner --format json`): `{ results: [ { source: { path, type }, packages: [ { package:
 * { name, version, ecosystem }, vulnerabilities: [OSV records], groups } ] } ] }`. DefectDojo's "OSV Scan": one
 * finding per vulnerability per package per source, title "{id}_{package}", severity from the advisory's
 * database_specific.severity (MODERATE → medium, none → low), CWE from affected[0].database_specific.cwes,
 * fix versions from affected[0].ranges, file path = the scanned lockfile.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, asArray, cvssVersion, isObject, jsonKeys, parseCwe, ScanFormatError, severityFromText, str, vulnIds } from './util.js'
import { cvss3BaseScore, ecosystemOfPurl, parsePurl } from './sca-common.js'

const WHERE = 'osv-scanner report'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.results)) return 0
  const first = root.results[0]
  if (isObject(first) && isObject(first.source) && 'packages' in first) return 1
  const keys = jsonKeys(doc)
  // An empty result list: osv-scanner's envelope (experimental_config) or nothing but "results".
  if (first === undefined && (keys.has('experimental_config') || keys.size === 1)) return keys.has('experimental_config') ? 0.8 : 0.3
  return 0
}

const VERSION_PARTS = /[.\-+_~:]/

/** A loose version comparison (numeric where both parts are numbers), enough to place a version in a range. */
function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/i, '').split(VERSION_PARTS)
  const pb = b.replace(/^v/i, '').split(VERSION_PARTS)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0'
    const y = pb[i] ?? '0'
    if (x === y) continue
    const nx = Number(x)
    const ny = Number(y)
    if (Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny
    return x < y ? -1 : 1
  }
  return 0
}

function severityOf(word: string | undefined): Severity {
  if (!word) return 'low'
  if (word.toUpperCase() === 'MODERATE') return 'medium'
  return severityFromText(word) ?? 'low'
}

function finding(
  vuln: Record<string, unknown>, pkg: { name?: string; version?: string; ecosystem?: string },
  source: { path?: string; type?: string }, assetKey: string,
): ParsedFinding {
  const id = str(vuln.id) ?? ''
  const summary = str(vuln.summary)
  const details = str(vuln.details)
  const affected0 = asArray(vuln.affected as unknown)[0]
  const aff = isObject(affected0) ? affected0 : undefined
  const affPkg = aff && isObject(aff.package) ? aff.package : undefined
  const purlText = affPkg ? str(affPkg.purl) : undefined
  const dbSpecific = aff && isObject(aff.database_specific) ? aff.database_specific : undefined
  const cwe = dbSpecific ? parseCwe(asArray(dbSpecific.cwes as unknown).map((c) => (isObject(c) ? c.cweId : c))) : []

  // Fixed versions by range type (GIT fixes are commits in the range's repository), over every `affected` entry of
  // the package; the fix version is the one closing the range the installed version falls in.
  const fixByType = new Map<string, string[]>()
  let fixVersion: string | undefined
  let firstFix: string | undefined
  for (const entry of asArray(vuln.affected as unknown)) {
    if (!isObject(entry)) continue
    const ep = isObject(entry.package) ? str(entry.package.name) : undefined
    if (entry !== aff && ep !== undefined && pkg.name !== undefined && ep !== pkg.name) continue
    for (const range of asArray(entry.ranges as unknown)) {
      if (!isObject(range)) continue
      const type = str(range.type) ?? ''
      const repo = str(range.repo)
      let introduced: string | undefined
      for (const ev of asArray(range.events as unknown)) {
        if (!isObject(ev)) continue
        if (str(ev.introduced)) introduced = str(ev.introduced)
        const fixed = str(ev.fixed)
        if (!fixed) continue
        const value = type === 'GIT' && repo ? `${repo}/commit/${fixed}` : fixed
        const list = fixByType.get(type) ?? []
        if (!list.includes(value)) list.push(value)
        fixByType.set(type, list)
        if (type === 'GIT') continue
        firstFix ??= fixed
        if (fixVersion === undefined && pkg.version !== undefined &&
          (introduced === undefined || introduced === '0' || compareVersions(pkg.version, introduced) >= 0) &&
          compareVersions(pkg.version, fixed) < 0) fixVersion = fixed
      }
    }
  }
  fixVersion ??= firstFix
  let remedy: string | undefined
  if (fixByType.size > 0) {
    remedy = 'Upgrade to versions:'
    for (const [type, versions] of fixByType) remedy += `\n${type}:\n${versions.map((v) => `  - ${v}`).join('\n')}`
  }

  const references = asArray(vuln.references as unknown).map((r) => (isObject(r) ? str(r.url) : undefined)).filter((u): u is string => u !== undefined)
  const dbSeverity = isObject(vuln.database_specific) ? str(vuln.database_specific.severity) : undefined

  // CVSS: the OSV `severity` list carries vectors (CVSS_V3 / CVSS_V4); severity itself stays DefectDojo's.
  let cvss: ParsedFinding['cvss']
  for (const s of asArray(vuln.severity as unknown)) {
    if (!isObject(s)) continue
    const vector = str(s.score)
    if (!vector || !vector.startsWith('CVSS:')) continue
    const score = cvss3BaseScore(vector)
    const c = { vector, ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) }
    if (!cvss || (str(s.type) === 'CVSS_V3' && !cvss.vector?.startsWith('CVSS:3'))) cvss = c
  }
  const purl = parsePurl(purlText)
  const description = [
    summary,
    `Source type: ${source.type ?? ''}`,
    `Package ecosystem: ${pkg.ecosystem ?? ''}`,
    details ? `Details: ${details}` : undefined,
    purlText ? `Package purl: ${purlText}` : undefined,
  ].filter((x) => x !== undefined).join('\n')

  return {
    assetKey,
    title: `${id}_${pkg.name ?? 'None'}`,
    description,
    ...(remedy ? { remedy } : {}),
    ...(fixVersion ? { fixVersion } : {}),
    severity: severityOf(dbSeverity),
    ...(dbSeverity ? { scannerSeverity: dbSeverity } : {}),
    vulnerabilityIds: vulnIds(id, vuln.aliases),
    ...(cwe.length ? { cwe } : {}),
    ...(cvss ? { cvss } : {}),
    ...(pkg.name ? {
      component: {
        name: pkg.name,
        ...(pkg.version ? { version: pkg.version } : {}),
        ...(purlText ? { purl: pkg.version && !purlText.includes('@') ? `${purlText}@${pkg.version}` : purlText } : {}),
        ...(pkg.ecosystem ?? ecosystemOfPurl(purl) ? { ecosystem: (pkg.ecosystem ?? ecosystemOfPurl(purl))! } : {}),
      },
    } : {}),
    ...(source.path ? { location: { path: source.path } } : {}),
    ruleId: id,
    ...(references.length ? { references } : {}),
    extra: {
      ...(source.type ? { sourceType: source.type } : {}),
      ...(str(vuln.published) ? { published: str(vuln.published) } : {}),
    },
  }
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = doc.json
  if (doc.kind !== 'json' || !isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object with "results"`)
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  if (root.results === undefined || root.results === null) return { assets: [], findings }
  if (!Array.isArray(root.results)) throw new ScanFormatError(`${WHERE}: "results" must be an array`)
  for (const [ri, result] of root.results.entries()) {
    if (!isObject(result)) throw new ScanFormatError(`${WHERE}: results[${ri}] must be an object`)
    const src = isObject(result.source) ? result.source : {}
    const source = { path: str(src.path), type: str(src.type) }
    const packages = result.packages ?? []
    if (!Array.isArray(packages)) throw new ScanFormatError(`${WHERE}: results[${ri}].packages must be an array`)
    let assetKey: string | undefined
    for (const [pi, p] of packages.entries()) {
      if (!isObject(p)) throw new ScanFormatError(`${WHERE}: results[${ri}].packages[${pi}] must be an object`)
      const vulns = p.vulnerabilities ?? []
      if (!Array.isArray(vulns)) throw new ScanFormatError(`${WHERE}: results[${ri}].packages[${pi}].vulnerabilities must be an array`)
      if (vulns.length === 0) continue
      const pk = isObject(p.package) ? p.package : {}
      const pkg = { name: str(pk.name), version: str(pk.version), ecosystem: str(pk.ecosystem) }
      assetKey ??= assets.add('BUILD', { buildFile: source.path ?? doc.filename })
      for (const [vi, v] of vulns.entries()) {
        if (!isObject(v)) throw new ScanFormatError(`${WHERE}: results[${ri}].packages[${pi}].vulnerabilities[${vi}] must be an object`)
        findings.push(finding(v, pkg, source, assetKey))
      }
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'osv_scanner',
  label: 'OSV-Scanner',
  aliases: ['OSV Scan', 'osv'],
  formats: ['json'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
