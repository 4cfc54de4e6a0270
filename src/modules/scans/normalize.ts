/**
 * From a parser's result to rows of the shared findings store: asset identity (with the `asset_type` override),
 * store status, Phoenix's 1–10 severity, and a stable fingerprint — the same for every parser.
 */
import { SEVERITY_RANK, type Severity } from '../findings/severity.js'
import type { AssetAttributes, AssetType, ParsedAsset, ParsedFinding, ParseResult, ScanFindingStatus } from './parsers/types.js'
import { sha256Hex } from '../../platform/util/hash.js'

/** Phoenix's numeric severity ("1.0".."10.0"): critical 10, high 8, medium 5, low 2, info 1 (REFERENCE §2). */
export const PHOENIX_SEVERITY: Record<Severity, number> = { critical: 10, high: 8, medium: 5, low: 2, info: 1 }

/** Scanner statuses in the store's vocabulary (open, resolved, … as used by every source). */
export const STORE_STATUS: Record<ScanFindingStatus, string> = {
  active: 'open', mitigated: 'resolved', false_positive: 'false_positive', risk_accepted: 'risk_accepted',
}

export interface StoreAsset {
  /** The store's asset ref: the identity a security team would name it by (host name, IP, image, repository, …). */
  ref: string
  type: AssetType
  name: string
  attributes: AssetAttributes & { tags?: string[] }
  tags: string[]
  /** Number of findings of the file on this asset. */
  findings: number
}

export interface StoreFinding {
  fingerprint: string
  assetRef: string
  title: string
  description: string | null
  recommendation: string | null
  severity: Severity
  severityRank: number
  status: string
  externalId: string | null
  occurrences: number
  metadata: Record<string, unknown>
}

/** Attributes that identify an asset of each type, in order of preference. */
const IDENTITY: Record<AssetType, (keyof AssetAttributes)[]> = {
  INFRA: ['hostname', 'fqdn', 'ip', 'netbios', 'mac'],
  WEB: ['url', 'fqdn', 'hostname', 'ip'],
  CLOUD: ['resource', 'account'],
  CONTAINER: ['image', 'dockerfile'],
  REPOSITORY: ['repository'],
  CODE: ['scannerSource', 'repository', 'buildFile'],
  BUILD: ['buildFile', 'scannerSource', 'repository'],
}
const ANY_IDENTITY: (keyof AssetAttributes)[] = [
  'url', 'fqdn', 'hostname', 'ip', 'image', 'repository', 'scannerSource', 'buildFile', 'dockerfile', 'resource', 'account', 'netbios', 'mac',
]

/**
 * Re-types an asset for an `asset_type` override, moving its identity into the attribute Phoenix requires for the
 * new type (e.g. an INFRA host name becomes a WEB fqdn) so that the asset stays identifiable.
 */
export function retype(asset: ParsedAsset, type: AssetType): ParsedAsset {
  if (asset.type === type) return asset
  const a: AssetAttributes = { ...asset.attributes }
  const first = ANY_IDENTITY.map((k) => a[k]).find((v) => v !== undefined)
  const required = IDENTITY[type]
  if (!required.some((k) => a[k] !== undefined) && first !== undefined) {
    if (type === 'CLOUD') a.resource = first
    else a[required[0]!] = first
  }
  return { ...asset, type, attributes: a }
}

function assetRef(asset: ParsedAsset): string {
  const a = asset.attributes
  if (asset.type === 'CLOUD') {
    return [a.provider, a.account, a.region, a.resource].filter((v) => v !== undefined).join(':') || 'cloud'
  }
  const id = IDENTITY[asset.type].map((k) => a[k]).find((v) => v !== undefined) ?? ANY_IDENTITY.map((k) => a[k]).find((v) => v !== undefined)
  if (id === undefined) return `${asset.type.toLowerCase()}:unknown`
  return ['hostname', 'fqdn'].some((k) => a[k as keyof AssetAttributes] === id) ? id.toLowerCase() : id
}

