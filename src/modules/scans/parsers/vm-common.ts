/**
 * Shared by the vulnerability-management parsers (Tenable, Qualys VM / VMDR / HackerGuardian / infrascan / WAS):
 * Qualys severity levels, "8.1 (AV:N/…)" CVSS cells, CSV column picking and header sniffing, and per-asset merging.
 */
import { parse as parseCsv } from 'csv-parse/sync'
import type { AssetAttributes, ParsedFinding, ScanDocument, Severity } from './types.js'
import { cvssVersion, htmlToText, isIp, num, ScanFormatError, str } from './util.js'

/** Qualys severity level 1–5 → info..critical (DefectDojo's default, "legacy" Qualys mapping). */
const QUALYS_LEVELS: Record<string, Severity> = { 1: 'info', 2: 'low', 3: 'medium', 4: 'high', 5: 'critical' }
export function qualysLevel(v: unknown): Severity | undefined {
  const s = str(v)
  return s === undefined ? undefined : QUALYS_LEVELS[s]
}

/** Qualys writes "-" or "'-" for "no value". */
export function qv(v: unknown): string | undefined {
  const s = str(v)
  return s === undefined || s === '-' || s === "'-" ? undefined : s
}

const CVSS_CELL = /^(\d{1,2}(?:\.\d)?)\s*(?:\((.*)\))?$/

/** "8.1 (AV:N/AC:H/…)" or "8.1" → score and bare vector. */
export function splitCvssCell(v: unknown): { score?: number; vector?: string } {
  const s = qv(v)
  if (!s) return {}
  const m = CVSS_CELL.exec(s)
  if (!m) return {}
  const score = num(m[1])
  const vector = str(m[2])
  return { ...(score !== undefined ? { score } : {}), ...(vector ? { vector } : {}) }
}

/** A CVSS v3 vector with its "CVSS:3.x/" prefix (Tenable and Qualys often omit it; DefectDojo assumes 3.0). */
export function v3Vector(vector: string | undefined): string | undefined {
  if (!vector) return undefined
  const v = vector.trim()
  if (v === '' || v === '-') return undefined
  return v.startsWith('CVSS:') ? v : `CVSS:3.0/${v.replace(/^\/+/, '')}`
}

/** A CVSS v2 vector without Tenable's "CVSS2#" prefix or Qualys' brackets. */
export function v2Vector(vector: string | undefined): string | undefined {
  if (!vector) return undefined
  const v = vector.trim().replace(/^CVSS2#/i, '').replace(/^\((.*)\)$/, '$1')
  return v === '' || v === '-' ? undefined : v
}

/** `cvss` for a finding from the v3 (preferred) or v2 parts, or undefined when there is nothing. */
export function cvssOf(v3: { score?: number | undefined; vector?: string | undefined }, v2?: { score?: number | undefined; vector?: string | undefined }): ParsedFinding['cvss'] {
  const v3v = v3Vector(v3.vector)
  if (v3v || v3.score !== undefined) {
    const version = cvssVersion(v3v) ?? '3.0'
    return { ...(v3v ? { vector: v3v } : {}), ...(v3.score !== undefined ? { score: v3.score } : {}), version }
  }
  if (v2) {
    const v2v = v2Vector(v2.vector)
    if (v2v || v2.score !== undefined) return { ...(v2v ? { vector: v2v } : {}), ...(v2.score !== undefined ? { score: v2.score } : {}), version: '2.0' }
  }
  return undefined
}

/**
 * The value of the first of `keys` the row HAS (even when empty), like DefectDojo's chained `row.get(a, row.get(b))`;
 * `undefined` when the row has none of them.
 */
export function pick(row: Record<string, string>, ...keys: string[]): string | undefined {
  for (const k of keys) if (k in row) return row[k]
  return undefined
}

/** The first non-empty (trimmed) value among `keys`. */
export function first(row: Record<string, string>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = qv(row[k])
    if (v !== undefined) return v
  }
  return undefined
}

/** The CSV header of a document as a Set (empty for other kinds). */
export function csvHeader(doc: ScanDocument): Set<string> {
  return doc.kind === 'csv' ? new Set(doc.csv?.header ?? []) : new Set()
}

/** The first few raw lines of the text (cheap, for detection of reports with metadata lines above the header). */
export function headLines(text: string, n: number): string[] {
  const out: string[] = []
  let start = 0
  while (out.length < n && start < text.length) {
    const end = text.indexOf('\n', start)
    const line = (end < 0 ? text.slice(start) : text.slice(start, end)).replace(/\r$/, '')
    out.push(line)
    if (end < 0) break
    start = end + 1
  }
  return out
}

/** Header cells of a single CSV line (quotes stripped). */
export function lineCells(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"+|"+$/g, '').trim())
}

