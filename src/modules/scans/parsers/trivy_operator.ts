/**
 * trivy-operator custom resources as JSON (`kubectl get <report> -o json`), as DefectDojo's "Trivy Operator Scan"
 * reads them: one report object, a JSON array of reports, or an object keyed by resource plural
 * (`vulnerabilityreports.aquasecurity.github.io: [...]`, SBOM reports ignored). A kubectl `List` (`{kind: List,
 * items}`) is read as an array of reports too.
 * - VulnerabilityReport: one finding per vulnerability, "{vulnerabilityID} {resource} {installedVersion}";
 * - ConfigAuditReport / RbacAssessmentReport / InfraAssessmentReport (report.checks): "{checkID} - {title}", the
 *   check id made uniform (KSV014 → AVD-KSV-0014) as vulnerability id;
 * - ExposedSecretReport: "Secret detected in {target} - {title}";
 * - ClusterComplianceReport: detail reports give one finding per failed check ("{control id} {checkID} {target}",
 *   the check's severity, else the control's); summary reports one per control with failures (only when the
 *   summary's failCount > 0).
 * A report without metadata.labels yields nothing (DefectDojo does the same).
 * Assets: a report about a container image (vulnerabilities, secrets) → CONTAINER registry/repository:tag; a
 * Kubernetes resource (config audits) → INFRA named "namespace/Kind/name"; compliance checks → INFRA per checked
 * resource, or the cluster.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import {
  arrayField, AssetCollector, cvssVersion, isObject, num, ScanFormatError, severityFromCvss, severityFromText, str, strings, vulnIds,
} from './util.js'
import { referenceList, trivySeverity } from './trivy-common.js'

const WHERE = 'trivy-operator report'
type Obj = Record<string, unknown>

const GROUP = 'aquasecurity.github.io'
const PLURAL_KEYS = new Set([
  'clustercompliancereports', 'clusterconfigauditreports', 'clusterinfraassessmentreports', 'clusterrbacassessmentreports',
  'configauditreports', 'exposedsecretreports', 'infraassessmentreports', 'rbacassessmentreports', 'vulnerabilityreports',
].map((k) => `${k}.${GROUP}`))
const SKIPPED_KEYS = new Set([`clustersbomreports.${GROUP}`, `sbomreports.${GROUP}`])
const KINDS = new Set([
  'VulnerabilityReport', 'ConfigAuditReport', 'ExposedSecretReport', 'ClusterComplianceReport', 'RbacAssessmentReport',
  'ClusterRbacAssessmentReport', 'InfraAssessmentReport', 'ClusterInfraAssessmentReport', 'ClusterConfigAuditReport',
  'ClusterVulnerabilityReport', 'SbomReport', 'ClusterSbomReport',
])
const PKG_CLASSES = new Set(['os-pkgs', 'lang-pkgs'])
const CLUSTER_HOST = 'kubernetes-cluster'

// ---------------------------------------------------------------------------------------------------------------
// detection

function isOperatorReport(v: unknown): boolean {
  if (!isObject(v)) return false
  const api = str(v.apiVersion)
  if (api?.startsWith(`${GROUP}/`)) return true
  return typeof v.kind === 'string' && KINDS.has(v.kind) && ('report' in v || 'status' in v)
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  const root = doc.json
  if (Array.isArray(root)) return isOperatorReport(root[0]) ? 1 : 0
  if (!isObject(root)) return 0
  if (isOperatorReport(root)) return 1
  if (Object.keys(root).some((k) => PLURAL_KEYS.has(k) || SKIPPED_KEYS.has(k))) return 1
  if (root.kind === 'List' && Array.isArray(root.items) && isOperatorReport(root.items[0])) return 1
  return 0
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

const list = (value: unknown, what: string) => arrayField(value, `${WHERE}: ${what}`)

const VULNID = /^([a-zA-Z_-]+)([0-9]+)/

/** DefectDojo's UniformTrivyVulnID: KSV014 / ksv-014 → AVD-KSV-0014, KHV5 → KHV005, CVE ids unchanged. */
export function uniformVulnId(id: string): string {
  const lower = id.toLowerCase()
  if (lower.includes('cve')) return id
  const m = VULNID.exec(id)
  if (!m) return id
  if (lower.includes('khv')) return `${m[1]!.toUpperCase()}${m[2]!.padStart(3, '0')}`
  if (lower.includes('ksv') || lower.includes('kcv')) {
    const cat = VULNID.exec(lower.replace(/[_-]/g, ''))
    if (!cat) return id
    return `AVD-${cat[1]!.replace('avd', '').toUpperCase()}-${m[2]!.padStart(4, '0')}`
  }
  return id
}

