/**
 * Shared by the Anchore parsers (Engine / anchorectl vulnerability lists, Enterprise / anchorectl policy checks):
 * severity words, image references, the vulnerability records both vulnerability formats share, and the policy
 * trigger helpers DefectDojo's two policy parsers share (vulnerability id from a trigger id, file path from the
 * check output).
 */
import type { ParseContext, ParsedFinding, ScanFindingStatus, Severity } from './types.js'
import { cvssVersion, isObject, num, ScanFormatError, severityFromText, str, vulnIds } from './util.js'

/** Anchore's severity words (Critical … Negligible, Unknown); Negligible and Unknown are info, as in DefectDojo. */
export function anchoreSeverity(value: unknown): { severity: Severity; scannerSeverity?: string } {
  const s = str(value)
  return { severity: severityFromText(s) ?? 'info', ...(s ? { scannerSeverity: s } : {}) }
}

/** Anchore writes the string "None" for absent values (fix, package_path, package_cpe). */
export function anchoreValue(v: unknown): string | undefined {
  const s = str(v)
  return s === undefined || s === 'None' || s === 'N/A' ? undefined : s
}

/** `repo:tag` → [repo, tag]; a registry port (`host:5000/img`) is not a tag. */
export function splitImageTag(ref: string): { repo: string; tag?: string } {
  const at = ref.indexOf('@')
  const base = at >= 0 ? ref.slice(0, at) : ref
  const colon = base.lastIndexOf(':')
  if (colon > base.lastIndexOf('/') && colon > 0) return { repo: base.slice(0, colon), tag: base.slice(colon + 1) }
  return { repo: base }
}

const TRIGGER_VULN_ID = /^(CVE-\d{4}-\d{4,}|GHSA(-[0-9a-z]{4}){3})$/i

/**
 * The advisory id of a policy trigger id (`CVE-2019-14540+jackson-databind` → CVE-2019-14540, and the package
 * after the `+`). DefectDojo takes CVE ids only; GHSA ids are advisory ids too.
 */
export function triggerParts(triggerId: string | undefined): { vulnId?: string; pkg?: string } {
  if (!triggerId) return {}
  const plus = triggerId.indexOf('+')
  if (plus <= 0) return {}
  const id = triggerId.slice(0, plus)
  if (!TRIGGER_VULN_ID.test(id)) return {}
  const pkg = triggerId.slice(plus + 1).trim()
  return { vulnId: id, ...(pkg ? { pkg } : {}) }
}

const FILE_PATH = / (\/[^/ ]*)+\/?/
const URLS = /https?:\/\/[^\s)]+/g

/** The first absolute path in a policy check's output (DefectDojo's `search_filepath`), or undefined. */
export function pathInText(text: string | undefined): string | undefined {
  if (!text) return undefined
  const m = FILE_PATH.exec(text)
  return m ? m[0].trim() || undefined : undefined
}

export function urlsInText(text: string | undefined): string[] {
  if (!text) return []
  return [...new Set(text.match(URLS) ?? [])]
}

