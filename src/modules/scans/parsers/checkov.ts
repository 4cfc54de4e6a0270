/**
 * Checkov JSON (`checkov -o json`): one report object per check type, or a list of them when several frameworks
 * were scanned; a bare summary (`{"passed": 0, "failed": 0, …, "checkov_version"}`) when nothing was scanned.
 * As DefectDojo's "Checkov Scan": one finding per entry of `results.failed_checks` (no merging; passed and
 * skipped checks are not findings), title = check_name, severity from the check's `severity` when Checkov (with a
 * platform key) reports one, else medium; file_path / first line of file_line_range; the resource as component
 * (DefectDojo's component_name); guideline → reference.
 * Asset: CODE, scannerSource = the scanned root (file_abs_path minus file_path) when the report gives both, else
 * the file name. IaC templates are source code, hence CODE rather than BUILD.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, isObject, ScanFormatError, severityFromText, str, strings, urls } from './util.js'
import { clip, codeAsset, lineNumber, objectList, optObject, rootFromPaths } from './sast-iac-common.js'

const WHERE = 'Checkov report'
type Obj = Record<string, unknown>

function isReport(v: unknown): v is Obj {
  return isObject(v) && typeof v.check_type === 'string' && (isObject(v.results) || isObject(v.summary))
}

function isSummary(v: unknown): boolean {
  return isObject(v) && 'checkov_version' in v && 'passed' in v && 'failed' in v
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  const root = doc.json
  if (Array.isArray(root)) return isReport(root[0]) ? 1 : 0
  if (isReport(root)) return 1
  if (isSummary(root)) return 1
  return 0
}

function severityOf(v: unknown): { severity: Severity; scannerSeverity?: string } {
  const s = str(v)
  if (!s) return { severity: 'medium' }
  return { severity: severityFromText(s) ?? 'medium', scannerSeverity: s }
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  if (doc.kind !== 'json') throw new ScanFormatError(`${WHERE}: expected a JSON document, got ${doc.kind.toUpperCase()}`)
  const root = doc.json
  const trees: unknown[] = Array.isArray(root) ? root : [root]
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  const pending: ParsedFinding[] = []
  let scanRoot: string | undefined

  for (const [ti, tree] of trees.entries()) {
    const where = trees.length > 1 ? `${WHERE}: check type ${ti + 1}` : WHERE
    if (!isObject(tree)) throw new ScanFormatError(`${where}: expected a JSON object`)
    if (!('check_type' in tree) && !('results' in tree)) {
      if (isSummary(tree) || isObject(tree.summary)) continue // nothing scanned
      throw new ScanFormatError(`${where}: neither "check_type" nor "results" found`)
    }
    const checkType = str(tree.check_type) ?? ''
    const results = optObject(tree, 'results', where)
    if (!results) continue
    for (const vuln of objectList(results, 'failed_checks', `${where} results`)) {
      const checkName = str(vuln.check_name)
      const checkId = str(vuln.check_id)
      const filePath = str(vuln.file_path)
      const range = Array.isArray(vuln.file_line_range) ? vuln.file_line_range : []
      const line = lineNumber(range[0])
      const endLine = lineNumber(range[1])
      const resource = str(vuln.resource)
      const { severity, scannerSeverity } = severityOf(vuln.severity)
      const details = strings(vuln.details)
      const description = [
        `Check Type: ${checkType}`,
        checkId ? `Check Id: ${checkId}` : undefined,
        checkName,
        resource ? `Resource: ${resource}` : undefined,
        details.length ? `Details:\n${clip(details.join('\n'), 2000)!}` : undefined,
      ].filter(Boolean).join('\n')
      const f: ParsedFinding = {
        assetKey: '',
        title: checkName ?? 'check_name not found',
        description,
        severity,
        ...(scannerSeverity ? { scannerSeverity } : {}),
      }
      if (filePath || line !== undefined) {
        f.location = {
          ...(filePath ? { path: filePath } : {}),
          ...(line !== undefined ? { line } : {}),
          ...(endLine !== undefined && line !== undefined && endLine > line ? { endLine } : {}),
        }
      }
      if (resource) f.component = { name: resource }
      if (checkId) f.ruleId = checkId
      const refs = urls(vuln.guideline)
      if (refs.length) f.references = refs
      const x: Record<string, unknown> = {}
      if (checkType) x.checkType = checkType
      const bcId = str(vuln.bc_check_id)
      if (bcId) x.bcCheckId = bcId
      const checkClass = str(vuln.check_class)
      if (checkClass) x.checkClass = checkClass
      if (Object.keys(x).length) f.extra = x
      if (checkType) f.tags = [checkType]
      scanRoot ??= rootFromPaths(str(vuln.file_abs_path), filePath)
      pending.push(f)
    }
  }
  if (pending.length === 0) return { assets: [], findings }
  const assetKey = codeAsset(assets, doc, 'checkov', scanRoot)
  for (const f of pending) {
    f.assetKey = assetKey
    findings.push(f)
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'checkov',
  label: 'Checkov JSON',
  aliases: ['Checkov Scan'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
