/**
 * Export of an import's assets and open findings to Phoenix Security: a client-credentials token
 * (GET /v1/auth/access_token with HTTP Basic), then POST /v1/import/assets in batches of at most `max_batch_size`
 * findings and `max_payload_mb` of JSON, one series per asset type (Phoenix takes one asset type per import).
 * Later batches of a series are sent as `merge` so that a `delta` import does not close what its own first batch
 * sent. Everything goes through the platform HTTP client (timeouts, SSRF guard); a POST is retried only when
 * Phoenix did not act on it (429, 503), because replaying an import duplicates it.
 */
import { AppError } from '../../platform/errors.js'
import type { HttpClient } from '../../platform/http-client/index.js'
import type { StoreAsset, StoreFinding } from './normalize.js'
import type { AssetType } from './parsers/types.js'

export interface PhoenixTarget { apiUrl: string; clientId: string; clientSecret: string }

export interface PhoenixExportOptions {
  importType: 'new' | 'merge' | 'delta'
  assessmentName: string
  maxBatchSize: number
  maxPayloadMb: number
  enableBatching: boolean
  signal?: AbortSignal | undefined
  log(message: string): Promise<void>
}

export interface PhoenixExportResult {
  requests: { id: string | null; assetType: string; importType: string; assets: number; findings: number; bytes: number }[]
  assets: number
  findings: number
  skippedFindings: number
}

type PhoenixTag = { key: string; value: string }
interface PhoenixAsset { attributes: Record<string, string>; tags: PhoenixTag[]; findings: Record<string, unknown>[] }

/** A failure talking to Phoenix: the import's data is stored, the export did not complete. */
export class PhoenixExportError extends AppError {
  constructor(message: string) { super(502, 'phoenix_export_failed', message) }
}

function tagsOf(values: string[] | undefined): PhoenixTag[] {
  return (values ?? []).slice(0, 50).map((t) => {
    const i = t.indexOf(':')
    return i > 0 ? { key: t.slice(0, i), value: t.slice(i + 1) } : { key: 'tag', value: t }
  })
}

/** Our asset attributes in Phoenix's names. */
function phoenixAttributes(a: StoreAsset): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(a.attributes)) {
    if (typeof v !== 'string' || v === '') continue
    switch (k) {
      case 'mac': out.macAddress = v; break
      case 'provider': out.providerType = v.toUpperCase(); break
      case 'account': out.providerAccountId = v; break
      case 'image': out.dockerfile ??= v; out.image = v; break
      default: out[k] = v
    }
  }
  return out
}

function phoenixFinding(f: StoreFinding): Record<string, unknown> {
  const m = f.metadata as Record<string, any>
  const loc = m.location as { path?: string; line?: number; url?: string; method?: string; param?: string; port?: number } | undefined
  const component = m.component as { name: string; version?: string } | undefined
  const location = loc?.url ?? (loc?.path ? `${loc.path}${loc.line ? `:${loc.line}` : ''}` : undefined)
    ?? (component ? `${component.name}${component.version ? `@${component.version}` : ''}` : undefined)
  const finding: Record<string, unknown> = {
    name: f.title,
    description: f.description ?? f.title,
    remedy: f.recommendation ?? 'No remediation provided by the scanner.',
    severity: m.phoenix_severity as number,
    location: location ?? f.assetRef,
    details: {
      scanner: m.scanner, fingerprint: f.fingerprint,
      ...(m.cvss ? { cvss: m.cvss } : {}), ...(m.epss ? { epss: m.epss } : {}),
      ...(m.fix_version ? { fix_version: m.fix_version } : {}), ...(m.rule_id ? { rule_id: m.rule_id } : {}),
      ...(component ? { component } : {}),
    },
  }
  if (Array.isArray(m.vulnerability_ids) && m.vulnerability_ids.length) finding.referenceIds = m.vulnerability_ids
  if (Array.isArray(m.cwe) && m.cwe.length) finding.cwes = (m.cwe as number[]).map((c) => `CWE-${c}`)
  if (Array.isArray(m.tags) && m.tags.length) finding.tags = tagsOf(m.tags as string[])
  return finding
}

interface Batch { assets: PhoenixAsset[]; findings: number; bytes: number }

