/**
 * Snyk CLI JSON (`snyk test --json`, `snyk container test --json`): one project object, or an array of them for
 * `--all-projects`. DefectDojo's "Snyk Scan": one finding per entry of each project's `vulnerabilities` (the same
 * advisory reached through several dependency paths is several findings), title "{from[0]}: {title}", severity
 * from `cvssScore` (≤3.9 low, ≤6.9 medium, ≤8.9 high, else critical) or the Snyk word when there is no score,
 * file path = the dependency path without versions. A SARIF document is delegated to the Snyk Code parser.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, cvssVersion, isObject, num, parseCwe, ScanFormatError, severityFromText, str, vulnIds } from './util.js'
import { cvss3Vector } from './sca-common.js'
import { snykCodeFindings } from './snyk_code.js'

const WHERE = 'Snyk report'
const CVE_ONLY = /^CVE-/i

function isSnykProject(v: unknown): v is Record<string, unknown> {
  return isObject(v) && Array.isArray(v.vulnerabilities) &&
    ('packageManager' in v || 'dependencyCount' in v || 'uniqueCount' in v || 'ok' in v)
}

function isSnykError(v: unknown): boolean {
  return isObject(v) && v.ok === false && typeof v.error === 'string' && !('vulnerabilities' in v)
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  const root = Array.isArray(doc.json) ? doc.json[0] : doc.json
  if (isSnykProject(root)) {
    const r = root as Record<string, unknown>
    const strong = 'packageManager' in r && ('dependencyCount' in r || 'uniqueCount' in r || 'ok' in r)
    return strong ? 1 : 0.7
  }
  if (isSnykError(root)) return 0.6
  return 0
}

function severityFromScore(score: number): Severity {
  if (score <= 3.9) return 'low'
  if (score <= 6.9) return 'medium'
  if (score <= 8.9) return 'high'
  return 'critical'
}

/** "name@1.2.3" → "name" (DefectDojo: everything before the last "@"; "" when there is none). */
function withoutVersion(item: string): string {
  const at = item.lastIndexOf('@')
  return at < 0 ? '' : item.slice(0, at)
}

interface Upgrade { from: string; to: string; upgrades: string[]; vulns: Set<string> | undefined; names: string[] }

interface ProjectContext {
  assetKey: string
  targetFile: string | undefined
  upgrades: Upgrade[]
}

function readUpgrades(tree: Record<string, unknown>): Upgrade[] {
  const remediation = isObject(tree.remediation) ? tree.remediation : undefined
  const upgrade = remediation && isObject(remediation.upgrade) ? remediation.upgrade : undefined
  if (!upgrade) return []
  const out: Upgrade[] = []
  for (const [from, meta] of Object.entries(upgrade)) {
    if (!isObject(meta)) continue
    const to = str(meta.upgradeTo)
    if (!to) continue
    const upgrades = Array.isArray(meta.upgrades) ? meta.upgrades.map((u) => String(u)) : []
    const vulns = Array.isArray(meta.vulns) ? new Set(meta.vulns.map((v) => String(v))) : undefined
    out.push({ from, to, upgrades, vulns, names: upgrades.map((u) => u.split('@')[0] ?? '').filter((n) => n !== '') })
  }
  return out
}

/** The image of a `snyk container test` project: projectName "docker-image|name", tag from `path` when it has one. */
function containerImage(tree: Record<string, unknown>): string | undefined {
  const projectName = str(tree.projectName)
  const name = projectName?.startsWith('docker-image|') ? projectName.slice('docker-image|'.length) : undefined
  const path = str(tree.path)
  if (name && path?.startsWith(`${name}:`)) {
    const tag = path.slice(name.length + 1).split('/')[0]
    return tag ? `${name}:${tag}` : name
  }
  return name ?? (path && !path.includes('\\') && !path.startsWith('/') ? path : undefined)
}

function projectContext(tree: Record<string, unknown>, assets: AssetCollector, doc: ScanDocument): ProjectContext {
  const targetFile = str(tree.displayTargetFile) ?? str(tree.targetFile)
  const projectName = str(tree.projectName)
  const isContainer = isObject(tree.docker) || projectName?.startsWith('docker-image|') === true
  let assetKey: string
  const image = isContainer ? containerImage(tree) : undefined
  if (image) {
    assetKey = assets.add('CONTAINER', { image, ...(targetFile ? { dockerfile: targetFile } : {}) })
  } else {
    assetKey = assets.add('BUILD', { buildFile: targetFile ?? projectName ?? str(tree.path) ?? doc.filename })
  }
  return { assetKey, targetFile, upgrades: readUpgrades(tree) }
}