interface Resource { namespace: string; kind: string; name: string; container: string }

function resourceOf(labels: Obj): Resource {
  return {
    namespace: str(labels['trivy-operator.resource.namespace']) ?? '',
    kind: str(labels['trivy-operator.resource.kind']) ?? '',
    name: str(labels['trivy-operator.resource.name']) ?? '',
    container: str(labels['trivy-operator.container.name']) ?? '',
  }
}

/** DefectDojo's "service": namespace/Kind/name[/container]. */
function serviceOf(r: Resource): string {
  const base = `${r.namespace}/${r.kind}/${r.name}`
  return r.container ? `${base}/${r.container}` : base
}

function resourceLines(r: Resource): string {
  return [['Container', r.container], ['Resource kind', r.kind], ['Resource name', r.name], ['Namespace', r.namespace]]
    .filter(([, v]) => v !== '').map(([k, v]) => `${k}: ${v}`).join('\n')
}

function imageOf(report: Obj): string | undefined {
  const artifact = isObject(report.artifact) ? report.artifact : undefined
  const repository = str(artifact?.repository)
  if (!repository) return undefined
  const server = isObject(report.registry) ? str(report.registry.server) : undefined
  const tag = str(artifact?.tag)
  const digest = str(artifact?.digest)
  return `${server ? `${server}/` : ''}${repository}${tag ? `:${tag}` : ''}${!tag && digest ? `@${digest}` : ''}`
}

function osOf(report: Obj): string | undefined {
  if (!isObject(report.os)) return undefined
  return [str(report.os.family), str(report.os.name)].filter(Boolean).join(' ') || undefined
}

// ---------------------------------------------------------------------------------------------------------------
// findings

interface Run {
  ctx: ParseContext
  assets: AssetCollector
  findings: ParsedFinding[]
  noLabels: number
  unknownSeverity: number
}

function severityOf(run: Run, value: unknown) {
  const s = trivySeverity(value)
  if (s) return s
  run.unknownSeverity++
  return severityFromText(value) ?? 'info'
}

