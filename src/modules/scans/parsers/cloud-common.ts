/**
 * Shared pieces of the Prowler parsers (aws_prowler v2, aws_prowler_v3plus v3/v4, prowler v4/v5 multi-cloud):
 * DefectDojo's title shortening, severity words, the OCSF record shape, and the uniqueness guard for tool ids.
 */
import type { ParseContext, ParsedFinding, ScanDocument, Severity } from './types.js'
import { isObject, ScanFormatError, severityFromText, str, strings } from './util.js'

/** DefectDojo gives every Prowler finding CWE-1032 (Security Configuration Weaknesses). */
export const PROWLER_CWE = 1032

/** Prowler's severity words (critical/high/medium/low/informational); DefectDojo maps anything else to Info. */
export function prowlerSeverity(value: unknown): Severity {
  return severityFromText(value) ?? 'info'
}

/** OCSF `severity_id` (1 informational … 5 critical, 6 fatal) → our scale. */
export function ocsfSeverityId(id: unknown): Severity | undefined {
  switch (typeof id === 'string' ? Number(id) : id) {
    case 1: return 'info'
    case 2: return 'low'
    case 3: return 'medium'
    case 4: return 'high'
    case 5: case 6: return 'critical'
    default: return undefined
  }
}

/** An object field as an object ({} when absent or not an object). */
export function obj(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {}
}

/** Prowler's compliance map {"CIS-1.4": ["1.20", …], …} as "CIS-1.4: 1.20; …" lines. */
export function complianceLines(v: unknown): string[] {
  if (!isObject(v)) return []
  const out: string[] = []
  for (const [framework, reqs] of Object.entries(v)) {
    const list = strings(reqs)
    out.push(list.length ? `${framework}: ${list.join(', ')}` : framework)
  }
  return out
}

/** `Label: value` lines for the values that are present, joined by newlines. */
export function labelled(pairs: [string, string | undefined][]): string | undefined {
  const text = pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '').map(([k, v]) => `${k}: ${v}`).join('\n')
  return text === '' ? undefined : text
}

/** Paragraphs that are present, joined by blank lines. */
export function paragraphs(...parts: (string | undefined)[]): string | undefined {
  const text = parts.filter((p): p is string => p !== undefined && p.trim() !== '').join('\n\n')
  return text === '' ? undefined : text
}

/**
 * A tool id is only worth keeping as `uniqueId` when it is unique within the report (the pipeline prefers it for
 * deduplication). Redacted samples carry placeholders such as "<finding_uid>" on every record; those are dropped.
 */
export function dropSharedUniqueIds(findings: ParsedFinding[], ctx: ParseContext): void {
  const counts = new Map<string, number>()
  for (const f of findings) if (f.uniqueId) counts.set(f.uniqueId, (counts.get(f.uniqueId) ?? 0) + 1)
  let dropped = 0
  for (const f of findings) {
    if (f.uniqueId && (counts.get(f.uniqueId) ?? 0) > 1) {
      delete f.uniqueId
      dropped++
    }
  }
  if (dropped) ctx.warn(`Prowler: ${dropped} findings share their finding id with another finding; those ids were not used for deduplication`)
}

/** The records of a JSON-array report, or a clear error. */
export function jsonArray(doc: ScanDocument, where: string): unknown[] {
  if (!Array.isArray(doc.json)) throw new ScanFormatError(`${where}: expected a JSON array of findings`)
  return doc.json
}

/** Whether an OCSF record is a Prowler Detection Finding (v4 `json-ocsf` output). */
export function isProwlerOcsf(r: Record<string, unknown> | undefined): r is Record<string, unknown> {
  if (!r || typeof r.status_code !== 'string' || !isObject(r.finding_info)) return false
  const meta = obj(r.metadata)
  const product = str(obj(meta.product).name)?.toLowerCase()
  return product === 'prowler' || (str(meta.event_code) !== undefined && str(obj(r.finding_info).uid)?.startsWith('prowler-') === true)
}

/** Which Prowler OCSF generation a record comes from: v5+ writes a top-level `message` (DefectDojo's title there). */
export function ocsfHasMessage(r: Record<string, unknown>): boolean {
  return typeof r.message === 'string'
}
