/**
 * OWASP Dependency-Check XML report (`<analysis>` root, dependency-check.*.xsd namespace). DefectDojo's
 * "Dependency Check Scan": one finding per `vulnerability` and per `suppressedVulnerability` of each dependency,
 * title "{component}:{version} | {name}", component from the package URL, else the CPE, maven identifier or
 * collected evidence (else the file name), severity from the CVSS v3 metrics when present (else the cvssV2 or
 * the report's word; unknown → medium), CWE-1035 when none is given; findings with the same title, CWE and file
 * are merged (first kept). Suppressed vulnerabilities are mitigated, with the suppression notes as the reason.
 * Related dependencies are listed in the description, not turned into findings (DefectDojo ≥2.50).
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity, XmlNode } from './types.js'
import { AssetCollector, attr, isObject, num, ScanFormatError, severityFromCvss, str } from './util.js'
import { cvss3BaseScore, ecosystemOfPurl, localKid, localKids, localName, localText, parsePurl } from './sca-common.js'

const WHERE = 'Dependency-Check report'
const SEVERITY: Record<string, Severity> = { info: 'info', low: 'low', moderate: 'medium', medium: 'medium', high: 'high', critical: 'critical' }
const CVSS3_KEYS: [string, string, Record<string, string>][] = [
  ['AV', 'attackVector', { NETWORK: 'N', ADJACENT_NETWORK: 'A', ADJACENT: 'A', LOCAL: 'L', PHYSICAL: 'P', N: 'N', A: 'A', L: 'L', P: 'P' }],
  ['AC', 'attackComplexity', { LOW: 'L', HIGH: 'H', L: 'L', H: 'H' }],
  ['PR', 'privilegesRequired', { NONE: 'N', LOW: 'L', HIGH: 'H', N: 'N', L: 'L', H: 'H' }],
  ['UI', 'userInteraction', { NONE: 'N', REQUIRED: 'R', N: 'N', R: 'R' }],
  ['S', 'scope', { UNCHANGED: 'U', CHANGED: 'C', U: 'U', C: 'C' }],
  ['C', 'confidentialityImpact', { NONE: 'N', LOW: 'L', HIGH: 'H', N: 'N', L: 'L', H: 'H' }],
  ['I', 'integrityImpact', { NONE: 'N', LOW: 'L', HIGH: 'H', N: 'N', L: 'L', H: 'H' }],
  ['A', 'availabilityImpact', { NONE: 'N', LOW: 'L', HIGH: 'H', N: 'N', L: 'L', H: 'H' }],
]
const CVE_PREFIX = /^CVE-\d{4}-\d{4,7}/
const CWE_FIELD = /^(CWE-)?(\d+)/

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'xml' || localName(doc.xmlRoot) !== 'analysis' || !doc.xml) return 0
  const root = doc.xml[doc.xmlRoot!]
  const ns = isObject(root) ? str(root['@_xmlns']) ?? '' : ''
  if (ns.includes('DependencyCheck') || ns.includes('dependency-check')) return 1
  if (isObject(root) && (localKid(root, 'dependencies') || localKid(root, 'projectInfo')) && localKid(root, 'scanInfo')) return 0.8
  return 0
}

interface Component { name?: string; version?: string; purl?: string }

/** "cpe:/a:vendor:product:version" and "cpe:2.3:a:vendor:product:version:…" → vendor, product, version. */
function cpeParts(cpe: string): { vendor?: string; product?: string; version?: string } {
  const unescape = (s: string | undefined) => (s && s !== '*' && s !== '-' ? s.replace(/\\(.)/g, '$1') : undefined)
  if (cpe.startsWith('cpe:2.3:')) {
    const p = cpe.slice(8).split(/(?<!\\):/)
    return { vendor: unescape(p[1]), product: unescape(p[2]), version: unescape(p[3]) }
  }
  if (cpe.startsWith('cpe:/')) {
    const p = cpe.slice(5).split(':')
    return { vendor: unescape(p[1]), product: unescape(p[2]), version: unescape(p[3]) }
  }
  return {}
}

function hasChildren(node: XmlNode | undefined): boolean {
  return isObject(node) && Object.keys(node).some((k) => !k.startsWith('@_') && k !== '#text')
}

/** The first element below `node` (depth first, document order per name) that `match`es, like ElementTree's ".//x". */
function firstDescendant(node: XmlNode, match: (local: string, n: XmlNode) => boolean): XmlNode | undefined {
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_') || k === '#text') continue
    const local = localName(k)
    for (const c of Array.isArray(v) ? v : [v]) {
      if (!isObject(c)) continue
      if (match(local, c)) return c
      const deeper = firstDescendant(c, match)
      if (deeper) return deeper
    }
  }
  return undefined
}