function vulnerabilities(run: Run, items: unknown[], resource: Resource, assetKey: string): void {
  const service = serviceOf(resource)
  for (const v of items) {
    if (!isObject(v)) continue
    const id = str(v.vulnerabilityID) ?? '0'
    const pkg = str(v.resource) ?? ''
    const version = str(v.installedVersion)
    const fix = str(v.fixedVersion)
    const cls = str(v.class)
    const pkgType = str(v.packageType)
    const target = str(v.target)
    const pkgPath = str(v.packagePath) ?? str(v.pkgPath)
    const score = num(v.score)
    const vector = isObject(v.cvss) && isObject(v.cvss.nvd) ? str(v.cvss.nvd.V3Vector) : undefined
    const scannerSeverity = str(v.severity)
    const path = cls && PKG_CLASSES.has(cls) ? pkgPath ?? target : undefined
    const ids = vulnIds(str(v.vulnerabilityID))
    const refs = referenceList(v.primaryLink, v.links)
    const purl = str(v.packagePURL) ?? str(v.pkgPURL)
    const tags = [pkgType, cls].filter((t): t is string => t !== undefined)
    run.findings.push({
      assetKey,
      title: [id, pkg, version].filter((s) => s !== undefined && s !== '').join(' '),
      description: [str(v.title), [`Fixed version: ${fix ?? ''}`, ...(target ? [`Target: ${target}`] : []), `Workload: ${service}`].join('\n'), str(v.description)]
        .filter(Boolean).join('\n\n'),
      ...(fix ? { remedy: `Upgrade ${pkg} to version ${fix} or later.`, fixVersion: fix } : {}),
      severity: scannerSeverity === undefined && score !== undefined ? severityFromCvss(score)! : severityOf(run, scannerSeverity),
      ...(scannerSeverity ? { scannerSeverity } : {}),
      ...(ids.length ? { vulnerabilityIds: ids } : {}),
      ...(score !== undefined || vector ? { cvss: { ...(vector ? { vector, ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) } : {}), ...(score !== undefined ? { score } : {}) } } : {}),
      component: { name: pkg, ...(version ? { version } : {}), ...(purl ? { purl } : {}), ...(pkgType ? { ecosystem: pkgType } : {}) },
      ...(path ? { location: { path } } : {}),
      ...(refs.length ? { references: refs } : {}),
      ...(tags.length ? { tags } : {}),
      extra: { service, ...(str(v.publishedDate) ? { publishedDate: str(v.publishedDate) } : {}) },
    })
  }
}

function checks(run: Run, items: unknown[], resource: Resource, assetKey: string): void {
  const service = serviceOf(resource)
  for (const c of items) {
    if (!isObject(c)) continue
    const checkId = str(c.checkID)
    const title = str(c.title) ?? ''
    const messages = strings(c.messages)
    const remediation = str(c.remediation)
    const remedy = [remediation, messages.join('\n')].filter(Boolean).join('\n\n')
    const category = str(c.category)
    const tags = [resource.namespace, category].filter((t): t is string => t !== undefined && t !== '')
    const uniform = checkId ? uniformVulnId(checkId) : undefined
    run.findings.push({
      assetKey,
      title: checkId ? `${checkId} - ${title}` : title || 'trivy-operator check',
      description: [str(c.description), resourceLines(resource)].filter(Boolean).join('\n\n'),
      ...(remedy ? { remedy } : {}),
      severity: severityOf(run, c.severity),
      ...(str(c.severity) ? { scannerSeverity: str(c.severity)! } : {}),
      ...(uniform ? { vulnerabilityIds: [uniform] } : {}),
      ...(checkId ? { ruleId: checkId, references: [`https://avd.aquasec.com/misconfig/kubernetes/${checkId.toLowerCase()}`] } : {}),
      ...(c.success === true ? { status: 'mitigated' as const, statusReason: 'trivy-operator reports the check as passed' } : {}),
      ...(tags.length ? { tags } : {}),
      extra: { service },
    })
  }
}

function secrets(run: Run, items: unknown[], resource: Resource, assetKey: string): void {
  const service = serviceOf(resource)
  for (const s of items) {
    if (!isObject(s)) continue
    const title = str(s.title) ?? str(s.ruleID) ?? 'Secret'
    const target = str(s.target) ?? ''
    const ruleId = str(s.ruleID)
    run.findings.push({
      assetKey,
      title: `Secret detected in ${target} - ${title}`,
      description: [[title, `Category: ${str(s.category) ?? ''}`, `Match: ${str(s.match) ?? ''}`].join('\n'), resourceLines(resource)].join('\n\n'),
      remedy: 'Remove the secret from the image and revoke / rotate it.',
      severity: severityOf(run, s.severity),
      ...(str(s.severity) ? { scannerSeverity: str(s.severity)! } : {}),
      cwe: [798],
      ...(target ? { location: { path: target } } : {}),
      ...(ruleId ? { ruleId } : {}),
      ...(resource.namespace ? { tags: [resource.namespace] } : {}),
      extra: { service },
    })
  }
}

