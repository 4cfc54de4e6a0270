/**
 * Burp Suite Enterprise GraphQL API issues (`{"Issues": [{issue_type: {name, …}, severity, origin, path, …}]}`).
 * DefectDojo's "Burp GraphQL API": issues with the same `issue_type.name` are merged into one finding (endpoints and
 * distinct descriptions added up); an issue without a name rejects the file; severity capitalised (missing → Info);
 * the first CWE of `vulnerability_classifications_html`. One WEB asset per origin.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { htmlToText, isObject, jsonKeys, parseCwe, ScanFormatError, severityFromText, str } from './util.js'
import { addEndpoint, joinBlocks, referenceUrls, urlLocation, WebAssets } from './dast-common.js'

const WHERE = 'Burp GraphQL report'
const MAX_MERGED_DETAILS = 10

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const issues = doc.json.Issues
  if (!Array.isArray(issues)) return 0
  const first = issues[0]
  if (isObject(first) && isObject(first.issue_type)) return 1
  // `{"Issues": []}` — the GraphQL export of a clean scan; nothing else writes exactly that.
  if (issues.length === 0 && jsonKeys(doc).size === 1) return 0.7
  return 0
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'json' || !isObject(doc.json)) throw new ScanFormatError(`${WHERE}: expected a JSON object`)
  if (!('Issues' in doc.json)) throw new ScanFormatError(`${WHERE}: no "Issues" key found`)
  const issues = doc.json.Issues
  if (!Array.isArray(issues)) throw new ScanFormatError(`${WHERE}: "Issues" is not a list`)
  const assets = new WebAssets(doc.filename)
  const byName = new Map<string, ParsedFinding>()
  const mergedDetails = new Map<ParsedFinding, string[]>()

  for (const [i, issue] of issues.entries()) {
    if (!isObject(issue)) throw new ScanFormatError(`${WHERE}: issue ${i + 1} is not an object`)
    const type = isObject(issue.issue_type) ? issue.issue_type : undefined
    const name = str(type?.name)
    if (!name) throw new ScanFormatError(`${WHERE}: issue ${i + 1} does not have a name (issue_type.name)`)
    const origin = str(issue.origin)
    const path = str(issue.path) ?? ''
    const url = origin ? `${origin}${path}` : undefined
    const detail = htmlToText(str(issue.description_html))

    const prev = byName.get(name)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      addEndpoint(prev, url)
      const details = mergedDetails.get(prev) ?? []
      if (detail && details.length < MAX_MERGED_DETAILS && !details.includes(detail) && !(prev.description ?? '').includes(detail)) {
        details.push(detail)
        mergedDetails.set(prev, details)
        prev.description = `${prev.description ?? ''}\n\n${detail}`
      }
      continue
    }

    const sevText = str(issue.severity)
    const severity: Severity = severityFromText(sevText) ?? 'info'
    const background = htmlToText(str(type?.description_html))
    const finding: ParsedFinding = {
      assetKey: assets.add(origin),
      title: name,
      severity,
      scannerSeverity: sevText ?? 'info',
    }
    if (url) finding.location = urlLocation(url)
    // An all-zero serial is a placeholder (redacted exports), not an identity.
    const serial = str(issue.serial_number)
    if (serial && !/^0+$/.test(serial)) finding.uniqueId = serial
    const description = detail
      ? joinBlocks(['Issue detail', detail], ['Issue background', background])
      : joinBlocks(['Issue background', background])
    if (description) finding.description = description
    const remedy = joinBlocks(htmlToText(str(issue.remediation_html)), htmlToText(str(type?.remediation_html)))
    if (remedy) finding.remedy = remedy
    const refs = referenceUrls(str(type?.references_html))
    if (refs.length) finding.references = refs
    const cwe = parseCwe(str(type?.vulnerability_classifications_html))
    if (cwe.length) finding.cwe = cwe
    if (url) finding.extra = { endpoints: [url] }
    byName.set(name, finding)
  }

  const findings = [...byName.values()]
  for (const f of findings) if ((f.occurrences ?? 1) === 1) delete f.extra
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'burp_graphql',
  label: 'Burp Suite Enterprise GraphQL API (JSON)',
  aliases: ['burp_graphql_api'],
  formats: ['json'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