/** DefectDojo's order: package URL, CPE identifier, maven identifier (group:artifact:version), evidence. */
function componentOf(dependency: XmlNode): Component {
  const identifiers = localKid(dependency, 'identifiers')
  if (identifiers) {
    const pkg = firstDescendant(identifiers, (k) => k === 'package')
    const id = localText(pkg, 'id')
    if (pkg && id) {
      const p = parsePurl(id)
      if (p) {
        const name = `${p.namespace ? `${p.namespace}:` : ''}${p.name}`
        return { ...(name ? { name } : {}), version: p.version ?? '', purl: id }
      }
    }
    const cpe = firstDescendant(identifiers, (k, n) => k === 'identifier' && attr(n, 'type') === 'cpe')
    if (cpe && hasChildren(cpe)) {
      const parts = cpeParts(localText(cpe, 'name') ?? '')
      const name = `${parts.vendor ? `${parts.vendor}:` : ''}${parts.product ?? ''}`
      return { ...(name ? { name } : {}), ...(parts.version ? { version: parts.version } : {}) }
    }
    const maven = firstDescendant(identifiers, (k, n) => k === 'identifier' && attr(n, 'type') === 'maven')
    if (maven) {
      const parts = (localText(maven, 'name') ?? '').split(':')
      if (parts.length === 3) return { name: `${parts[0]}:${parts[1]}`, version: parts[2]! }
    }
  }
  const evidence = localKid(dependency, 'evidenceCollected')
  if (evidence) {
    const all = localKids(evidence, 'evidence')
    const product = all.find((e) => attr(e, 'type') === 'product')
    if (product) {
      const version = all.find((e) => attr(e, 'type') === 'version')
      const v = version ? localText(version, 'value') : undefined
      return { ...(localText(product, 'value') ? { name: localText(product, 'value')! } : {}), ...(v !== undefined ? { version: v } : {}) }
    }
  }
  return {}
}

function severityAndCvss(v: XmlNode): { severity: Severity; word?: string; cvss?: ParsedFinding['cvss'] } {
  let word = localText(v, 'severity')
  let cvss: ParsedFinding['cvss']
  let fromCvss: Severity | undefined
  const v3 = localKid(v, 'cvssV3')
  const v2 = localKid(v, 'cvssV2')
  if (v3) {
    const parts: string[] = []
    for (const [abbr, field, map] of CVSS3_KEYS) {
      const value = map[(localText(v3, field) ?? '').toUpperCase()]
      if (!value) break
      parts.push(`${abbr}:${value}`)
    }
    if (parts.length === CVSS3_KEYS.length) {
      const declared = localText(v3, 'version')
      const vector = `CVSS:${declared === '3.0' || declared === '3.1' ? declared : '3.1'}/${parts.join('/')}`
      const score = cvss3BaseScore(vector) ?? num(localText(v3, 'baseScore'))
      cvss = { vector, ...(score !== undefined ? { score } : {}), version: vector.slice(5, 8) }
      fromCvss = severityFromCvss(score)
    }
    word ??= localText(v3, 'baseSeverity')
  } else if (v2) {
    const v2word = localText(v2, 'severity')
    if (v2word) word = v2word
    const score = num(localText(v2, 'score'))
    if (score !== undefined) cvss = { score, version: '2.0' }
  }
  const severity = fromCvss ?? (word ? SEVERITY[word.trim().toLowerCase()] ?? 'medium' : 'medium')
  return { severity, ...(word ? { word } : {}), ...(cvss ? { cvss } : {}) }
}

function relatedBlock(dependency: XmlNode): string {
  const lines: string[] = []
  for (const rd of localKids(localKid(dependency, 'relatedDependencies'), 'relatedDependency')) {
    const fileName = localText(rd, 'fileName')
    if (!fileName) continue
    const filePath = localText(rd, 'filePath')
    lines.push(filePath ? `- ${fileName} (${filePath})` : `- ${fileName}`)
  }
  return lines.length ? `\nRelated file paths:\n${lines.join('\n')}` : ''
}

