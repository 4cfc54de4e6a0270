/** Small helpers shared by the parsers. Keep parser files about their format, and put anything reusable here. */
import { normalizeSeverity } from '../../findings/severity.js'
import type { AssetAttributes, AssetType, ParsedAsset, ScanDocument, Severity, XmlNode } from './types.js'

/** A report the parser cannot read: ends the import as `failed` with this message. */
export class ScanFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ScanFormatError'
  }
}

/**
 * A report with no content at all (0 bytes, only whitespace, or JSON `null`) — what several scanners write when they
 * found nothing. With an explicit `scanner_type` the import completes with 0 findings; auto-detection has nothing to
 * go on and fails with this message.
 */
export class EmptyReportError extends ScanFormatError {
  constructor(message: string) {
    super(message)
    this.name = 'EmptyReportError'
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** undefined/null → [], an array as is, anything else → [it]. XML elements that occur once are not arrays. */
export function asArray<T = unknown>(v: T | T[] | undefined | null): T[] {
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}

/**
 * A trimmed non-empty string, or undefined. Numbers and booleans are stringified; an XML element object gives its
 * `#text`.
 */
export function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') {
    const t = v.trim()
    return t === '' ? undefined : t
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (isObject(v) && '#text' in v) return str(v['#text'])
  return undefined
}

/** A finite number from a number or numeric string, else undefined. */
export function num(v: unknown): number | undefined {
  const s = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : isObject(v) ? Number(str(v)) : NaN
  return Number.isFinite(s) ? s : undefined
}

/** An attribute of an XML element (`@_name`). */
export function attr(node: unknown, name: string): string | undefined {
  return isObject(node) ? str(node[`@_${name}`]) : undefined
}

/** The child element(s) of an XML element under `name`, always as an array. */
export function children(node: unknown, name: string): XmlNode[] {
  if (!isObject(node)) return []
  return asArray(node[name] as XmlNode | XmlNode[] | undefined).map((c) => (isObject(c) ? c : { '#text': c }))
}

/** The first child element under `name`. */
export function child(node: unknown, name: string): XmlNode | undefined {
  return children(node, name)[0]
}

/** Text of the first child element under `name`. */
export function childText(node: unknown, name: string): string | undefined {
  if (!isObject(node)) return undefined
  const v = node[name]
  return str(Array.isArray(v) ? v[0] : v)
}

/** Maps a severity word onto our scale; also knows scanner words (negligible, unknown, note, error, warning, …). */
export function severityFromText(value: unknown): Severity | undefined {
  const s = str(value)
  if (!s) return undefined
  const direct = normalizeSeverity(s)
  if (direct) return direct
  switch (s.toLowerCase()) {
    case 'negligible': case 'unknown': case 'note': case 'informative': case 'info_only': case 'unspecified': case 'pass':
      return 'info'
    case 'warning': case 'warn':
      return 'medium'
    case 'error': case 'severe': case 'important':
      return 'high'
    case 'urgent': case 'blocker':
      return 'critical'
    default:
      return undefined
  }
}

/** CVSS base score → severity (CVSS v3 qualitative ranges; 0 → info). */
export function severityFromCvss(score: number | undefined): Severity | undefined {
  if (score === undefined || !Number.isFinite(score)) return undefined
  if (score === 0) return 'info'
  if (score < 4) return 'low'
  if (score < 7) return 'medium'
  if (score < 9) return 'high'
  return 'critical'
}

/** "CWE-79", "79", 79, "CWE-79: Improper …", ["CWE-79", …] → [79, …] (deduplicated). */
const SIMPLE_CWE = /^CWE-(\d{1,5})$/

export function parseCwe(v: unknown): number[] {
  // Fast path for the common shapes (undefined, ["CWE-79"]), which every vulnerability of large reports has.
  if (v === undefined || v === null) return []
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') {
    const m = SIMPLE_CWE.exec(v[0])
    if (m) return Number(m[1]) > 0 ? [Number(m[1])] : []
  }
  const out = new Set<number>()
  for (const item of asArray(v as unknown)) {
    if (typeof item === 'number') {
      if (Number.isInteger(item)) out.add(item)
      continue
    }
    const s = str(item)
    if (!s) continue
    const tagged = [...s.matchAll(/CWE[-_ :]?(\d{1,5})/gi)]
    if (tagged.length > 0) for (const m of tagged) out.add(Number(m[1]))
    else if (/^\d{1,5}$/.test(s)) out.add(Number(s))
  }
  return [...out].filter((n) => n > 0)
}

