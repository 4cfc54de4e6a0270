/**
 * KICS JSON (`kics scan --report-formats json`), as DefectDojo's "KICS Scan" reads it: one finding per file entry
 * of each query, title "{category}: {query_name}", severity HIGH/MEDIUM/LOW/INFO (CRITICAL, added in KICS 2, is
 * kept as critical; anything else → medium), expected_value → remedy, query_url → reference; entries with the
 * same platform + category + issue type + file + expected value + line are merged (occurrences counted).
 * ruleId = query_id, uniqueId = similarity_id (KICS's stable per-result hash), CWE from the query's `cwe`.
 * Asset: CODE, scannerSource = the file name (KICS does not name the scanned root). IaC templates are source code,
 * hence CODE rather than BUILD.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { parseCwe, AssetCollector, isObject, str, urls, vulnIds } from './util.js'
import { codeAsset, jsonObjectRoot, lineNumber, objectList } from './sast-iac-common.js'

const WHERE = 'KICS report'

const SEVERITY: Record<string, Severity> = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low', INFO: 'info', TRACE: 'info' }

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.queries)) return 0
  if ('kics_version' in root || 'queries_total' in root || 'files_scanned' in root) return 1
  const first: unknown = root.queries[0]
  return isObject(first) && 'query_id' in first && Array.isArray(first.files) ? 0.9 : 0
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = jsonObjectRoot(doc, WHERE)
  const queries = objectList(root, 'queries', WHERE, true)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let assetKey: string | undefined

  for (const [qi, query] of queries.entries()) {
    const where = `${WHERE}: query ${qi + 1}`
    const name = str(query.query_name)
    const queryUrl = str(query.query_url)
    const severityText = str(query.severity)
    const severity = (severityText && SEVERITY[severityText.toUpperCase()]) || 'medium'
    const platform = str(query.platform) ?? ''
    const category = str(query.category) ?? ''
    const queryDescription = str(query.description) ?? ''
    const queryId = str(query.query_id)
    const cwe = parseCwe(query.cwe)
    const customIds = vulnIds(query.custom_vuln_id)
    for (const item of objectList(query, 'files', where)) {
      const fileName = str(item.file_name) ?? ''
      const line = lineNumber(item.line)
      const issueType = str(item.issue_type) ?? ''
      const expected = str(item.expected_value) ?? ''
      const actual = str(item.actual_value)
      const key = `${platform}\u0000${category}\u0000${issueType}\u0000${fileName}\u0000${expected}\u0000${String(item.line)}`
      const prev = byKey.get(key)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        continue
      }
      const description = [
        queryDescription || undefined,
        platform ? `Platform: ${platform}` : undefined,
        category ? `Category: ${category}` : undefined,
        issueType ? `Issue type: ${issueType}` : undefined,
        str(item.search_key) ? `Search key: ${str(item.search_key)!}` : undefined,
        actual ? `Actual value: ${actual}` : undefined,
      ].filter(Boolean).join('\n')
      assetKey ??= codeAsset(assets, doc, 'kics')
      const f: ParsedFinding = {
        assetKey,
        title: `${category}: ${name ?? ''}`,
        severity,
        ...(severityText ? { scannerSeverity: severityText } : {}),
        occurrences: 1,
      }
      if (description) f.description = description
      if (expected) f.remedy = expected
      if (fileName || line !== undefined) f.location = { ...(fileName ? { path: fileName } : {}), ...(line !== undefined ? { line } : {}) }
      if (queryId) f.ruleId = queryId
      const refs = urls(queryUrl)
      if (refs.length) f.references = refs
      const similarity = str(item.similarity_id)
      if (similarity) f.uniqueId = similarity
      if (cwe.length) f.cwe = cwe
      if (customIds.length) f.vulnerabilityIds = customIds
      if (platform) f.tags = [platform]
      byKey.set(key, f)
    }
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'kics',
  label: 'KICS JSON',
  aliases: ['KICS Scan'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