/** Splits one asset type's assets into batches within the limits (an asset with many findings spans batches). */
export function planBatches(assets: PhoenixAsset[], maxFindings: number, maxBytes: number, enableBatching: boolean): Batch[] {
  const overhead = 200
  if (!enableBatching) {
    const bytes = Buffer.byteLength(JSON.stringify(assets)) + overhead
    if (bytes > maxBytes) {
      throw new PhoenixExportError(`The export is ${(bytes / 1048576).toFixed(1)} MB, over max_payload_mb (${(maxBytes / 1048576).toFixed(1)} MB), and enable_batching is off`)
    }
    return [{ assets, findings: assets.reduce((n, a) => n + a.findings.length, 0), bytes }]
  }
  const batches: Batch[] = []
  let current: Batch = { assets: [], findings: 0, bytes: overhead }
  const flush = () => {
    if (current.assets.length) batches.push(current)
    current = { assets: [], findings: 0, bytes: overhead }
  }
  for (const asset of assets) {
    const base = Buffer.byteLength(JSON.stringify({ ...asset, findings: [] })) + 1
    let part: PhoenixAsset = { ...asset, findings: [] }
    let partBytes = base
    const addPart = () => {
      if (current.assets.length && (current.findings + part.findings.length > maxFindings || current.bytes + partBytes > maxBytes)) flush()
      current.assets.push(part)
      current.findings += part.findings.length
      current.bytes += partBytes
    }
    if (asset.findings.length === 0) {
      addPart()
      continue
    }
    for (const f of asset.findings) {
      const size = Buffer.byteLength(JSON.stringify(f)) + 1
      if (base + size + overhead > maxBytes) throw new PhoenixExportError(`A single finding ("${String(f.name).slice(0, 80)}") is larger than max_payload_mb`)
      if (part.findings.length >= maxFindings || partBytes + size > maxBytes - overhead) {
        addPart()
        part = { ...asset, findings: [] }
        partBytes = base
      }
      part.findings.push(f)
      partBytes += size
    }
    addPart()
  }
  flush()
  return batches
}

export async function exportToPhoenix(http: HttpClient, target: PhoenixTarget, assets: StoreAsset[], findings: StoreFinding[], o: PhoenixExportOptions): Promise<PhoenixExportResult> {
  const base = target.apiUrl.replace(/\/+$/, '')
  let token: string | undefined
  const auth = async () => {
    const res = await http.request(`${base}/v1/auth/access_token`, {
      method: 'GET', signal: o.signal,
      headers: { authorization: `Basic ${Buffer.from(`${target.clientId}:${target.clientSecret}`).toString('base64')}` },
    }).catch((err: unknown) => { throw new PhoenixExportError(`Failed to connect to Phoenix API: ${(err as Error).message}`) })
    if (res.status !== 200) throw new PhoenixExportError(`Phoenix refused the client credentials (HTTP ${res.status})`)
    const t = (JSON.parse(res.body.toString('utf8') || '{}') as { token?: unknown }).token
    if (typeof t !== 'string' || !t) throw new PhoenixExportError('Phoenix answered the token request without a token')
    token = t
  }

  // Only open findings go to Phoenix: what is fixed, false positive or accepted is simply absent, which is what a
  // delta import there means.
  const open = findings.filter((f) => f.status === 'open')
  const byAsset = new Map<string, Record<string, unknown>[]>()
  for (const f of open) {
    const list = byAsset.get(f.assetRef) ?? []
    list.push(phoenixFinding(f))
    byAsset.set(f.assetRef, list)
  }
  const byType = new Map<AssetType, PhoenixAsset[]>()
  for (const a of assets) {
    const list = byType.get(a.type) ?? []
    list.push({ attributes: phoenixAttributes(a), tags: tagsOf(a.tags), findings: byAsset.get(a.ref) ?? [] })
    byType.set(a.type, list)
  }

  const result: PhoenixExportResult = { requests: [], assets: assets.length, findings: open.length, skippedFindings: findings.length - open.length }
  await auth()
  for (const [assetType, list] of byType) {
    const batches = planBatches(list, o.maxBatchSize, o.maxPayloadMb * 1048576, o.enableBatching)
    for (const [i, batch] of batches.entries()) {
      const importType = i === 0 ? o.importType : 'merge'
      const body = JSON.stringify({ importType, assessment: { assetType, name: o.assessmentName }, assets: batch.assets })
      let res = await post(body)
      if (res.status === 401) {
        await auth()
        res = await post(body)
      }
      if (res.status !== 200 && res.status !== 201) {
        const detail = res.body.toString('utf8').slice(0, 300)
        throw new PhoenixExportError(`Phoenix rejected import batch ${i + 1} of ${batches.length} (${assetType}): HTTP ${res.status}${detail ? ` ${detail}` : ''}`)
      }
      const id = (() => {
        try { return (JSON.parse(res.body.toString('utf8') || '{}') as { id?: string }).id ?? null } catch { return null }
      })()
      result.requests.push({ id, assetType, importType, assets: batch.assets.length, findings: batch.findings, bytes: Buffer.byteLength(body) })
      await o.log(`Phoenix: sent ${assetType} batch ${i + 1} of ${batches.length} (${batch.assets.length} assets, ${batch.findings} findings, ${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB, ${importType})${id ? ` → request ${id}` : ''}`)
    }
  }
  return result

  async function post(body: string) {
    return http.request(`${base}/v1/import/assets`, {
      method: 'POST', body, signal: o.signal, timeoutMs: 120_000,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    }).catch((err: unknown) => { throw new PhoenixExportError(`Failed to connect to Phoenix API: ${(err as Error).message}`) })
  }
}
