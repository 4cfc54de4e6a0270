/**
 * Semgrep Pro / AppSec Platform findings (the `GET /deployments/{slug}/findings` API: `{"findings": [...]}`), as
 * DefectDojo's "Semgrep Pro JSON Report" reads them:
 * - title = rule_name, location = location.file_path / line; severity CRITICAL → critical, ERROR/HIGH → high,
 *   WARNING/MEDIUM → medium, INFO/LOW → low, anything else → info;
 * - CWE from rule.cwe_names; references: line_of_code_url, OWASP and CWE names, the external ticket;
 *   remedy from the Semgrep Assistant (guidance, autofix, autotriage, component);
 * - match_based_id → uniqueId; findings merged by match_based_id (else title + file + line), occurrences counted;
 * - status `fixed`/`removed` → mitigated (DefectDojo: inactive); triage_state `ignored` → risk accepted, or a
 *   false positive when triage_reason says so.
 * Asset: REPOSITORY (repository.url, else repository.name); CODE with the file name when the export has none.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { parseCwe, AssetCollector, isObject, ScanFormatError, str, strings } from './util.js'
import { codeAsset, jsonObjectRoot, lineNumber, objectList, optObject } from './sast-iac-common.js'

const WHERE = 'Semgrep Pro report'
type Obj = Record<string, unknown>

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.findings)) return 0
  const first: unknown = root.findings[0]
  if (isObject(first)) {
    if (typeof first.rule_name === 'string' && ('match_based_id' in first || 'syntactic_id' in first || isObject(first.location))) return 1
    return 0
  }
  // `{"findings": []}` and nothing else: what an empty export looks like; a weak claim only.
  return Object.keys(root).length === 1 ? 0.3 : 0
}

function severityOf(v: string | undefined): Severity {
  switch (v?.toUpperCase()) {
    case 'CRITICAL': return 'critical'
    case 'ERROR': case 'HIGH': return 'high'
    case 'WARNING': case 'MEDIUM': return 'medium'
    case 'INFO': case 'LOW': return 'low'
    default: return 'info'
  }
}

function remedyOf(assistant: Obj | undefined): string | undefined {
  if (!assistant) return undefined
  const parts: string[] = []
  if (isObject(assistant.guidance)) {
    const summary = str(assistant.guidance.summary)
    const instructions = str(assistant.guidance.instructions)
    if (summary) parts.push(`Guidance summary:\n${summary}`)
    if (instructions) parts.push(`Instructions:\n${instructions}`)
  }
  if (isObject(assistant.autofix)) {
    const code = str(assistant.autofix.fix_code)
    const explanation = str(assistant.autofix.explanation)
    if (code) parts.push(`Suggested fix:\n${code}`)
    if (explanation) parts.push(`Fix explanation:\n${explanation}`)
  }
  if (isObject(assistant.autotriage)) {
    const verdict = str(assistant.autotriage.verdict)
    const reason = str(assistant.autotriage.reason)
    if (verdict) parts.push(`Auto-triage verdict: ${verdict}`)
    if (reason) parts.push(`Auto-triage reason: ${reason}`)
  }
  if (isObject(assistant.component)) {
    const tag = str(assistant.component.tag)
    const risk = str(assistant.component.risk)
    if (tag) parts.push(`Component: ${tag}`)
    if (risk) parts.push(`Risk level: ${risk}`)
  }
  return parts.length ? parts.join('\n\n') : undefined
}

function describe(item: Obj, rule: Obj | undefined): string | undefined {
  const lines: string[] = []
  const message = str(item.rule_message)
  if (message) lines.push(`Message: ${message}`)
  if (rule) {
    const rm = str(rule.message)
    if (rm) lines.push(`Rule message: ${rm}`)
    const category = str(rule.category)
    if (category) lines.push(`Category: ${category}`)
    const confidence = str(rule.confidence)
    if (confidence) lines.push(`Confidence: ${confidence}`)
    const classes = strings(rule.vulnerability_classes)
    if (classes.length) lines.push(`Vulnerability classes: ${classes.join(', ')}`)
    const cwes = strings(rule.cwe_names)
    if (cwes.length) lines.push(`CWE: ${cwes.join('; ')}`)
    const owasp = strings(rule.owasp_names)
    if (owasp.length) lines.push(`OWASP: ${owasp.join('; ')}`)
  }
  const categories = strings(item.categories)
  if (categories.length) lines.push(`Categories: ${categories.join(', ')}`)
  const triage = str(item.triage_state)
  if (triage) {
    lines.push(`Triage state: ${triage}`)
    const comment = str(item.triage_comment)
    if (comment) lines.push(`Triage comment: ${comment}`)
    const reason = str(item.triage_reason)
    if (reason) lines.push(`Triage reason: ${reason}`)
  }
  return lines.length ? lines.join('\n') : undefined
}

function statusOf(item: Obj): Pick<ParsedFinding, 'status' | 'statusReason'> {
  const status = (str(item.status) ?? 'new').toLowerCase()
  if (status === 'fixed' || status === 'removed') return { status: 'mitigated', statusReason: `Semgrep status: ${status}` }
  const triage = str(item.triage_state)?.toLowerCase()
  if (triage === 'ignored') {
    const reason = str(item.triage_reason)
    return {
      status: reason?.toLowerCase() === 'false_positive' ? 'false_positive' : 'risk_accepted',
      statusReason: `Semgrep triage: ignored${reason ? ` (${reason})` : ''}`,
    }
  }
  return {}
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = jsonObjectRoot(doc, WHERE)
  if (!('findings' in root)) throw new ScanFormatError(`${WHERE}: the "findings" list is missing`)
  const items = objectList(root, 'findings', WHERE)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let fallbackKey: string | undefined

  for (const [i, item] of items.entries()) {
    const where = `${WHERE}: finding ${i + 1}`
    const title = str(item.rule_name) ?? 'No title'
    const loc = optObject(item, 'location', where) ?? {}
    const path = str(loc.file_path) ?? ''
    const line = lineNumber(loc.line)
    const matchId = str(item.match_based_id)
    const key = matchId ?? `${title}\u0000${path}\u0000${line ?? 0}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      continue
    }
    const rule = optObject(item, 'rule', where)
    const repo = optObject(item, 'repository', where)
    const repoId = str(repo?.url) ?? str(repo?.name)
    const assetKey = repoId ? assets.add('REPOSITORY', { repository: repoId }) : (fallbackKey ??= codeAsset(assets, doc, 'semgrep'))
    const severityText = str(item.severity)
    const references: string[] = []
    const loc_url = str(item.line_of_code_url)
    if (loc_url) references.push(loc_url)
    references.push(...strings(rule?.owasp_names), ...strings(rule?.cwe_names))
    const ticket = optObject(item, 'external_ticket', where)
    const ticketRef = str(ticket?.url) ?? str(ticket?.external_slug)
    if (ticketRef) references.push(`External ticket: ${ticketRef}`)
    const endLine = lineNumber(loc.end_line)
    const assistant = optObject(item, 'assistant', where)
    const f: ParsedFinding = {
      assetKey,
      title,
      severity: severityOf(severityText ?? 'INFO'),
      ...(severityText ? { scannerSeverity: severityText } : {}),
      ruleId: title,
      occurrences: 1,
    }
    const description = describe(item, rule)
    if (description) f.description = description
    const remedy = remedyOf(assistant)
    if (remedy) f.remedy = remedy
    const cwe = parseCwe(rule?.cwe_names)
    if (cwe.length) f.cwe = cwe
    if (path || line !== undefined) {
      f.location = {
        ...(path ? { path } : {}),
        ...(line !== undefined ? { line } : {}),
        ...(endLine !== undefined && line !== undefined && endLine > line ? { endLine } : {}),
        ...(loc_url ? { url: loc_url } : {}),
      }
    }
    Object.assign(f, statusOf(item))
    if (references.length) f.references = references
    if (matchId) f.uniqueId = matchId
    const tags = [...strings(item.categories), ...strings(rule?.vulnerability_classes)]
    if (tags.length) f.tags = [...new Set(tags)]
    const x: Record<string, unknown> = {}
    const confidence = str(item.confidence)
    if (confidence) x.confidence = confidence
    const ref = str(item.ref)
    if (ref) x.ref = ref
    const created = str(item.created_at)
    if (created) x.createdAt = created
    const component = isObject(assistant?.component) ? str((assistant.component as Obj).tag) : undefined
    if (component) x.assistantComponent = component
    if (Object.keys(x).length) f.extra = x
    byKey.set(key, f)
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'semgrep_pro',
  label: 'Semgrep Pro (AppSec Platform) JSON',
  aliases: ['Semgrep Pro JSON Report'],
  formats: ['json'],
  defaultAssetType: 'REPOSITORY',
  detect,
  parse,
}