/** The leading severity word of a check output ("HIGH Vulnerability found …"), if it is one. */
const OUTPUT_SEVERITIES = new Set(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO', 'UNKNOWN', 'NEGLIGIBLE'])
export function outputSeverityWord(text: string | undefined): string | undefined {
  if (!text) return undefined
  const word = text.trimStart().split(/\s/, 1)[0] ?? ''
  return OUTPUT_SEVERITIES.has(word) ? word : undefined
}

/** A policy gate action (stop / warn / go) as a severity, as DefectDojo maps it. */
export function gateActionSeverity(action: string | undefined): Severity {
  switch (action?.toLowerCase()) {
    case 'stop': return 'critical'
    case 'warn': return 'medium'
    default: return 'low'
  }
}

/** A policy finding whose gate action is `go` is allowed by the policy: reported, but accepted. */
export function gateActionStatus(action: string | undefined): { status?: ScanFindingStatus; statusReason?: string } {
  return action?.toLowerCase() === 'go' ? { status: 'risk_accepted', statusReason: 'The policy gate action is "go" (allowed by the policy)' } : {}
}

/** A CVSS base score Anchore reports, or undefined for its "not set" -1 and out-of-range values. */
export function anchoreScore(v: unknown): number | undefined {
  const n = num(v)
  return n !== undefined && n >= 0 && n <= 10 ? n : undefined
}

/** Which spelling of the legacy vulnerability record: Engine (snake_case) or anchorectl (camelCase). */
export interface LegacyKeys {
  feedGroup: string
  packageName: string
  packageVersion: string
  packageType: string
  packagePath: string
  packageCpe: string
  nvdData: string
  vendorData: string
  cvssV3: string
  cvssV2: string
  baseScore: string
}

export const SNAKE_KEYS: LegacyKeys = {
  feedGroup: 'feed_group', packageName: 'package_name', packageVersion: 'package_version', packageType: 'package_type',
  packagePath: 'package_path', packageCpe: 'package_cpe', nvdData: 'nvd_data', vendorData: 'vendor_data',
  cvssV3: 'cvss_v3', cvssV2: 'cvss_v2', baseScore: 'base_score',
}

export const CAMEL_KEYS: LegacyKeys = {
  feedGroup: 'feedGroup', packageName: 'packageName', packageVersion: 'packageVersion', packageType: 'packageType',
  packagePath: 'packagePath', packageCpe: 'packageCpe', nvdData: 'nvdData', vendorData: 'vendorData',
  cvssV3: 'cvssV3', cvssV2: 'cvssV2', baseScore: 'baseScore',
}

function scoreOf(entry: unknown, cvssKey: string, k: LegacyKeys): number | undefined {
  return isObject(entry) && isObject(entry[cvssKey]) ? anchoreScore(entry[cvssKey][k.baseScore]) : undefined
}

/**
 * CVSS of a legacy record as DefectDojo reads it: for the NVD feeds the first `nvd_data` v3 score, otherwise the
 * first vendor v3 score that is set; v2 when no v3 is set. The 2.4.1 `extra.nvd_data` adds the vectors.
 */
function legacyCvss(item: Record<string, unknown>, k: LegacyKeys): ParsedFinding['cvss'] {
  const feed = str(item.feed)
  const nvd = Array.isArray(item[k.nvdData]) ? item[k.nvdData] as unknown[] : []
  const vendor = Array.isArray(item[k.vendorData]) ? item[k.vendorData] as unknown[] : []
  const sources = feed === 'nvdv2' || feed === 'vulnerabilities' ? [nvd, vendor] : [vendor, nvd]
  let v3: number | undefined
  let v2: number | undefined
  for (const list of sources) {
    for (const e of list) {
      v3 ??= scoreOf(e, k.cvssV3, k)
      v2 ??= scoreOf(e, k.cvssV2, k)
    }
    if (v3 !== undefined) break
  }
  let vector3: string | undefined
  let vector2: string | undefined
  const extra = isObject(item.extra) ? item.extra : undefined
  if (extra && Array.isArray(extra.nvd_data)) {
    for (const e of extra.nvd_data) {
      if (!isObject(e)) continue
      if (isObject(e.cvss_v3)) vector3 ??= str(e.cvss_v3.vector_string)
      if (isObject(e.cvss_v2)) vector2 ??= str(e.cvss_v2.vector_string)
    }
  }
  if (v3 !== undefined) return { score: v3, version: cvssVersion(vector3) ?? '3', ...(vector3 ? { vector: vector3 } : {}) }
  if (v2 !== undefined) return { score: v2, version: '2.0', ...(vector2 ? { vector: vector2 } : {}) }
  return undefined
}

/**
 * One legacy vulnerability record (Engine `vulnerabilities[]`, anchorectl `[]`) as a finding, without assetKey
 * and title. Throws when a key DefectDojo requires is missing.
 */
export function legacyVulnFinding(item: unknown, index: number, k: LegacyKeys, where: string, imageDigest: string | undefined): Omit<ParsedFinding, 'assetKey' | 'title'> & { vuln: string; pkg: string; pkgType: string } {
  if (!isObject(item)) throw new ScanFormatError(`${where}: vulnerability ${index + 1} is not an object`)
  const vuln = str(item.vuln)
  const pkg = str(item.package) ?? str(item[k.packageName])
  if (!vuln) throw new ScanFormatError(`${where}: vulnerability ${index + 1} has no "vuln" id`)
  if (!pkg) throw new ScanFormatError(`${where}: vulnerability ${index + 1} (${vuln}) has no "package"`)
  const pkgType = str(item[k.packageType]) ?? 'unknown'
  const name = str(item[k.packageName]) ?? pkg
  const version = anchoreValue(item[k.packageVersion])
  const path = anchoreValue(item[k.packagePath])
  const fix = anchoreValue(item.fix)
  const url = str(item.url)
  const extra = isObject(item.extra) ? item.extra : undefined
  const text = str(item.description) ?? (extra ? str(extra.description) : undefined)
  const feed = [str(item.feed), str(item[k.feedGroup])].filter(Boolean).join('/')
  const cpe = anchoreValue(item[k.packageCpe])
  const nvdIds = (Array.isArray(item[k.nvdData]) ? item[k.nvdData] as unknown[] : []).map((e) => (isObject(e) ? e.id : undefined))
  const lines = [
    ...(text ? [text, ''] : []),
    `Package: ${pkg}`,
    ...(path ? [`Package path: ${path}`] : []),
    `Package type: ${pkgType}`,
    ...(feed ? [`Feed: ${feed}`] : []),
    ...(cpe ? [`CPE: ${cpe}`] : []),
    ...(imageDigest ? [`Image digest: ${imageDigest}`] : []),
  ]
  const cvss = legacyCvss(item, k)
  return {
    vuln, pkg, pkgType,
    description: lines.join('\n'),
    remedy: fix ? `Upgrade ${name} to ${fix}` : 'No fix available.',
    ...(fix ? { fixVersion: fix } : {}),
    ...anchoreSeverity(item.severity),
    vulnerabilityIds: vulnIds(vuln, ...nvdIds),
    ...(cvss ? { cvss } : {}),
    component: { name, ...(version ? { version } : {}), ecosystem: pkgType },
    ...(path ? { location: { path } } : {}),
    ruleId: vuln,
    ...(url ? { references: [url] } : {}),
    ...(item.inherited_from_base === true ? { tags: ['inherited-from-base'] } : {}),
  }
}

/**
 * One `securityEvaluation[]` record (`anchorectl image vulnerabilities` / Enterprise 5 JSON) as a finding,
 * without assetKey and title.
 */
export function securityEvaluationFinding(item: unknown, index: number, where: string, ctx: ParseContext): Omit<ParsedFinding, 'assetKey' | 'title'> & { vuln: string; pkg: string; pkgType: string; path?: string } {
  if (!isObject(item)) throw new ScanFormatError(`${where}: securityEvaluation entry ${index + 1} is not an object`)
  const vuln = str(item.vulnerabilityId) ?? str(item.vuln)
  const pkg = str(item.package)
  if (!vuln) throw new ScanFormatError(`${where}: securityEvaluation entry ${index + 1} has no "vulnerabilityId"`)
  if (!pkg) throw new ScanFormatError(`${where}: securityEvaluation entry ${index + 1} (${vuln}) has no "package"`)
  const pkgType = str(item.packageType) ?? 'unknown'
  const path = anchoreValue(item.path) ?? anchoreValue(item.packagePath)
  const fixes = (anchoreValue(item.fixAvailable) ?? '').split(',').map((s) => s.trim()).filter((s) => s && s !== 'None')
  const link = str(item.link) ?? str(item.url)
  const version = anchoreValue(item.packageVersion)
  const score = anchoreScore(item.nvdCvssBaseScore)
  if (item.nvdCvssBaseScore !== undefined && item.nvdCvssBaseScore !== null && score === undefined && str(item.nvdCvssBaseScore) !== undefined) {
    ctx.warn(`${where}: ${vuln} has an unusable CVSS score ${JSON.stringify(item.nvdCvssBaseScore)}; ignored`)
  }
  const text = str(item.description)
  const lines = [
    ...(text ? [text, ''] : []),
    `Package: ${pkg}`,
    ...(path ? [`Package path: ${path}`] : []),
    `Package type: ${pkgType}`,
    ...(str(item.detectedAt) ? [`Detected at: ${str(item.detectedAt)}`] : []),
  ]
  return {
    vuln, pkg, pkgType, ...(path ? { path } : {}),
    description: lines.join('\n'),
    remedy: fixes.length > 0 ? `Upgrade to: ${fixes.join(' or ')}` : 'No fix available.',
    ...(fixes.length > 0 ? { fixVersion: fixes.join(', ') } : {}),
    ...anchoreSeverity(item.severity),
    vulnerabilityIds: vulnIds(vuln, ...(str(item.cves)?.split(/[\s,]+/) ?? [])),
    ...(score !== undefined ? { cvss: { score } } : {}),
    component: { name: pkg, ...(version ? { version } : {}), ecosystem: pkgType },
    ...(path ? { location: { path } } : {}),
    ruleId: vuln,
    ...(link ? { references: [link] } : {}),
  }
}

/** CONTAINER identity of a `metadata` block (registry/repository:tag), else the digest. */
export function metadataImage(meta: Record<string, unknown>): string | undefined {
  const repo = str(meta.repository)
  const registry = str(meta.registry)
  const tag = str(meta.tag)
  if (repo) return `${registry ? `${registry}/` : ''}${repo}${tag ? `:${tag}` : ''}`
  return str(meta.fullTag) ?? str(meta.imageDigest) ?? str(meta.image_digest)
}