function requireString(v: Record<string, unknown>, key: string, index: number): string {
  const s = str(v[key])
  if (s === undefined) throw new ScanFormatError(`${WHERE}: vulnerabilities[${index}] has no "${key}"`)
  return s
}

function finding(v: unknown, index: number, p: ProjectContext): ParsedFinding {
  if (!isObject(v)) throw new ScanFormatError(`${WHERE}: vulnerabilities[${index}] must be an object`)
  const from = Array.isArray(v.from) ? v.from.map((x) => String(x)) : undefined
  if (!from || from.length === 0) throw new ScanFormatError(`${WHERE}: vulnerabilities[${index}] has no "from" dependency path`)
  const title = requireString(v, 'title', index)
  const id = requireString(v, 'id', index)
  const packageName = str(v.packageName) ?? str(v.name)
  if (!packageName) throw new ScanFormatError(`${WHERE}: vulnerabilities[${index}] has no "packageName"`)
  const version = str(v.version)
  const semver = isObject(v.semver) ? v.semver : {}
  const vulnerable = Array.isArray(semver.vulnerable) ? semver.vulnerable.map((x) => String(x)).join(', ') : str(semver.vulnerable) ?? ''

  const word = str(v.severity)
  let severity: Severity
  const score = num(v.cvssScore)
  if ('cvssScore' in v && score !== undefined) severity = severityFromScore(score)
  else {
    const s = severityFromText(word)
    if (!s) throw new ScanFormatError(`${WHERE}: vulnerabilities[${index}] (${id}) has neither a cvssScore nor a known severity`)
    severity = s
  }

  const text = str(v.description) ?? ''
  const description = [
    `Vulnerable package: ${packageName}`,
    `Current version: ${version ?? 'unknown'}`,
    `Vulnerable version(s): ${vulnerable}`,
    `Vulnerable path: ${from.join(' > ')}`,
    '',
    text,
  ].join('\n').trim()

  // Remediation: the "## Remediation" section of Snyk's markdown, then where and what to upgrade (DefectDojo's layout).
  let remedy = ''
  const ri = text.indexOf('## Remediation')
  const fi = text.indexOf('## References')
  if (ri !== -1 && fi !== -1 && fi > ri) remedy = text.slice(ri, fi)
  const tags: string[] = []
  if (p.targetFile) {
    tags.push(`target_file:${p.targetFile}`)
    remedy += `\nUpgrade Location: ${p.targetFile}`
  }
  for (const u of p.upgrades) {
    // Snyk lists the advisories each upgrade fixes; older reports without that list fall back to DefectDojo's
    // test (a package named in the upgrade list appears in the remediation text).
    const applies = u.vulns ? u.vulns.has(id) : u.names.some((n) => remedy.includes(n))
    if (!applies) continue
    tags.push(`upgrade_to:${u.to}`)
    remedy += `\nUpgrade from ${u.from} to ${u.to} to fix this issue, as well as updating the following:\n - ${u.upgrades.join('\n - ')}`
  }

  const identifiers = isObject(v.identifiers) ? v.identifiers : undefined
  let cwe: number[] = []
  if (identifiers && 'CWE' in identifiers) {
    cwe = parseCwe(identifiers.CWE)
    if (cwe.length === 0) cwe = [1035]
  }
  const ids = identifiers ? vulnIds(identifiers.CVE, identifiers.GHSA, id) : vulnIds(id)
  // CVEs first (DefectDojo keeps only those), then other advisory ids, then Snyk's own.
  ids.sort((a, b) => Number(!CVE_ONLY.test(a)) - Number(!CVE_ONLY.test(b)))

  const vector = cvss3Vector(v.CVSSv3) ?? str(v.CVSSv3)
  const epss = isObject(v.epssDetails) ? v.epssDetails : undefined
  const epssScore = epss ? num(epss.probability) : undefined
  const epssPct = epss ? num(epss.percentile) : undefined
  const fixedIn = Array.isArray(v.fixedIn) ? v.fixedIn.map((x) => String(x)).filter((x) => x !== '') : []
  const refs = [`https://security.snyk.io/vuln/${id}`]
  if (Array.isArray(v.references)) for (const r of v.references) if (isObject(r) && str(r.url)) refs.push(str(r.url)!)

  return {
    assetKey: p.assetKey,
    title: `${from[0]}: ${title}`,
    description,
    ...(remedy.trim() ? { remedy: remedy.trim() } : {}),
    ...(fixedIn.length ? { fixVersion: fixedIn.join(', ') } : {}),
    severity,
    ...(word ? { scannerSeverity: word } : {}),
    vulnerabilityIds: ids,
    ...(cwe.length ? { cwe } : {}),
    ...(vector || score !== undefined ? { cvss: { ...(vector ? { vector } : {}), ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) } } : {}),
    ...(epssScore !== undefined ? { epss: { score: epssScore, ...(epssPct !== undefined ? { percentile: epssPct } : {}) } } : {}),
    component: {
      name: packageName,
      ...(version ? { version } : {}),
      ...(str(v.packageManager) ?? str(v.language) ? { ecosystem: (str(v.packageManager) ?? str(v.language))! } : {}),
    },
    location: { path: from.map((item, i) => (i === 0 ? withoutVersion(item) : ` > ${withoutVersion(item)}`)).join('') },
    ruleId: id,
    references: refs,
    ...(tags.length ? { tags } : {}),
    extra: {
      ...(p.targetFile ? { targetFile: p.targetFile } : {}),
      ...(str(v.type) ? { type: str(v.type) } : {}),
      ...(str(v.exploit) ? { exploit: str(v.exploit) } : {}),
      ...(typeof v.isUpgradable === 'boolean' ? { isUpgradable: v.isUpgradable } : {}),
      ...(typeof v.isPatchable === 'boolean' ? { isPatchable: v.isPatchable } : {}),
    },
  }
}

