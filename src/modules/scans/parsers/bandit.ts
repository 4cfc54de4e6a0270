/**
 * Bandit JSON (`bandit -f json`), as DefectDojo's "Bandit Scan" reads it: one finding per entry of `results` (no
 * merging), title = issue_text, severity = issue_severity (LOW/MEDIUM/HIGH; UNDEFINED → info), file / line,
 * ruleId "{test_name}:{test_id}" (e.g. "blacklist:B303"), more_info → reference, issue_cwe (Bandit ≥ 1.7.5) → CWE,
 * the issue confidence kept in extra.
 * Asset: CODE, scannerSource = the file name (Bandit does not name the scanned root).
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, isObject, num, ScanFormatError, severityFromText, str, urls } from './util.js'
import { clip, codeAsset, jsonObjectRoot, lineNumber, objectList } from './sast-iac-common.js'

const WHERE = 'Bandit report'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.results)) return 0
  const first: unknown = root.results[0]
  if (isObject(first)) return 'test_id' in first && 'issue_text' in first ? 1 : 0
  return isObject(root.metrics) && ('generated_at' in root || '_totals' in root.metrics) ? 1 : 0
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = jsonObjectRoot(doc, WHERE)
  const results = objectList(root, 'results', WHERE, true)
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  let assetKey: string | undefined

  for (const [i, item] of results.entries()) {
    const where = `${WHERE}: result ${i + 1}`
    const title = str(item.issue_text)
    if (!title) throw new ScanFormatError(`${where} has no "issue_text"`)
    const testId = str(item.test_id)
    const testName = str(item.test_name)
    if (!testId) throw new ScanFormatError(`${where} has no "test_id"`)
    const filename = str(item.filename)
    const line = lineNumber(item.line_number)
    const severityText = str(item.issue_severity)
    const confidence = str(item.issue_confidence)
    const code = typeof item.code === 'string' ? item.code : undefined
    const description = [
      `Test name: ${testName ?? ''}`,
      `Test ID: ${testId}`,
      filename ? `Filename: ${filename}` : undefined,
      line !== undefined ? `Line number: ${line}` : undefined,
      confidence ? `Issue confidence: ${confidence}` : undefined,
      code ? `Code:\n${clip(code, 2000)!}` : undefined,
    ].filter(Boolean).join('\n')
    assetKey ??= codeAsset(assets, doc, 'bandit')
    const f: ParsedFinding = {
      assetKey,
      title,
      description,
      severity: severityFromText(severityText) ?? 'info',
      ...(severityText ? { scannerSeverity: severityText } : {}),
      ruleId: [testName, testId].filter(Boolean).join(':'),
    }
    const range = Array.isArray(item.line_range) ? item.line_range : []
    const endLine = lineNumber(range[range.length - 1])
    if (filename || line !== undefined) {
      f.location = {
        ...(filename ? { path: filename } : {}),
        ...(line !== undefined ? { line } : {}),
        ...(endLine !== undefined && line !== undefined && endLine > line ? { endLine } : {}),
      }
    }
    const refs = urls(item.more_info, isObject(item.issue_cwe) ? item.issue_cwe.link : undefined)
    if (refs.length) f.references = refs
    const cweId = isObject(item.issue_cwe) ? num(item.issue_cwe.id) : undefined
    if (cweId !== undefined && cweId > 0) f.cwe = [Math.trunc(cweId)]
    if (confidence) f.extra = { confidence }
    findings.push(f)
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'bandit',
  label: 'Bandit JSON',
  aliases: ['Bandit Scan'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
