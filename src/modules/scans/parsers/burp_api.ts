/**
 * Burp Suite REST API scan status (`GET /v0.1/scan/{task_id}`: `{task_id, scan_status, scan_metrics, issue_events}`).
 * DefectDojo's "Burp REST API": one finding per `issue_events[]` of type `issue_found` (no merging), title = `name`,
 * severity high/medium/low/info (anything else → Info; `false_positive` marks a false positive), `serial_number` as
 * the unique id, `type_index` as the rule id, endpoint = `origin` + `path`. One WEB asset per origin.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { asArray, htmlToText, isObject, jsonKeys, parseCwe, ScanFormatError, str } from './util.js'
import { base64Head, joinBlocks, referenceUrls, requestMethod, urlLocation, WebAssets } from './dast-common.js'

const WHERE = 'Burp REST API report'
const SEVERITY: Record<string, Severity> = { high: 'high', medium: 'medium', low: 'low', info: 'info' }

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  const keys = jsonKeys(doc)
  if (!keys.has('issue_events')) return 0
  if (keys.has('task_id') || keys.has('scan_status') || keys.has('scan_metrics')) return 1
  return 0.8
}

/** The HTTP method of the first evidence request (its first base64 data segment). */
function methodOf(issue: Record<string, unknown>): string | undefined {
  for (const ev of asArray(issue.evidence as unknown[])) {
    if (!isObject(ev) || !isObject(ev.request_response)) continue
    const first = asArray(ev.request_response.request as unknown[])[0]
    if (isObject(first) && first.type === 'DataSegment') return requestMethod(base64Head(str(first.data)))
  }
  return undefined
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'json' || !isObject(doc.json)) throw new ScanFormatError(`${WHERE}: expected a JSON object`)
  const events = doc.json.issue_events
  if (events === undefined) throw new ScanFormatError(`${WHERE}: no "issue_events" key (expected the /scan/{task_id} response)`)
  if (!Array.isArray(events)) throw new ScanFormatError(`${WHERE}: "issue_events" is not a list`)
  const assets = new WebAssets(doc.filename)
  const findings: ParsedFinding[] = []

  for (const [i, event] of events.entries()) {
    if (!isObject(event)) throw new ScanFormatError(`${WHERE}: issue event ${i + 1} is not an object`)
    if (event.type !== 'issue_found' || !('issue' in event)) continue
    const issue = event.issue
    if (!isObject(issue)) throw new ScanFormatError(`${WHERE}: issue event ${i + 1} has an "issue" that is not an object`)
    const title = str(issue.name) ?? 'Burp issue'
    const sevText = str(issue.severity)
    const severity = SEVERITY[sevText?.toLowerCase() ?? 'info'] ?? 'info'
    const origin = str(issue.origin)
    const path = str(issue.path) ?? ''
    const url = origin ? `${origin}${path}` : undefined
    const serial = str(issue.serial_number)
    const typeIndex = str(issue.type_index)
    const confidence = str(issue.confidence)

    const finding: ParsedFinding = {
      assetKey: assets.add(origin),
      title,
      severity,
      scannerSeverity: sevText ?? 'info',
      ...(typeIndex ? { ruleId: typeIndex } : {}),
      ...(serial ? { uniqueId: serial } : {}),
    }
    if (url) finding.location = urlLocation(url, methodOf(issue))
    const description = joinBlocks(
      htmlToText(str(issue.description)),
      ['Issue background', htmlToText(str(issue.issue_background))],
    )
    if (description) finding.description = description
    const remedy = joinBlocks(htmlToText(str(issue.remediation)), htmlToText(str(issue.remediation_background)))
    if (remedy) finding.remedy = remedy
    const refs = referenceUrls(str(issue.references))
    if (refs.length) finding.references = refs
    const cwe = parseCwe(str(issue.vulnerability_classifications))
    if (cwe.length) finding.cwe = cwe
    if (sevText === 'false_positive') {
      finding.status = 'false_positive'
      finding.statusReason = 'Burp severity: false_positive'
    }
    if (confidence && confidence !== 'undefined') finding.extra = { confidence }
    findings.push(finding)
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'burp_api',
  label: 'Burp Suite REST API (JSON)',
  aliases: ['burp_rest_api'],
  formats: ['json'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