function complianceAsset(run: Run, target: string | undefined, clusterKey: () => string): string {
  const t = target?.replace(/^\/+/, '')
  return t ? run.assets.add('INFRA', { hostname: t }, ['kubernetes']) : clusterKey()
}

function detailReport(run: Run, detail: Obj, clusterKey: () => string): void {
  const reportDescription = str(detail.description)
  for (const [i, result] of list(detail.results, 'status.detailReport.results').entries()) {
    if (!isObject(result)) throw new ScanFormatError(`${WHERE}: status.detailReport.results[${i}] is not an object`)
    const resultId = str(result.id) ?? ''
    for (const c of list(result.checks, `status.detailReport.results[${i}].checks`)) {
      if (!isObject(c) || c.success !== false) continue
      const checkId = str(c.checkID) ?? ''
      const target = str(c.target) ?? ''
      const sevWord = str(c.severity) ?? str(result.severity)
      const messages = strings(c.messages)
      run.findings.push({
        assetKey: complianceAsset(run, target, clusterKey),
        title: `${resultId} ${checkId} ${target}`.trim(),
        description: [
          str(c.title), str(c.description), messages.join('\n'),
          [`Control: ${resultId} ${str(result.name) ?? ''}`.trim(), ...(str(result.description) ? [`Control description: ${str(result.description)}`] : []),
            ...(reportDescription ? [`Report: ${reportDescription}`] : []), ...(target ? [`Target: ${target}`] : []),
            ...(str(c.category) ? [`Category: ${str(c.category)}`] : [])].join('\n'),
        ].filter(Boolean).join('\n\n'),
        ...(str(c.remediation) ? { remedy: str(c.remediation)! } : {}),
        severity: severityOf(run, sevWord),
        ...(sevWord ? { scannerSeverity: sevWord } : {}),
        ...(checkId ? { vulnerabilityIds: [checkId], ruleId: checkId } : {}),
        tags: ['compliance', ...(str(detail.id) ? [str(detail.id)!] : [])],
        extra: { control: resultId },
      })
    }
  }
}

function summaryReport(run: Run, item: Obj, summary: Obj, clusterKey: () => string): void {
  const spec = isObject(item.spec) ? item.spec : undefined
  const compliance = isObject(spec?.compliance) ? spec.compliance : undefined
  const controls = list(compliance?.controls, 'spec.compliance.controls').filter(isObject)
  for (const result of list(summary.controlCheck, 'status.summaryReport.controlCheck')) {
    if (!isObject(result)) continue
    const totalFail = num(result.totalFail) ?? 0
    if (totalFail <= 0) continue
    const id = str(result.id) ?? ''
    const ids: string[] = []
    const lines: string[] = []
    for (const control of controls) {
      if (str(control.id) !== id) continue
      for (const ch of list(control.checks, `checks of control ${id}`)) if (isObject(ch) && str(ch.id)) ids.push(str(ch.id)!)
      if (str(control.description)) lines.push(str(control.description)!)
    }
    const sevWord = str(result.severity)
    run.findings.push({
      assetKey: clusterKey(),
      title: `TrivyClusterCompliance ${id} totalFail: ${totalFail}`,
      description: [...lines, [`Control: ${id}`, `Name: ${str(result.name) ?? ''}`, `Failed checks: ${totalFail}`].join('\n')].join('\n\n'),
      severity: severityOf(run, sevWord),
      ...(sevWord ? { scannerSeverity: sevWord } : {}),
      ...(ids.length ? { vulnerabilityIds: vulnIds(...ids) } : {}),
      ruleId: id,
      tags: ['compliance', ...(str(summary.id) ? [str(summary.id)!] : [])],
      extra: { control: id, totalFail },
    })
  }
}