/** The CVSS version of a vector string ("CVSS:3.1/…" → "3.1"; a bare v2 vector "AV:N/AC:L/…" → "2.0"). */
export function cvssVersion(vector: string | undefined): string | undefined {
  if (!vector) return undefined
  const m = /^CVSS:(\d\.\d)\//.exec(vector)
  if (m) return m[1]
  return /^\(?AV:[LANP]\/AC:[HML]\/Au:/.test(vector) ? '2.0' : undefined
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/i
const GHSA_ID = /^GHSA(-[0-9a-z]{4}){3}$/i

/** One spelling per advisory id: CVE-… upper-case; GHSA-xxxx-xxxx-xxxx as GitHub writes it (lower-case body). */
export function canonicalVulnId(s: string): string {
  if (CVE_ID.test(s)) return s.toUpperCase()
  if (GHSA_ID.test(s)) return `GHSA${s.slice(4).toLowerCase()}`
  return s
}

/** Deduplicated advisory ids in canonical spelling (canonicalVulnId), others as given; order kept. */
export function vulnIds(...values: unknown[]): string[] {
  // Runs once or more per finding: plain loops, no intermediate arrays.
  const out: string[] = []
  const add = (v: unknown) => {
    const s = str(v)
    if (!s) return
    const id = canonicalVulnId(s)
    if (!out.includes(id)) out.push(id)
  }
  for (const x of values) {
    if (Array.isArray(x)) for (const v of x) add(v)
    else add(x)
  }
  return out
}

/** Every CVE id mentioned in a text. */
export function cvesIn(text: string | undefined): string[] {
  if (!text) return []
  return vulnIds(...(text.match(/CVE-\d{4}-\d{4,}/gi) ?? []))
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" }

/** HTML (as in Burp, ZAP, Qualys descriptions) → plain text with paragraph breaks kept. */
export function htmlToText(html: string | undefined): string | undefined {
  if (!html) return undefined
  const text = html
    .replace(/<\s*br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h[1-6]|tr)>/gi, '\n')
    .replace(/<li[^>]*>/gi, '- ')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#?\w+);/g, (m, e: string) => {
      if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16))
      if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)))
      return ENTITIES[e.toLowerCase()] ?? m
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
  return text === '' ? undefined : text
}

/** Host part of a URL (no port), or undefined. */
export function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '') || undefined
  } catch {
    return undefined
  }
}

