/**
 * Burp Suite XML export (`<issues burpVersion=…><issue>…`). DefectDojo's "Burp Scan": issues of the same Burp issue
 * `type` are merged into one finding (endpoints, parameters and details added up); title = `name`, severity as
 * written ("Information" → Info), `serialNumber` as the tool's unique id, `type` as its rule id, the first CWE of
 * `vulnerabilityClassifications`. One WEB asset per `<host>` (its `ip` attribute kept).
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity, XmlNode } from './types.js'
import { attr, child, children, childText, htmlToText, isObject, parseCwe, ScanFormatError, severityFromText, str } from './util.js'
import { addEndpoint, base64Head, joinBlocks, referenceUrls, requestMethod, urlLocation, WebAssets } from './dast-common.js'

const WHERE = 'Burp XML report'
/** Details of further merged issues appended to the description, at most. */
const MAX_MERGED_DETAILS = 10
const PARAM = /\[([^\]]*)\]\s*$/

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'issues') return 0
  const root = doc.xml?.issues
  if (attr(root, 'burpVersion') !== undefined) return 1
  const first = child(root, 'issue')
  if (first && 'serialNumber' in first && 'type' in first) return 1
  return 0.3
}

function severityOf(text: string | undefined): { severity: Severity; falsePositive: boolean } {
  const s = text?.toLowerCase()
  if (s === 'false positive' || s === 'false_positive') return { severity: 'info', falsePositive: true }
  return { severity: severityFromText(text) ?? 'info', falsePositive: false }
}

function methodOf(issue: XmlNode): string | undefined {
  const request = child(child(issue, 'requestresponse'), 'request')
  if (!request) return undefined
  const declared = attr(request, 'method')
  if (declared) return declared
  const body = str(request)
  return requestMethod(attr(request, 'base64') === 'true' ? base64Head(body) : body)
}

function collaboratorText(issue: XmlNode): string | undefined {
  const lines: string[] = []
  for (const ev of children(issue, 'collaboratorEvent')) {
    const type = childText(ev, 'interactionType')
    const origin = childText(ev, 'originIp')
    const time = childText(ev, 'time')
    if (type === 'DNS') {
      lines.push(`The Collaborator server received a DNS lookup of type ${childText(ev, 'lookupType') ?? '?'} for the domain name ${childText(ev, 'lookupHost') ?? '?'} at ${time ?? '?'} originating from ${origin ?? '?'}.`)
    } else if (type) {
      lines.push(`The Collaborator server received a${/^[AEIOU]/.test(type) ? 'n' : ''} ${type} request at ${time ?? '?'} originating from ${origin ?? '?'}.`)
    }
  }
  return lines.length ? lines.join('\n') : undefined
}

function paramOf(location: string | undefined): string | undefined {
  const m = location ? PARAM.exec(location) : null
  return m?.[1] ? m[1].replace(/\s+parameter$/i, '').trim() || undefined : undefined
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'issues') throw new ScanFormatError(`${WHERE}: expected an <issues> XML document (Burp "Report issues" XML export)`)
  const root = doc.xml?.issues
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <issues> has an unexpected shape`)
  const assets = new WebAssets(doc.filename)
  const byType = new Map<string, ParsedFinding>()
  const merged = new Map<ParsedFinding, number>()

  for (const [i, issue] of children(root, 'issue').entries()) {
    const name = childText(issue, 'name')
    if (!name) throw new ScanFormatError(`${WHERE}: issue ${i + 1} has no <name>`)
    const hostNode = child(issue, 'host')
    const hostUrl = str(hostNode)
    if (!hostUrl) throw new ScanFormatError(`${WHERE}: issue ${i + 1} ("${name}") has no <host>`)
    const type = childText(issue, 'type')
    const path = childText(issue, 'path') ?? ''
    const url = `${hostUrl.replace(/\/$/, '')}${path.startsWith('/') || path === '' ? '' : '/'}${path}`
    const detail = joinBlocks(htmlToText(childText(issue, 'issueDetail')), collaboratorText(issue))
    const param = paramOf(childText(issue, 'location'))
    const { severity, falsePositive } = severityOf(childText(issue, 'severity'))
    const key = type ?? `name:${name}`

    const prev = byType.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      addEndpoint(prev, url)
      if (param) {
        const params = (prev.extra!.params as string[] | undefined) ?? []
        if (!params.includes(param) && params.length < 20) params.push(param)
        prev.extra!.params = params
      }
      if (prev.status === 'false_positive' && !falsePositive) {
        delete prev.status
        delete prev.statusReason
      }
      const n = (merged.get(prev) ?? 0) + 1
      merged.set(prev, n)
      if (n <= MAX_MERGED_DETAILS && detail) prev.description = `${prev.description ?? ''}\n\n-----\nURL: ${url}\n\n${detail}`
      continue
    }

    const assetKey = assets.add(hostUrl, attr(hostNode, 'ip'))
    const serial = childText(issue, 'serialNumber')
    const confidence = childText(issue, 'confidence')
    const finding: ParsedFinding = {
      assetKey,
      title: name,
      severity,
      scannerSeverity: childText(issue, 'severity') ?? 'Information',
      location: urlLocation(url, methodOf(issue), param),
      ...(type ? { ruleId: type } : {}),
      ...(serial ? { uniqueId: serial } : {}),
    }
    const description = joinBlocks(`URL: ${url}`, detail, ['Issue background', htmlToText(childText(issue, 'issueBackground'))])
    if (description) finding.description = description
    const remedy = joinBlocks(htmlToText(childText(issue, 'remediationDetail')), htmlToText(childText(issue, 'remediationBackground')))
    if (remedy) finding.remedy = remedy
    const refs = referenceUrls(childText(issue, 'references'))
    if (refs.length) finding.references = refs
    const cwe = parseCwe(childText(issue, 'vulnerabilityClassifications'))
    if (cwe.length) finding.cwe = cwe
    if (falsePositive) {
      finding.status = 'false_positive'
      finding.statusReason = 'Marked as a false positive in Burp'
    }
    finding.extra = { ...(confidence ? { confidence } : {}), endpoints: [url], ...(param ? { params: [param] } : {}) }
    byType.set(key, finding)
  }

  const findings = [...byType.values()]
  for (const f of findings) {
    // A single occurrence needs no endpoint list: the location says it all.
    if ((f.occurrences ?? 1) === 1 && f.extra) {
      delete f.extra.endpoints
      delete f.extra.params
      if (Object.keys(f.extra).length === 0) delete f.extra
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'burp',
  label: 'Burp Suite (XML)',
  aliases: ['burp_scan', 'burp_xml', 'burpsuite'],
  formats: ['xml'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