function finding(dependency: XmlNode, v: XmlNode, suppressed: boolean, fileName: string, component: Component, related: string, assetKey: string): ParsedFinding {
  const name = localText(v, 'name') ?? ''
  const cwesNode = localKid(v, 'cwes')
  const cweFields = cwesNode ? localKids(cwesNode, 'cwe').map((c) => str(c)).filter((s): s is string => s !== undefined) : [localText(v, 'cwe')].filter((s): s is string => s !== undefined)
  const cwe: number[] = []
  for (const field of cweFields) {
    const m = CWE_FIELD.exec(field)
    if (m && Number(m[2]) > 0 && !cwe.includes(Number(m[2]))) cwe.push(Number(m[2]))
  }
  if (cwe.length === 0) cwe.push(1035)

  const componentName = component.name ?? fileName
  const componentVersion = component.version
  const versionText = componentVersion ?? 'None'
  const source = attr(v, 'source')
  const notes = localText(v, 'notes')
  const filePath = localText(dependency, 'filePath')

  let description = localText(v, 'description') ?? ''
  if (source) description += `\nSource: ${source}`
  if (!suppressed) description += `\nFilepath: ${filePath ?? 'None'}`
  description += related

  let remedy = `Update ${componentName}:${versionText} to at least the version recommended in the description`
  const tags: string[] = []
  if (suppressed) {
    if (!notes) tags.push('no_suppression_document')
    tags.push('suppressed')
    remedy = `This vulnerability is mitigated and/or suppressed: ${notes ?? 'Document on why we are suppressing this vulnerability is missing!'}\n${remedy}`
  }

  const references: string[] = []
  for (const r of localKids(localKid(v, 'references'), 'reference')) {
    const url = localText(r, 'url')
    if (url && !references.includes(url)) references.push(url)
  }
  const { severity, word, cvss } = severityAndCvss(v)
  const cve = CVE_PREFIX.exec(name)?.[0]

  return {
    assetKey,
    title: `${componentName}:${versionText} | ${name}`,
    description: description.trim(),
    remedy,
    severity,
    ...(word ? { scannerSeverity: word } : {}),
    ...(cve ? { vulnerabilityIds: [cve] } : /^GHSA-/i.test(name) ? { vulnerabilityIds: [name] } : {}),
    cwe,
    ...(cvss ? { cvss } : {}),
    component: {
      name: componentName,
      ...(componentVersion ? { version: componentVersion } : {}),
      ...(component.purl ? { purl: component.purl } : {}),
      ...(ecosystemOfPurl(parsePurl(component.purl)) ? { ecosystem: ecosystemOfPurl(parsePurl(component.purl))! } : {}),
    },
    location: { path: fileName },
    ruleId: name,
    ...(suppressed ? { status: 'mitigated' as const, statusReason: notes ?? 'suppressed in Dependency-Check (no suppression notes)' } : {}),
    ...(references.length ? { references } : {}),
    ...(tags.length ? { tags } : {}),
    ...(source ? { extra: { source } } : {}),
  }
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  if (doc.kind !== 'xml' || !doc.xml) throw new ScanFormatError(`${WHERE}: expected the XML report (--format XML)`)
  const rootName = doc.xmlRoot ?? ''
  if (localName(rootName) !== 'analysis') throw new ScanFormatError(`${WHERE}: the XML root element is <${rootName}>, not <analysis>`)
  const root = doc.xml[rootName]
  const assets = new AssetCollector()
  const findings = new Map<string, ParsedFinding>()
  if (!isObject(root)) return { assets: [], findings: [] }

  const project = localKid(root, 'projectInfo')
  const projectName = localText(project, 'name') ??
    (localText(project, 'artifactID') ? [localText(project, 'groupID'), localText(project, 'artifactID')].filter(Boolean).join(':') : undefined)
  let assetKey: string | undefined
  let skipped = 0

  for (const dependency of localKids(localKid(root, 'dependencies'), 'dependency')) {
    const vulnerabilities = localKid(dependency, 'vulnerabilities')
    if (!vulnerabilities) continue
    const vulns = localKids(vulnerabilities, 'vulnerability')
    const suppressed = localKids(vulnerabilities, 'suppressedVulnerability')
    if (vulns.length === 0 && suppressed.length === 0) continue
    const fileName = localText(dependency, 'fileName')
    if (!fileName) {
      skipped += vulns.length + suppressed.length
      continue
    }
    assetKey ??= assets.add('BUILD', { buildFile: projectName ?? doc.filename })
    const component = componentOf(dependency)
    const related = relatedBlock(dependency)
    for (const [list, isSuppressed] of [[vulns, false], [suppressed, true]] as const) {
      for (const v of list) {
        const f = finding(dependency, v, isSuppressed, fileName, component, related, assetKey)
        const key = `${f.title}|${f.cwe?.[0] ?? ''}|${fileName.toLowerCase()}`
        const existing = findings.get(key)
        if (existing) existing.occurrences = (existing.occurrences ?? 1) + 1
        else findings.set(key, f)
      }
    }
  }
  if (skipped > 0) ctx.warn(`${WHERE}: ${skipped} vulnerabilit${skipped === 1 ? 'y' : 'ies'} of dependencies without a file name were skipped`)
  return { assets: assets.list(), findings: [...findings.values()] }
}

export const parser: ScannerParser = {
  id: 'dependency_check',
  label: 'OWASP Dependency-Check',
  aliases: ['Dependency Check Scan', 'owasp_dependency_check', 'dependencycheck'],
  formats: ['xml'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