function processTree(tree: unknown, index: number, assets: AssetCollector, doc: ScanDocument, ctx: ParseContext): ParsedFinding[] {
  if (tree === null || tree === undefined || (isObject(tree) && Object.keys(tree).length === 0)) return []
  if (!isObject(tree)) throw new ScanFormatError(`${WHERE}: project ${index} must be an object`)
  if (isSnykError(tree)) throw new ScanFormatError(`${WHERE}: Snyk reported an error instead of results: ${str(tree.error)}`)
  if ('vulnerabilities' in tree) {
    if (!Array.isArray(tree.vulnerabilities)) throw new ScanFormatError(`${WHERE}: "vulnerabilities" of project ${index} must be an array`)
    const p = projectContext(tree, assets, doc)
    if (Array.isArray(tree.applications) && tree.applications.length > 0) {
      ctx.warn(`${WHERE}: the ${tree.applications.length} application project(s) nested in the container project are not imported (as DefectDojo does); import them with --json-file-output per project`)
    }
    if (Array.isArray(tree.infrastructureAsCodeIssues) && tree.infrastructureAsCodeIssues.length > 0) {
      ctx.warn(`${WHERE}: ${tree.infrastructureAsCodeIssues.length} infrastructure-as-code issue(s) of ${str(tree.targetFile) ?? 'a project'} are not imported (Snyk IaC results are not read by this parser)`)
    }
    return tree.vulnerabilities.map((v, i) => finding(v, i, p))
  }
  if (Array.isArray(tree.runs)) {
    // DefectDojo delegates SARIF (Snyk Code) to its Snyk Code parser.
    const first = tree.runs[0]
    if (!isObject(first) || !Array.isArray(first.results) || first.results.length === 0) return []
    return snykCodeFindings(tree, assets, doc.filename || 'snyk-code', ctx)
  }
  return []
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  if (doc.kind !== 'json') throw new ScanFormatError(`${WHERE}: expected JSON (snyk test --json)`)
  const root = doc.json
  if (!Array.isArray(root) && !isObject(root)) throw new ScanFormatError(`${WHERE}: expected a project object or an array of projects`)
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  const trees = Array.isArray(root) ? root : [root]
  for (const [i, tree] of trees.entries()) {
    for (const f of processTree(tree, i, assets, doc, ctx)) findings.push(f)
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'snyk',
  label: 'Snyk CLI (open source and container)',
  aliases: ['Snyk Scan', 'snyk_open_source', 'snyk_container'],
  formats: ['json'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