/** Rows of a CSV text whose header is on line `headerIndex` (0-based), lines above it ignored. */
export function csvRowsFrom(text: string, headerIndex: number, where: string): { header: string[]; rows: Record<string, string>[] } {
  let offset = 0
  for (let i = 0; i < headerIndex; i++) {
    const nl = text.indexOf('\n', offset)
    if (nl < 0) return { header: [], rows: [] }
    offset = nl + 1
  }
  let records: string[][]
  try {
    records = parseCsv(text.slice(offset), { relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true }) as string[][]
  } catch (err) {
    throw new ScanFormatError(`${where}: the CSV could not be read: ${(err as Error).message}`)
  }
  const header = (records[0] ?? []).map((h) => h.trim())
  const rows = records.slice(1).map((r) => {
    const row: Record<string, string> = {}
    header.forEach((h, i) => { row[h] = r[i] ?? '' })
    return row
  })
  return { header, rows }
}

/** INFRA attributes from what a VM report says about a host. `host` may be an IP or a name. */
export function infraAttributes(a: { host?: string | undefined; ip?: string | undefined; name?: string | undefined; netbios?: string | undefined; os?: string | undefined; mac?: string | undefined }): AssetAttributes {
  const ip = a.ip ?? (isIp(a.host) ? a.host : undefined)
  const hostname = a.name ?? (a.host && !isIp(a.host) ? a.host : undefined)
  return {
    ...(ip ? { ip } : {}),
    ...(hostname ? { hostname } : {}),
    ...(a.netbios ? { netbios: a.netbios } : {}),
    ...(a.os ? { os: a.os } : {}),
    ...(a.mac ? { mac: a.mac } : {}),
  }
}

/** Appends a block of text to a finding's description, keeping merged descriptions bounded. */
const MAX_DESCRIPTION = 60_000
export function appendDescription(f: ParsedFinding, block: string | undefined): void {
  if (!block) return
  const cur = f.description ?? ''
  if (cur.length >= MAX_DESCRIPTION) return
  const next = cur ? `${cur}\n\n${block}` : block
  f.description = next.length > MAX_DESCRIPTION ? `${next.slice(0, MAX_DESCRIPTION)}…` : next
}

/** Adds ids to a finding's vulnerabilityIds (deduplicated, order kept). */
export function addIds(f: ParsedFinding, ids: readonly string[]): void {
  if (ids.length === 0) return
  const list = f.vulnerabilityIds ?? (f.vulnerabilityIds = [])
  for (const id of ids) if (!list.includes(id)) list.push(id)
}

/** Comma-separated CVE list → upper-cased CVE ids. */
export function cveList(v: string | undefined): string[] {
  if (!v) return []
  const out: string[] = []
  for (const m of v.matchAll(/CVE-\d{4}-\d{4,}/gi)) {
    const id = m[0].toUpperCase()
    if (!out.includes(id)) out.push(id)
  }
  return out
}

/** Whitespace-separated URLs of a "see also" cell. */
export function urlList(v: string | undefined): string[] {
  if (!v) return []
  return [...new Set(v.split(/\s+/).filter((s) => /^https?:\/\//i.test(s)))]
}

/** A port number from a cell ("0", "", "'-" → undefined). */
export function portOf(v: unknown): number | undefined {
  const n = num(qv(v))
  return n !== undefined && Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined
}

/** The PCI / HackerGuardian column layout ("VULN TITLE", "Q_SEVERITY"): shared with qualys_hacker_guardian. */
export function isPciLayout(h: Set<string>): boolean {
  return h.has('QID') && h.has('VULN TITLE') && h.has('IP')
}

/**
 * Tells the Qualys PCI scan CSV from a HackerGuardian export (identical columns): HackerGuardian quotes every cell
 * and writes SEVERITY as one letter (L/M/H/C); the PCI report leaves cells unquoted and writes the word.
 * Returns a score in favour of HackerGuardian, 0..1.
 */
export function hackerGuardianLikelihood(doc: ScanDocument): number {
  const rows = doc.csv?.rows ?? []
  const sev = str(rows[0]?.SEVERITY)
  const quoted = doc.text.trimStart().startsWith('"')
  let score = 0.5
  if (sev !== undefined) score += sev.length === 1 ? 0.3 : -0.3
  score += quoted ? 0.15 : -0.15
  return Math.max(0, Math.min(1, score))
}

const HTML_HINT = /[<&]/

/** htmlToText, skipped for text with no markup or entities (most Qualys RESULT cells; saves time on big reports). */
export function plainText(s: string | undefined): string | undefined {
  if (!s) return undefined
  if (!HTML_HINT.test(s)) {
    const t = s.trim()
    return t === '' ? undefined : t
  }
  return htmlToText(s)
}
