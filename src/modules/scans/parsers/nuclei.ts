/**
 * Nuclei JSON output: JSON lines (`-jsonl`, older `-json`) or a JSON array (`-json-export`). DefectDojo's
 * "Nuclei Scan": one finding per template + type + matcher + host (repeated matches on other URLs of the same host
 * are merged), title = the template's `info.name`, severity from `info.severity` (anything unknown → Low).
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { parseCwe, AssetCollector, cvssVersion, firstRecord, isIp, isObject, num, originOf, ScanFormatError, str, strings, vulnIds } from './util.js'
import { jsonRecords, looseHost, loosePort } from './js-secrets-common.js'

const WHERE = 'Nuclei report'
const SEVERITY: Record<string, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'info' }
const METHOD = /^([A-Z]{3,10}) \S/

interface HostInfo { name: string; url?: string | undefined; ip?: string | undefined }

function templateId(r: Record<string, unknown>): string | undefined {
  return str(r['template-id']) ?? str(r.templateID)
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' && doc.kind !== 'jsonl') return 0
  const first = firstRecord(doc)
  if (!isObject(first) || !isObject(first.info)) return 0
  if (templateId(first) !== undefined && ('matched-at' in first || 'matched' in first || 'host' in first || 'type' in first)) return 1
  if ('severity' in first.info && ('matched-at' in first || 'matched' in first)) return 0.8
  return 0
}

function referencesOf(v: unknown): string[] {
  const out: string[] = []
  for (const item of strings(v)) {
    // Old templates wrote one string "- url\n- url".
    for (const part of item.split('\n')) {
      const ref = part.replace(/^\s*-\s*/, '').trim()
      if (ref && !out.includes(ref)) out.push(ref)
    }
  }
  return out
}