/** scheme://host[:port] of a URL, or undefined. */
export function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    const u = new URL(url)
    return u.origin === 'null' ? undefined : u.origin
  } catch {
    return undefined
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/
export function isIp(s: string | undefined): boolean {
  if (!s) return false
  return IPV4.test(s) || (s.includes(':') && /^[0-9a-f:.]+$/i.test(s))
}

/** Attributes for a host given as either an IP or a name. */
export function hostAttributes(host: string | undefined): AssetAttributes {
  if (!host) return {}
  return isIp(host) ? { ip: host } : { hostname: host }
}

/**
 * Collects the assets of one report, merging repeats: `add` returns the key findings should use. Two adds with
 * the same type and identifying attributes are one asset (later attributes fill gaps).
 */
export class AssetCollector {
  private readonly byKey = new Map<string, ParsedAsset>()

  add(type: AssetType, attributes: AssetAttributes, tags?: string[]): string {
    const clean: AssetAttributes = {}
    for (const [k, v] of Object.entries(attributes) as [keyof AssetAttributes, string | undefined][]) {
      const s = str(v)
      if (s !== undefined) clean[k] = s
    }
    const key = assetKey(type, clean)
    const existing = this.byKey.get(key)
    if (existing) {
      existing.attributes = { ...clean, ...existing.attributes }
      if (tags?.length) existing.tags = [...new Set([...(existing.tags ?? []), ...tags])]
    } else {
      this.byKey.set(key, { key, type, attributes: clean, ...(tags?.length ? { tags: [...new Set(tags)] } : {}) })
    }
    return key
  }

  list(): ParsedAsset[] {
    return [...this.byKey.values()]
  }
}

/** The identity of an asset: its type and the attributes Phoenix identifies that type by. */
export function assetKey(type: AssetType, a: AssetAttributes): string {
  const lower = (s: string | undefined) => s?.toLowerCase()
  switch (type) {
    case 'INFRA': return `INFRA|${a.ip ?? ''}|${lower(a.hostname ?? a.fqdn) ?? ''}`
    case 'WEB': return `WEB|${lower(a.url) ?? ''}|${lower(a.fqdn ?? a.hostname) ?? ''}|${a.ip ?? ''}`
    case 'CLOUD': return `CLOUD|${lower(a.provider) ?? ''}|${a.account ?? ''}|${a.region ?? ''}|${a.resource ?? ''}`
    case 'CONTAINER': return `CONTAINER|${a.image ?? ''}|${a.dockerfile ?? ''}`
    case 'REPOSITORY': return `REPOSITORY|${a.repository ?? ''}`
    case 'CODE': return `CODE|${a.scannerSource ?? ''}`
    case 'BUILD': return `BUILD|${a.buildFile ?? ''}`
  }
}

/** A JSON array field: missing/null → [], an array as is; anything else is a format error naming `what`. */
export function arrayField(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new ScanFormatError(`${what} must be a JSON array, got ${typeof value}`)
  return value
}

/** Strings of a list (non-strings and blanks dropped); a single value gives [it]. */
export function strings(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => str(x)).filter((x): x is string => x !== undefined)
  const s = str(v)
  return s ? [s] : []
}

/** Distinct http(s) URLs, in order, from the given values (strings, lists, or several joined by spaces or `|`). */
export function urls(...values: unknown[]): string[] {
  const out: string[] = []
  for (const v of values) {
    for (const s of strings(v)) {
      for (const part of s.split(/\s*\|\s*|\s+/)) {
        if (/^https?:\/\/\S+$/i.test(part) && !out.includes(part)) out.push(part)
      }
    }
  }
  return out
}

const ODD_SPACE = /^\s|\s$|\s\s|[^\S ]/

/**
 * Python's `textwrap.shorten(text, width)`, which DefectDojo titles several formats with: whitespace collapsed; if
 * longer than `width`, whole words are kept and " [...]" appended so that the result fits.
 */
export function shorten(text: string, width = 150): string {
  if (text.length <= width && !ODD_SPACE.test(text)) return text
  const words = text.split(/\s+/).filter((w) => w !== '')
  const joined = words.join(' ')
  if (joined.length <= width) return joined
  const placeholder = ' [...]'
  let out = ''
  for (const w of words) {
    const next = out ? `${out} ${w}` : w
    if (next.length + placeholder.length > width) break
    out = next
  }
  return out ? out + placeholder : placeholder.trim()
}

/** The first record of a JSON array / JSON lines document, or a single-object JSON document; undefined otherwise. */
export function firstRecord(doc: ScanDocument): Record<string, unknown> | undefined {
  if (doc.kind !== 'json' && doc.kind !== 'jsonl') return undefined
  const first = Array.isArray(doc.json) ? doc.json[0] : doc.json
  return isObject(first) ? first : undefined
}

/** Top-level keys of a JSON object document (for detection), or an empty set. */
export function jsonKeys(doc: ScanDocument): Set<string> {
  return isObject(doc.json) ? new Set(Object.keys(doc.json)) : new Set()
}

/** The first element of a JSON array document, or undefined. */
export function firstJsonItem(doc: ScanDocument): unknown {
  return Array.isArray(doc.json) ? doc.json[0] : undefined
}

/** Lower-cased file name (for tie-breaking hints in detect()). */
export function fileHint(doc: ScanDocument): string {
  return doc.filename.toLowerCase()
}
