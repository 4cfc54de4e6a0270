/**
 * Trivy JSON reports (`trivy … --format json`), the three layouts DefectDojo's "Trivy Scan" reads:
 * - legacy (Trivy < 0.20): a JSON array of results `[{Target, Type, Vulnerabilities}]` (`null` when empty);
 * - `SchemaVersion: 2`: `{ArtifactName, ArtifactType, Metadata, Results: [...]}`;
 * - Kubernetes (`trivy k8s`): `{ClusterName, Vulnerabilities|Misconfigurations|Resources: [{Namespace, Kind, Name,
 *   Results}]}`.
 * Every result's Vulnerabilities, Misconfigurations, Secrets and Licenses are findings, one per entry (DefectDojo does
 * not merge inside a file). Vulnerabilities: title "{VulnerabilityID} {PkgName} {InstalledVersion}", severity from
 * Trivy's word (UNKNOWN → info), from the CVSS score when the word is missing; CVSS from the `SeveritySource` entry,
 * else nvd, ghsa, redhat, bitnami (v4 before v3 before v2); a vulnerability without PkgName, or without any severity,
 * is skipped like DefectDojo does. `Status: not_affected` (VEX) → mitigated.
 * Misconfigurations: "{ID} - {Title}"; secrets: "Secret detected in {Target} - {Title}"; licenses: "License detected
 * in {Target} - {Name}".
 * Asset from ArtifactType (REFERENCE §2): container_image → CONTAINER, aws_account → CLOUD, vm/k8s → INFRA (an EKS
 * cluster ARN → CLOUD), filesystem/repository/SBOM with packages → BUILD, only misconfigurations → CODE, only secrets
 * → REPOSITORY.
 */
import type {
  AssetAttributes, AssetType, ParseContext, ParsedFinding, ParseResult, ScanDocument, ScanFindingStatus, ScannerParser,
  Severity,
} from './types.js'
import {
  arrayField, AssetCollector, cvssVersion, isObject, num, parseCwe, ScanFormatError, severityFromCvss, severityFromText, str, strings, vulnIds,
} from './util.js'
import { arnAttributes, referenceList, trivySeverity } from './trivy-common.js'

const WHERE = 'Trivy report'
type Obj = Record<string, unknown>

/** CVSS sources DefectDojo tries after the vulnerability's own SeveritySource. */
const CVSS_SOURCES = ['nvd', 'ghsa', 'redhat', 'bitnami']
/** Vector and score fields per CVSS version, newest first, with the version to assume for a bare score. */
const CVSS_FIELDS = [['V40Vector', 'V40Score', '4.0'], ['V3Vector', 'V3Score', '3.1'], ['V2Vector', 'V2Score', '2.0']] as const
/** `Name (os version)`: how Trivy names an OS-package target (the image or host). */
const OS_TARGET = /^(.+?) \(([a-z][\w.-]*(?: [^)]*)?)\)$/i
const PKG_CLASSES = new Set(['os-pkgs', 'lang-pkgs'])

// ---------------------------------------------------------------------------------------------------------------
// detection

