/**
 * Small helpers shared by the SAST / IaC parsers (sarif, semgrep, semgrep_pro, checkov, kics, tfsec, bandit).
 *
 * Asset policy of this group: static analysers and IaC scanners report on source files, so every finding belongs to
 * one CODE asset whose `scannerSource` is the scanned root when the report names it (SARIF version-control
 * provenance / SRCROOT, Checkov's absolute paths), else the report's file name. IaC templates are source code in a
 * repository, not build manifests, so CODE is used rather than BUILD. Reports that name a repository (Semgrep
 * Pro / Supply Chain API exports) use REPOSITORY.
 */
import type { ScanDocument } from './types.js'
import { AssetCollector, isObject, num, ScanFormatError, str } from './util.js'

/** The JSON object at the root of a report, or a ScanFormatError naming the report. */
export function jsonObjectRoot(doc: ScanDocument, where: string): Record<string, unknown> {
  if (doc.kind !== 'json') throw new ScanFormatError(`${where}: expected a JSON document, got ${doc.kind.toUpperCase()}`)
  if (!isObject(doc.json)) throw new ScanFormatError(`${where}: expected a JSON object at the root`)
  return doc.json
}

/**
 * An array of objects under `key` of `parent` (missing or null → []), or a ScanFormatError naming the problem.
 * `required`: a missing key is an error too.
 */
export function objectList(parent: Record<string, unknown>, key: string, where: string, required = false): Record<string, unknown>[] {
  const v = parent[key]
  if (v === undefined || v === null) {
    if (required) throw new ScanFormatError(`${where}: the "${key}" list is missing`)
    return []
  }
  if (!Array.isArray(v)) throw new ScanFormatError(`${where}: "${key}" must be a list, got ${typeof v}`)
  for (const [i, item] of v.entries()) {
    if (!isObject(item)) throw new ScanFormatError(`${where}: entry ${i + 1} of "${key}" is not an object`)
  }
  return v as Record<string, unknown>[]
}

/** An object under `key` (missing/null → undefined), or a ScanFormatError when it has another type. */
export function optObject(parent: Record<string, unknown>, key: string, where: string): Record<string, unknown> | undefined {
  const v = parent[key]
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw new ScanFormatError(`${where}: "${key}" must be an object`)
  return v
}

/** A source line number (positive integer), else undefined (0 and negatives mean "no line"). */
export function lineNumber(v: unknown): number | undefined {
  const n = num(v)
  return n !== undefined && n >= 1 ? Math.trunc(n) : undefined
}

/**
 * The scanned root when a finding gives both its absolute and its root-relative path
 * ("/infra/terraform/aws/db.tf" + "/aws/db.tf" → "/infra/terraform").
 */
export function rootFromPaths(absolute: string | undefined, relative: string | undefined): string | undefined {
  if (!absolute || !relative) return undefined
  const rel = relative.replace(/^\.?\/+/, '/')
  const tail = rel.startsWith('/') ? rel : `/${rel}`
  if (!absolute.endsWith(tail) || absolute.length === tail.length) return undefined
  return absolute.slice(0, absolute.length - tail.length) || undefined
}

/** One CODE asset for a report: its scanned root when known, else the report's file name (else the tool name). */
export function codeAsset(assets: AssetCollector, doc: ScanDocument, tool: string, root?: string, repository?: string): string {
  const scannerSource = str(root) ?? str(repository) ?? str(doc.filename) ?? tool
  return assets.add('CODE', { scannerSource, ...(repository ? { repository } : {}) })
}

/** Keeps a text readable in a description: trimmed, long texts cut with an ellipsis. */
export function clip(text: string | undefined, max = 4000): string | undefined {
  if (text === undefined) return undefined
  const t = text.trim()
  if (t === '') return undefined
  return t.length > max ? `${t.slice(0, max)}…` : t
}