function tagsOf(v: unknown): string[] {
  return [...new Set(strings(v).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== ''))]
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'json' && doc.kind !== 'jsonl') throw new ScanFormatError(`${WHERE}: expected JSON lines or a JSON array`)
  if (doc.kind === 'json' && !Array.isArray(doc.json) && !isObject(doc.json)) throw new ScanFormatError(`${WHERE}: expected JSON lines or a JSON array`)
  const records = jsonRecords(doc)
  const assets = new AssetCollector()
  const hosts = new Map<string, HostInfo>()
  const originCache = new Map<string, string>()
  const pending: { finding: ParsedFinding; host: HostInfo | undefined }[] = []
  const byKey = new Map<string, ParsedFinding>()

  for (const [i, item] of records.entries()) {
    if (!isObject(item)) throw new ScanFormatError(`${WHERE}: result ${i + 1} is not an object`)
    const info = item.info
    if (!isObject(info)) throw new ScanFormatError(`${WHERE}: result ${i + 1} has no "info" object (template metadata)`)
    const tid = templateId(item) ?? ''
    const type = str(item.type) ?? ''
    const matched = str(item['matched-at']) ?? str(item.matched) ?? ''
    const matcher = str(item['matcher-name']) ?? str(item.matcher_name) ?? ''
    const host = looseHost(matched)
    const key = `${tid}\u0000${type}\u0000${matcher}\u0000${host}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      const endpoints = prev.extra?.endpoints as string[] | undefined
      if (endpoints && matched && endpoints.length < 20 && !endpoints.includes(matched)) endpoints.push(matched)
      continue
    }

    // Asset: one WEB asset per host, its attributes gathered over the whole report (one result may carry the IP
    // and another the URL); assigned after the loop. Results with no target at all join the report's first host.
    const target = str(item.host) ?? (matched || undefined) ?? str(item.path) ?? str(item.url)?.replace(/^\/(?=[a-z][a-z0-9+.-]*:\/\/)/i, '')
    const name = host || looseHost(target)
    const ip = str(item.ip)?.replace(/\.$/, '')
    let assetHost: HostInfo | undefined
    if (name) {
      assetHost = hosts.get(name)
      if (!assetHost) hosts.set(name, (assetHost = { name }))
      if (!assetHost.url && target?.includes('://')) assetHost.url = originCache.get(target) ?? originOf(target)
      if (!assetHost.url && matched.includes('://')) assetHost.url = originOf(matched)
      if (target?.includes('://') && !originCache.has(target) && assetHost.url) originCache.set(target, assetHost.url)
      if (!assetHost.ip && isIp(ip)) assetHost.ip = ip
    }

    const severityWord = str(info.severity)
    const severity = SEVERITY[severityWord?.toLowerCase() ?? ''] ?? 'low'
    const cls = isObject(info.classification) ? info.classification : undefined
    const cves = vulnIds(...strings(cls?.['cve-id']).map((c) => c.toUpperCase()))
    const cwe = parseCwe(cls?.['cwe-id'])
    const vector = str(cls?.['cvss-metrics'])
    const score = num(cls?.['cvss-score'])
    const extracted = strings(item['extracted-results'] ?? item.extracted_results)
    let description = str(info.description)
    if (extracted.length) description = `${description ?? ''}\n\nResults:\n${extracted.slice(0, 20).join('\n')}`.trim()
    const curl = str(item['curl-command'])
    if (curl) description = `${description ?? ''}\n\nReproduce with:\n${curl.length > 2000 ? `${curl.slice(0, 2000)}…` : curl}`.trim()
    const request = typeof item.request === 'string' ? item.request : undefined
    const method = request ? METHOD.exec(request)?.[1] : undefined
    const url = matched.includes('://') ? matched : undefined
    const port = loosePort(matched) ?? num(item.port)
    const scheme = str(item.scheme) ?? (url ? url.slice(0, url.indexOf('://')) : undefined)
    const references = referencesOf(info.reference)
    const tags = tagsOf(info.tags)
    const epss = num(cls?.['epss-score'])
    const percentile = num(cls?.['epss-percentile'])

    const finding: ParsedFinding = {
      assetKey: '',
      title: str(info.name) ?? (tid || 'Nuclei finding'),
      ...(description ? { description } : {}),
      ...(str(info.remediation) ? { remedy: str(info.remediation)! } : {}),
      severity,
      ...(severityWord ? { scannerSeverity: severityWord } : {}),
      ...(cves.length ? { vulnerabilityIds: cves } : {}),
      ...(cwe.length ? { cwe } : {}),
      ...(vector || score !== undefined ? { cvss: { ...(vector ? { vector } : {}), ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) } } : {}),
      ...(epss !== undefined ? { epss: { score: epss, ...(percentile !== undefined ? { percentile } : {}) } } : {}),
      location: {
        ...(url ? { url } : matched ? { path: matched } : {}),
        ...(method ? { method } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(scheme ? { protocol: scheme } : type && type !== 'http' ? { protocol: type } : {}),
      },
      ...(tid ? { ruleId: tid } : {}),
      ...(references.length ? { references } : {}),
      ...(tags.length ? { tags } : {}),
      occurrences: 1,
      extra: {
        ...(type ? { type } : {}),
        ...(matcher ? { matcher } : {}),
        ...(str(item.template) ? { template: str(item.template) } : {}),
        endpoints: matched ? [matched] : [],
      },
    }
    byKey.set(key, finding)
    pending.push({ finding, host: assetHost })
  }

  const keyOf = new Map<HostInfo, string>()
  for (const h of hosts.values()) {
    keyOf.set(h, assets.add('WEB', {
      ...(h.url ? { url: h.url } : {}),
      ...(isIp(h.name) ? { ip: h.name } : { fqdn: h.name, ...(h.ip ? { ip: h.ip } : {}) }),
    }))
  }
  const firstHost = hosts.values().next().value
  let orphanKey: string | undefined
  for (const { finding, host } of pending) {
    const h = host ?? firstHost
    finding.assetKey = h ? keyOf.get(h)! : (orphanKey ??= assets.add('WEB', { fqdn: doc.filename || 'nuclei' }))
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'nuclei',
  label: 'Nuclei',
  aliases: ['Nuclei Scan'],
  formats: ['json', 'jsonl'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