function looksLikeLegacyResult(v: unknown): boolean {
  return isObject(v) && typeof v.Target === 'string' && ('Vulnerabilities' in v || 'Type' in v || 'Class' in v)
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  const root = doc.json
  if (isObject(root)) {
    if ('SchemaVersion' in root && ('Results' in root || 'ArtifactType' in root || 'ArtifactName' in root)) return 1
    if (typeof root.ClusterName === 'string' && ('Vulnerabilities' in root || 'Misconfigurations' in root || 'Resources' in root)) return 1
    return 0
  }
  if (Array.isArray(root) && looksLikeLegacyResult(root[0])) {
    const first = root[0] as Obj
    return 'Vulnerabilities' in first ? 0.9 : 0.7
  }
  return 0
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

const list = (value: unknown, what: string) => arrayField(value, `${WHERE}: ${what}`)

function meaningfulName(name: string | undefined): string | undefined {
  return name && name !== '.' && name !== './' ? name : undefined
}

function osOf(metadata: unknown): string | undefined {
  if (!isObject(metadata) || !isObject(metadata.OS)) return undefined
  return [str(metadata.OS.Family), str(metadata.OS.Name)].filter(Boolean).join(' ') || undefined
}

interface Cvss { vector?: string; score?: number; version?: string }

/** The CVSS entry DefectDojo uses: the SeveritySource's, else nvd, ghsa, redhat, bitnami; v4, else v3, else v2. */
function pickCvss(v: Obj): Cvss | undefined {
  const all = v.CVSS
  if (!isObject(all)) return undefined
  let cls: Obj | undefined
  const own = typeof v.SeveritySource === 'string' ? all[v.SeveritySource] : undefined
  if (isObject(own)) cls = own
  else {
    for (const source of CVSS_SOURCES) {
      const c = all[source]
      if (isObject(c)) {
        cls = c
        break
      }
    }
  }
  if (!cls) return undefined
  for (const [vk, sk, fallbackVersion] of CVSS_FIELDS) {
    const vector = str(cls[vk])
    const score = num(cls[sk])
    if (vector === undefined && score === undefined) continue
    const version = cvssVersion(vector) ?? (vector === undefined ? fallbackVersion : undefined)
    const out: Cvss = {}
    if (vector) out.vector = vector
    if (score !== undefined) out.score = score
    if (version) out.version = version
    return out
  }
  return undefined
}

/** Trivy's vulnerability `Status` (VEX / vendor advisories) → ours. DefectDojo: not_affected → inactive, mitigated. */
function vulnStatus(status: string | undefined): { status?: ScanFindingStatus; statusReason?: string } {
  if (status === 'not_affected') return { status: 'mitigated', statusReason: 'Trivy status not_affected: the package is not affected by this vulnerability on this platform' }
  return {}
}

function misconfStatus(status: string | undefined): { status?: ScanFindingStatus; statusReason?: string } {
  switch (status?.toUpperCase()) {
    case 'PASS': return { status: 'mitigated', statusReason: 'Trivy check status PASS' }
    case 'EXCEPTION': return { status: 'risk_accepted', statusReason: 'Trivy check status EXCEPTION (an exception is configured)' }
    default: return {}
  }
}

const tagCache = new Map<string, string[] | undefined>()
/** Tags from a result's Type and Class; one shared array per combination (they repeat for every finding). */
function tagsOf(...values: (string | undefined)[]): string[] | undefined {
  const key = values.join('\u0000')
  if (tagCache.has(key)) return tagCache.get(key)
  const out = [...new Set(values.filter((v): v is string => v !== undefined))]
  const tags = out.length ? out : undefined
  if (tagCache.size < 1000) tagCache.set(key, tags)
  return tags
}

function codeLines(cause: unknown): string | undefined {
  if (!isObject(cause) || !isObject(cause.Code) || !Array.isArray(cause.Code.Lines)) return undefined
  const rows: string[] = []
  for (const l of cause.Code.Lines.slice(0, 40)) {
    if (!isObject(l)) continue
    rows.push(`${num(l.Number) ?? ''}\t${typeof l.Content === 'string' ? l.Content : ''}`)
  }
  return rows.length ? rows.join('\n') : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// assets

type AssetFor = (result: Obj) => string

interface Layout { assets: AssetCollector; assetFor: AssetFor }

/** The image named by an OS-package target ("repo/app:tag (debian 10.13)"). */
function imageFromTargets(results: unknown[]): string | undefined {
  for (const r of results) {
    const m = isObject(r) ? OS_TARGET.exec(str(r.Target) ?? '') : null
    if (m) return m[1]
  }
  return undefined
}

function hasAny(results: unknown[], key: string): boolean {
  return results.some((r) => isObject(r) && Array.isArray(r[key]) && r[key].length > 0)
}

/** SchemaVersion 2: one asset type for the report from ArtifactType (Phoenix takes one type per upload). */
function schema2Layout(doc: ScanDocument, root: Obj, results: unknown[]): Layout {
  const assets = new AssetCollector()
  const artifactType = str(root.ArtifactType)?.toLowerCase()
  const artifactName = str(root.ArtifactName)
  const name = meaningfulName(artifactName)
  const os = osOf(root.Metadata)
  const single = (type: AssetType, attributes: AssetAttributes): Layout => {
    const key = assets.add(type, attributes)
    return { assets, assetFor: () => key }
  }
  switch (artifactType) {
    case 'container_image': {
      const tags = isObject(root.Metadata) ? strings(root.Metadata.RepoTags) : []
      return single('CONTAINER', { image: name ?? tags[0] ?? imageFromTargets(results) ?? doc.filename, ...(os ? { os } : {}) })
    }
    case 'aws_account':
      return {
        assets,
        assetFor: (r) => {
          const target = str(r.Target)
          const arn = arnAttributes(target)
          return assets.add('CLOUD', arn ?? { provider: 'aws', account: name ?? doc.filename, ...(target ? { resource: target } : {}) })
        },
      }
    case 'vm':
    case 'kubernetes':
    case 'k8s':
      return single('INFRA', { hostname: name ?? doc.filename, ...(os ? { os } : {}) })
  }
  // filesystem, repository, rootfs, SBOMs (cyclonedx, spdx) and anything newer
  if (hasAny(results, 'Vulnerabilities') || hasAny(results, 'Licenses') || hasAny(results, 'Packages')) {
    if (name) return single('BUILD', { buildFile: name })
    // `trivy fs .`: the lock files are the build files
    return {
      assets,
      assetFor: (r) => assets.add('BUILD', { buildFile: (str(r.Class) === 'lang-pkgs' ? str(r.Target) : undefined) ?? doc.filename }),
    }
  }
  if (hasAny(results, 'Misconfigurations') && artifactType !== 'repository') return single('CODE', { scannerSource: name ?? doc.filename })
  return single('REPOSITORY', { repository: name ?? doc.filename })
}

/** Legacy list: the OS target names the scanned image; without one, each target is a build file. */
function legacyLayout(doc: ScanDocument, results: unknown[]): Layout {
  const assets = new AssetCollector()
  for (const r of results) {
    const m = isObject(r) ? OS_TARGET.exec(str(r.Target) ?? '') : null
    if (m) {
      const key = assets.add('CONTAINER', { image: m[1]!, os: m[2]! })
      return { assets, assetFor: () => key }
    }
  }
  return { assets, assetFor: (r) => assets.add('BUILD', { buildFile: str(r.Target) ?? doc.filename }) }
}

function k8sLayout(doc: ScanDocument, clusterName: string | undefined): Layout {
  const assets = new AssetCollector()
  const cloud = arnAttributes(clusterName)
  const key = cloud ? assets.add('CLOUD', cloud, ['kubernetes']) : assets.add('INFRA', { hostname: clusterName ?? doc.filename }, ['kubernetes'])
  return { assets, assetFor: () => key }
}

// ---------------------------------------------------------------------------------------------------------------
// findings

interface Run {
  ctx: ParseContext
  layout: Layout
  findings: ParsedFinding[]
  skipped: number
  modified: number
}

function vulnerabilityFinding(run: Run, v: Obj, result: Obj, assetKey: string, service: string | undefined): ParsedFinding | undefined {
  if (!('PkgName' in v)) {
    run.skipped++
    return undefined
  }
  const target = str(result.Target) ?? ''
  const cls = str(result.Class)
  const type = str(result.Type)
  const id = str(v.VulnerabilityID)
  const pkg = str(v.PkgName) ?? ''
  const version = str(v.InstalledVersion)
  const cvss = pickCvss(v)
  const scannerSeverity = str(v.Severity)
  const severity: Severity | undefined = trivySeverity(scannerSeverity) ?? severityFromCvss(cvss?.score)
  if (!severity) {
    run.skipped++
    return undefined
  }
  const fix = str(v.FixedVersion)
  const trivyStatus = str(v.Status)
  let path: string | undefined
  if (cls && PKG_CLASSES.has(cls)) path = str(v.PkgPath) ?? target
  else if (cls === 'config') path = target
  const ids = vulnIds(id, v.VendorIDs)
  const cwe = parseCwe(v.CweIDs)
  const refs = referenceList(v.PrimaryURL, v.References)
  const purl = (isObject(v.PkgIdentifier) ? str(v.PkgIdentifier.PURL) : undefined) ?? str(v.Ref)
  const title = str(v.Title)
  const text = str(v.Description)
  const facts = `Target: ${target}${type ? `\nType: ${type}` : ''}${fix ? `\nFixed version: ${fix}` : ''}${service ? `\nWorkload: ${service}` : ''}`
  const extra: Record<string, unknown> = {}
  if (str(v.SeveritySource)) extra.severitySource = str(v.SeveritySource)
  if (trivyStatus) extra.trivyStatus = trivyStatus
  if (service) extra.service = service
  if (isObject(v.Layer) && str(v.Layer.DiffID)) extra.layerDiffId = str(v.Layer.DiffID)
  if (str(v.PublishedDate)) extra.publishedDate = str(v.PublishedDate)
  // Built by assignment, not object spreads: this runs once per vulnerability of reports with 100k+ of them.
  const component: NonNullable<ParsedFinding['component']> = { name: pkg }
  if (version) component.version = version
  if (purl) component.purl = purl
  if (type) component.ecosystem = type
  const f: ParsedFinding = {
    assetKey,
    title: id ? (version ? `${id} ${pkg} ${version}` : `${id} ${pkg}`) : (version ? `0 ${pkg} ${version}` : `0 ${pkg}`),
    // Concatenation (not join) lets V8 keep this as a rope until it is serialised.
    description: title ? (text ? `${title}\n\n${text}\n\n${facts}` : `${title}\n\n${facts}`) : (text ? `${text}\n\n${facts}` : facts),
    severity,
    component,
  }
  if (!pkg) f.title = [id ?? '0', version].filter((s) => s !== undefined && s !== '').join(' ')
  if (fix) {
    f.remedy = `Upgrade ${pkg} to version ${fix} or later.`
    f.fixVersion = fix
  }
  if (scannerSeverity) f.scannerSeverity = scannerSeverity
  if (ids.length) f.vulnerabilityIds = ids
  if (cwe.length) f.cwe = cwe
  if (cvss) f.cvss = cvss
  if (path) f.location = { path }
  if (trivyStatus === 'not_affected') Object.assign(f, vulnStatus(trivyStatus))
  if (refs.length) f.references = refs
  const tags = tagsOf(type, cls)
  if (tags) f.tags = tags
  for (const _ in extra) {
    f.extra = extra
    break
  }
  return f
}

function misconfigurationFinding(m: Obj, result: Obj, assetKey: string, service: string | undefined): ParsedFinding {
  const target = str(result.Target) ?? ''
  const id = str(m.ID) ?? str(m.AVDID)
  const scannerSeverity = str(m.Severity)
  const cause = isObject(m.CauseMetadata) ? m.CauseMetadata : undefined
  const line = num(cause?.StartLine)
  const endLine = num(cause?.EndLine)
  const code = codeLines(cause)
  const message = str(m.Message)
  const refs = referenceList(m.PrimaryURL, m.References)
  const facts = [`Target: ${target}`, ...(str(m.Type) ? [`Type: ${str(m.Type)}`] : []), ...(service ? [`Workload: ${service}`] : [])]
  if (cause && str(cause.Resource)) facts.push(`Resource: ${str(cause.Resource)}`)
  const extra: Record<string, unknown> = {}
  if (str(m.AVDID) && str(m.AVDID) !== id) extra.avdId = str(m.AVDID)
  if (service) extra.service = service
  if (cause && str(cause.Resource)) extra.resource = str(cause.Resource)
  if (cause && str(cause.Provider)) extra.provider = str(cause.Provider)
  return {
    assetKey,
    title: `${id ?? ''} - ${str(m.Title) ?? ''}`,
    description: [facts.join('\n'), str(m.Description), message, code].filter(Boolean).join('\n\n'),
    ...(str(m.Resolution) ? { remedy: str(m.Resolution)! } : {}),
    severity: trivySeverity(scannerSeverity) ?? severityFromText(scannerSeverity) ?? 'info',
    ...(scannerSeverity ? { scannerSeverity } : {}),
    location: { path: target, ...(line !== undefined ? { line } : {}), ...(endLine !== undefined && endLine !== line ? { endLine } : {}) },
    ...(id ? { ruleId: id } : {}),
    ...misconfStatus(str(m.Status)),
    ...(refs.length ? { references: refs } : {}),
    ...(tagsOf(str(result.Type), str(result.Class)) ? { tags: tagsOf(str(result.Type), str(result.Class))! } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  }
}

function secretFinding(s: Obj, result: Obj, assetKey: string, service: string | undefined): ParsedFinding {
  const target = str(result.Target) ?? ''
  const title = str(s.Title) ?? str(s.RuleID) ?? 'Secret'
  const scannerSeverity = str(s.Severity)
  const line = num(s.StartLine)
  const endLine = num(s.EndLine)
  const facts = [title, `Category: ${str(s.Category) ?? ''}`, `Match: ${str(s.Match) ?? ''}`]
  if (service) facts.push(`Workload: ${service}`)
  return {
    assetKey,
    title: `Secret detected in ${target} - ${title}`,
    description: facts.join('\n'),
    remedy: 'Remove the secret from the file and its history, and revoke / rotate it.',
    severity: trivySeverity(scannerSeverity) ?? severityFromText(scannerSeverity) ?? 'info',
    ...(scannerSeverity ? { scannerSeverity } : {}),
    cwe: [798],
    location: { path: target, ...(line !== undefined ? { line } : {}), ...(endLine !== undefined && endLine !== line ? { endLine } : {}) },
    ...(str(s.RuleID) ? { ruleId: str(s.RuleID)! } : {}),
    ...(tagsOf(str(result.Class)) ? { tags: tagsOf(str(result.Class))! } : {}),
    ...(service ? { extra: { service } } : {}),
  }
}

function licenseFinding(l: Obj, result: Obj, assetKey: string, service: string | undefined): ParsedFinding {
  const target = str(result.Target) ?? ''
  const name = str(l.Name) ?? ''
  const pkg = str(l.PkgName)
  const file = str(l.FilePath)
  const link = str(l.Link)
  const scannerSeverity = str(l.Severity)
  const confidence = num(l.Confidence)
  const category = str(l.Category)
  return {
    assetKey,
    title: `License detected in ${target} - ${name}`,
    description: [name, `Category: ${category ?? ''}`, `Package: ${pkg ?? ''}`].join('\n'),
    severity: trivySeverity(scannerSeverity) ?? severityFromText(scannerSeverity) ?? 'info',
    ...(scannerSeverity ? { scannerSeverity } : {}),
    ...(pkg ? { component: { name: pkg } } : {}),
    ...(file ? { location: { path: file } } : {}),
    ...(name ? { ruleId: name } : {}),
    ...(link ? { references: [link] } : {}),
    ...(tagsOf(str(result.Class)) ? { tags: tagsOf(str(result.Class))! } : {}),
    extra: { ...(category ? { category } : {}), ...(confidence !== undefined ? { confidence } : {}), ...(service ? { service } : {}) },
  }
}

function resultItems(run: Run, results: unknown[], service?: string): void {
  for (const result of results) {
    if (!isObject(result) || !('Target' in result)) continue
    const assetKey = run.layout.assetFor(result)
    for (const v of list(result.Vulnerabilities, `"Vulnerabilities" of target ${str(result.Target) ?? ''}`)) {
      if (!isObject(v)) continue
      const f = vulnerabilityFinding(run, v, result, assetKey, service)
      if (f) run.findings.push(f)
    }
    for (const m of list(result.Misconfigurations, `"Misconfigurations" of target ${str(result.Target) ?? ''}`)) {
      if (isObject(m)) run.findings.push(misconfigurationFinding(m, result, assetKey, service))
    }
    for (const s of list(result.Secrets, `"Secrets" of target ${str(result.Target) ?? ''}`)) {
      if (isObject(s)) run.findings.push(secretFinding(s, result, assetKey, service))
    }
    for (const l of list(result.Licenses, `"Licenses" of target ${str(result.Target) ?? ''}`)) {
      if (isObject(l)) run.findings.push(licenseFinding(l, result, assetKey, service))
    }
    if (Array.isArray(result.ExperimentalModifiedFindings)) run.modified += result.ExperimentalModifiedFindings.length
  }
}

function serviceName(service: Obj): string | undefined {
  return [str(service.Namespace), str(service.Kind), str(service.Name)].filter(Boolean).join(' / ') || undefined
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  if (root === null || root === undefined) return { assets: [], findings: [] }
  let layout: Layout
  const run = (l: Layout): Run => ({ ctx, layout: l, findings: [], skipped: 0, modified: 0 })
  let r: Run
  if (Array.isArray(root)) {
    layout = legacyLayout(doc, root)
    r = run(layout)
    resultItems(r, root)
  } else if (isObject(root)) {
    const schema = root.SchemaVersion
    if (schema === 2 || schema === '2') {
      const results = list(root.Results, '"Results"')
      layout = schema2Layout(doc, root, results)
      r = run(layout)
      resultItems(r, results)
    } else if (root.ClusterName !== undefined && root.ClusterName !== null) {
      layout = k8sLayout(doc, str(root.ClusterName))
      r = run(layout)
      for (const section of ['Vulnerabilities', 'Misconfigurations', 'Resources'] as const) {
        for (const [i, service] of list(root[section], `"${section}"`).entries()) {
          if (!isObject(service)) throw new ScanFormatError(`${WHERE}: ${section}[${i}] is not an object with Namespace, Kind, Name and Results`)
          resultItems(r, list(service.Results, `${section}[${i}].Results`), serviceName(service))
        }
      }
    } else if (schema !== undefined) {
      throw new ScanFormatError(`${WHERE}: SchemaVersion ${JSON.stringify(schema)} is not supported (expected 2, a legacy list, or a Kubernetes report with ClusterName)`)
    } else {
      throw new ScanFormatError(`${WHERE}: schema not supported: expected "SchemaVersion": 2 with "Results", a Kubernetes report with "ClusterName", or a legacy list of targets`)
    }
  } else {
    throw new ScanFormatError(`${WHERE}: expected a JSON object or array, got ${typeof root}`)
  }
  if (r.skipped) ctx.warn(`${r.skipped} vulnerabilit${r.skipped === 1 ? 'y' : 'ies'} without PkgName or severity skipped (as DefectDojo does)`)
  if (r.modified) ctx.warn(`${r.modified} finding(s) suppressed by Trivy (ExperimentalModifiedFindings, e.g. VEX/ignore) not imported`)
  return { assets: layout.assets.list(), findings: r.findings }
}

export const parser: ScannerParser = {
  id: 'trivy',
  label: 'Trivy',
  aliases: ['Trivy Scan'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