function reportFindings(run: Run, item: unknown, where: string): void {
  if (item === null || item === undefined) return
  if (!isObject(item)) throw new ScanFormatError(`${WHERE}: ${where} is not a report object`)
  const metadata = item.metadata
  if (metadata === undefined || metadata === null) {
    run.noLabels++
    return
  }
  if (!isObject(metadata)) throw new ScanFormatError(`${WHERE}: ${where}.metadata is not an object`)
  if (!isObject(metadata.labels)) {
    run.noLabels++
    return
  }
  const resource = resourceOf(metadata.labels)
  let clusterAsset: string | undefined
  const clusterKey = () => (clusterAsset ??= run.assets.add('INFRA', { hostname: CLUSTER_HOST }, ['kubernetes']))

  const report = item.report
  if (report !== undefined && report !== null) {
    if (!isObject(report)) throw new ScanFormatError(`${WHERE}: ${where}.report is not an object`)
    let assetKey: string | undefined
    const asset = () => {
      if (assetKey) return assetKey
      const image = imageOf(report)
      const tags = [resource.namespace, resource.kind && resource.name ? `${resource.kind}/${resource.name}` : ''].filter((t) => t !== '')
      const os = osOf(report)
      const host = [resource.namespace, resource.kind, resource.name].filter((t) => t !== '').join('/')
      assetKey = image
        ? run.assets.add('CONTAINER', { image, ...(os ? { os } : {}) }, tags)
        : host ? run.assets.add('INFRA', { hostname: host }, ['kubernetes', ...tags]) : clusterKey()
      return assetKey
    }
    const vulns = list(report.vulnerabilities, `${where}.report.vulnerabilities`)
    if (vulns.length) vulnerabilities(run, vulns, resource, asset())
    const chks = list(report.checks, `${where}.report.checks`)
    if (chks.length) checks(run, chks, resource, asset())
    const secs = list(report.secrets, `${where}.report.secrets`)
    if (secs.length) secrets(run, secs, resource, asset())
  }
  const status = item.status
  if (isObject(status)) {
    if (isObject(status.detailReport)) detailReport(run, status.detailReport, clusterKey)
    if (isObject(status.summaryReport)) {
      const failCount = isObject(status.summary) ? num(status.summary.failCount) ?? 0 : 0
      if (failCount > 0) summaryReport(run, item, status.summaryReport, clusterKey)
    }
  }
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  const run: Run = { ctx, assets: new AssetCollector(), findings: [], noLabels: 0, unknownSeverity: 0 }
  if (Array.isArray(root)) {
    root.forEach((item, i) => reportFindings(run, item, `report ${i + 1}`))
  } else if (isObject(root) && Object.keys(root).some((k) => PLURAL_KEYS.has(k) || SKIPPED_KEYS.has(k))) {
    for (const [key, value] of Object.entries(root)) {
      if (SKIPPED_KEYS.has(key)) continue
      list(value, `"${key}"`).forEach((item, i) => reportFindings(run, item, `${key}[${i}]`))
    }
  } else if (isObject(root) && root.kind === 'List' && Array.isArray(root.items)) {
    root.items.forEach((item, i) => reportFindings(run, item, `items[${i}]`))
  } else if (isObject(root)) {
    if (!('metadata' in root) && !('report' in root) && !('status' in root)) {
      throw new ScanFormatError(`${WHERE}: not a trivy-operator resource (no metadata, report or status)`)
    }
    reportFindings(run, root, 'the report')
  } else if (root !== null && root !== undefined) {
    throw new ScanFormatError(`${WHERE}: expected a JSON object or array, got ${typeof root}`)
  }
  if (run.noLabels) ctx.warn(`${run.noLabels} report(s) without metadata.labels skipped (as DefectDojo does)`)
  if (run.unknownSeverity) ctx.warn(`${run.unknownSeverity} finding(s) with a severity Trivy does not define; mapped by name or to info`)
  return { assets: run.assets.list(), findings: run.findings }
}

export const parser: ScannerParser = {
  id: 'trivy_operator',
  label: 'Trivy Operator',
  aliases: ['Trivy Operator Scan'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
