/**
 * From a parser's result to rows of the shared findings store: asset identity (with the `asset_type` override),
 * store status, Phoenix's 1–10 severity, and a stable fingerprint — the same for every parser.
 */
import { createHash } from 'node:crypto'
import { SEVERITY_RANK, type Severity } from '../findings/severity.js'
import type { AssetAttributes, AssetType, ParsedAsset, ParsedFinding, ParseResult, ScanFindingStatus } from './parsers/types.js'

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
  const identity = f.uniqueId !== undefined
    ? `u|${f.uniqueId}`
    : [
      f.ruleId ?? '', f.vulnerabilityIds?.[0] ?? '', f.component ? `${f.component.name}@${f.component.version ?? ''}` : '',
      f.location?.path ?? '', f.location?.line ?? '', f.location?.url ?? '', f.location?.method ?? '', f.location?.param ?? '',
      f.location?.port ?? '', f.title,
    ].join('|')
  return createHash('sha256').update(`scan\n${parserId}\n${ref}\n${identity}`).digest('hex')
}

function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue
    out[k as keyof T] = v as T[keyof T]
  }
  return out
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
      fingerprint, assetRef: ref, title: f.title.slice(0, 1000),
      description: f.description ?? null,
      recommendation: f.remedy ?? (f.fixVersion ? `Upgrade to ${f.fixVersion}` : null),
      severity: f.severity, severityRank: SEVERITY_RANK[f.severity], status: STORE_STATUS[status],
      externalId: f.uniqueId ?? f.vulnerabilityIds?.[0] ?? f.ruleId ?? null,
      occurrences,
      metadata: compact({
        scanner: opts.parserId,
        phoenix_severity: PHOENIX_SEVERITY[f.severity],
        scanner_severity: f.scannerSeverity,
        vulnerability_ids: f.vulnerabilityIds,
        cwe: f.cwe,
        cvss: f.cvss,
        epss: f.epss,
        component: f.component,
        fix_version: f.fixVersion,
        location: f.location,
        rule_id: f.ruleId,
        status_reason: f.statusReason,
        references: f.references?.slice(0, 20),
        tags: f.tags,
        unique_id: f.uniqueId,
        extra: f.extra,
      }),
    })
  }
  return { assets: [...assets.values()], findings: [...findings.values()], parsedFindings: result.findings.length }
}