function fingerprintOf(parserId: string, ref: string, f: ParsedFinding): string {
  if (f.uniqueId !== undefined) return sha256Hex(`scan\n${parserId}\n${ref}\nu|${f.uniqueId}`)
  const c = f.component
  const l = f.location
  // One template, no intermediate array: this runs once per finding.
  return sha256Hex(`scan\n${parserId}\n${ref}\n${f.ruleId ?? ''}|${f.vulnerabilityIds?.[0] ?? ''}|${c ? `${c.name}@${c.version ?? ''}` : ''}|`
    + `${l?.path ?? ''}|${l?.line ?? ''}|${l?.url ?? ''}|${l?.method ?? ''}|${l?.param ?? ''}|${l?.port ?? ''}|${f.title}`)
}

/** findings.metadata of one finding: only what the report gave (built by assignment; it runs per finding). */
function metadataOf(parserId: string, f: ParsedFinding): Record<string, unknown> {
  const m: Record<string, unknown> = { scanner: parserId, phoenix_severity: PHOENIX_SEVERITY[f.severity] }
  if (f.scannerSeverity !== undefined) m.scanner_severity = f.scannerSeverity
  if (f.vulnerabilityIds?.length) m.vulnerability_ids = f.vulnerabilityIds
  if (f.cwe?.length) m.cwe = f.cwe
  if (f.cvss !== undefined) m.cvss = f.cvss
  if (f.epss !== undefined) m.epss = f.epss
  if (f.component !== undefined) m.component = f.component
  if (f.fixVersion !== undefined) m.fix_version = f.fixVersion
  if (f.location !== undefined) m.location = f.location
  if (f.ruleId !== undefined) m.rule_id = f.ruleId
  if (f.statusReason !== undefined) m.status_reason = f.statusReason
  if (f.references?.length) m.references = f.references.length > 20 ? f.references.slice(0, 20) : f.references
  if (f.tags?.length) m.tags = f.tags
  if (f.uniqueId !== undefined) m.unique_id = f.uniqueId
  if (f.extra !== undefined) m.extra = f.extra
  return m
}

export interface NormalizeOptions {
  parserId: string
  assetTypeOverride?: AssetType | undefined
}

export interface Normalized {
  assets: StoreAsset[]
  /** One row per fingerprint (findings the file repeats are merged, occurrences summed). */
  findings: StoreFinding[]
  /** Findings as the parser returned them (vulnerabilities_imported). */
  parsedFindings: number
}

export function normalize(result: ParseResult, opts: NormalizeOptions): Normalized {
  const refByKey = new Map<string, string>()
  const assets = new Map<string, StoreAsset>()
  for (const parsed of result.assets) {
    const asset = opts.assetTypeOverride ? retype(parsed, opts.assetTypeOverride) : parsed
    const ref = assetRef(asset)
    refByKey.set(parsed.key, ref)
    const existing = assets.get(ref)
    const tags = asset.tags ?? []
    if (existing) {
      existing.attributes = { ...asset.attributes, ...existing.attributes }
      existing.tags = [...new Set([...existing.tags, ...tags])]
    } else {
      assets.set(ref, { ref, type: asset.type, name: ref, attributes: { ...asset.attributes }, tags: [...tags], findings: 0 })
    }
  }

  const findings = new Map<string, StoreFinding>()
  for (const f of result.findings) {
    const ref = refByKey.get(f.assetKey)
    if (ref === undefined) throw new Error(`finding "${f.title}" refers to an unknown asset`)
    assets.get(ref)!.findings++
    const fingerprint = fingerprintOf(opts.parserId, ref, f)
    const occurrences = f.occurrences ?? 1
    const existing = findings.get(fingerprint)
    if (existing) {
      existing.occurrences += occurrences
      continue
    }
    const status = f.status ?? 'active'
    findings.set(fingerprint, {
      fingerprint, assetRef: ref, title: f.title.length > 1000 ? f.title.slice(0, 1000) : f.title,
      description: f.description ?? null,
      recommendation: f.remedy ?? (f.fixVersion ? `Upgrade to ${f.fixVersion}` : null),
      severity: f.severity, severityRank: SEVERITY_RANK[f.severity], status: STORE_STATUS[status],
      externalId: f.uniqueId ?? f.vulnerabilityIds?.[0] ?? f.ruleId ?? null,
      occurrences,
      metadata: metadataOf(opts.parserId, f),
    })
  }
  return { assets: [...assets.values()], findings: [...findings.values()], parsedFindings: result.findings.length }
}
