/**
 * Acunetix reports, both layouts DefectDojo's "Acunetix Scan" reads:
 * - Acunetix 360 JSON (`{Generated, Target: {Url, ScanId}, Vulnerabilities: [...]}`): vulnerabilities with the same
 *   `Name` are merged; severity Info/Low/Medium/High/Critical (else Info); CWE from `Classification.Cwe`; CVSS vector
 *   from `Classification.Cvss(31)`; `State` AcceptedRisk / FalsePositive set the status.
 * - Acunetix XML (`<ScanGroup><Scan><StartURL>…<ReportItems><ReportItem>`): items with the same name, impact and
 *   recommendation are merged; severity high/medium/low/informational; CWE from `CWEList/CWE`; CVSS3 descriptor.
 * One WEB asset per scan target.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, ScanFindingStatus, Severity } from './types.js'
import {
  asArray, child, children, childText, cvssVersion, htmlToText, isObject, jsonKeys, num, parseCwe, ScanFormatError,
  severityFromText, str, vulnIds,
} from './util.js'
import { addEndpoint, joinBlocks, referenceUrls, requestMethod, urlBits, urlLocation, WebAssets } from './dast-common.js'

const WHERE_JSON = 'Acunetix 360 JSON report'
const WHERE_XML = 'Acunetix XML report'
const JSON_SEVERITY: Record<string, Severity> = { Info: 'info', Low: 'low', Medium: 'medium', High: 'high', Critical: 'critical' }
const XML_SEVERITY: Record<string, Severity> = { high: 'high', medium: 'medium', low: 'low', informational: 'info' }
const MAX_MERGED_DETAILS = 10

function detect(doc: ScanDocument): number {
  if (doc.kind === 'json') {
    const keys = jsonKeys(doc)
    if (!keys.has('Vulnerabilities') || !Array.isArray((doc.json as Record<string, unknown>).Vulnerabilities)) return 0
    if (keys.has('Target') && keys.has('Generated')) return 0.95
    return keys.has('Target') || keys.has('Generated') ? 0.6 : 0
  }
  if (doc.kind === 'xml' && doc.xmlRoot === 'ScanGroup') {
    const scan = child(doc.xml?.ScanGroup, 'Scan')
    return scan && ('StartURL' in scan || 'ReportItems' in scan) ? 1 : 0.5
  }
  return 0
}

// ---------------------------------------------------------------- Acunetix 360 JSON

/** AcceptedRisk / FalsePositive as DefectDojo; Ignored is an accepted risk too, Fixed* states are mitigated. */
function statusOf(state: string | undefined): ScanFindingStatus | undefined {
  if (!state) return undefined
  const states = state.split(',').map((s) => s.trim())
  if (states.includes('AcceptedRisk') || states.includes('Ignored')) return 'risk_accepted'
  if (states.includes('FalsePositive')) return 'false_positive'
  if (!states.includes('Present') && !states.includes('Revived') && states.some((s) => s.startsWith('Fixed'))) return 'mitigated'
  return undefined
}

function parseJson(doc: ScanDocument): ParseResult {
  const data = doc.json
  if (!isObject(data)) throw new ScanFormatError(`${WHERE_JSON}: expected a JSON object`)
  const vulns = data.Vulnerabilities
  if (!Array.isArray(vulns)) throw new ScanFormatError(`${WHERE_JSON}: "Vulnerabilities" is missing or not a list`)
  const target = isObject(data.Target) ? data.Target : {}
  const targetUrl = str(target.Url)
  const assets = new WebAssets(doc.filename)
  const byName = new Map<string, ParsedFinding>()

  for (const [i, item] of vulns.entries()) {
    if (!isObject(item)) throw new ScanFormatError(`${WHERE_JSON}: vulnerability ${i + 1} is not an object`)
    const title = str(item.Name)
    if (!title) throw new ScanFormatError(`${WHERE_JSON}: vulnerability ${i + 1} has no "Name"`)
    const url = str(item.Url)
    const prev = byName.get(title)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      addEndpoint(prev, url)
      continue
    }

    const sevText = str(item.Severity)
    const classification = isObject(item.Classification) ? item.Classification : undefined
    const request = isObject(item.HttpRequest) ? item.HttpRequest : undefined
    const params = asArray(request?.Parameters as unknown[])
    const firstParam = isObject(params[0]) ? str(params[0].Name) : undefined
    const finding: ParsedFinding = {
      assetKey: assets.add(targetUrl ?? url),
      title,
      severity: (sevText ? JSON_SEVERITY[sevText] : undefined) ?? 'info',
      scannerSeverity: sevText ?? 'Info',
      location: urlLocation(url, str(request?.Method) ?? requestMethod(str(request?.Content)), firstParam),
    }
    const ruleId = str(item.Type)
    if (ruleId) finding.ruleId = ruleId
    const lookupId = str(item.LookupId)
    if (lookupId) finding.uniqueId = lookupId

    const extraInfo = asArray(item.ExtraInformation as unknown[])
      .filter(isObject)
      .map((e) => (str(e.Name) && str(e.Value) ? `${str(e.Name)}: ${str(e.Value)}` : undefined))
      .filter((s): s is string => s !== undefined)
    const description = joinBlocks(
      htmlToText(str(item.Description)),
      ['Impact', htmlToText(str(item.Impact))],
      ['Extra information', extraInfo.join('\n')],
      ['Proof of concept', htmlToText(str(item.ProofOfConcept))],
    )
    if (description) finding.description = description
    const remedy = htmlToText(str(item.RemedialProcedure)) ?? htmlToText(str(item.RemedialActions))
    if (remedy) finding.remedy = remedy
    const refs = [
      ...(lookupId ? [`https://online.acunetix360.com/issues/detail/${lookupId}`] : []),
      ...referenceUrls(str(item.RemedyReferences), str(item.ExternalReferences)),
    ]
    if (refs.length) finding.references = [...new Set(refs)]

    if (classification) {
      const cwe = parseCwe(String(classification.Cwe ?? '').split(','))
      if (cwe.length) finding.cwe = cwe
      const cvssNode = isObject(classification.Cvss31) ? classification.Cvss31 : isObject(classification.Cvss) ? classification.Cvss : undefined
      const vector = str(cvssNode?.Vector)
      if (vector) {
        const base = isObject(cvssNode?.BaseScore) ? num(cvssNode.BaseScore.Value) : undefined
        const version = cvssVersion(vector)
        finding.cvss = { vector, ...(base !== undefined ? { score: base } : {}), ...(version ? { version } : {}) }
      }
    }
    const ids = vulnIds(...asArray(item.KnownVulnerabilities as unknown[]).map((k) => (isObject(k) ? k.Title ?? k.Id : k))
      .filter((k) => /^CVE-/i.test(String(k))))
    if (ids.length) finding.vulnerabilityIds = ids

    const state = str(item.State)
    const status = statusOf(state)
    if (status) {
      finding.status = status
      finding.statusReason = `Acunetix state: ${state}`
    }
    const extra: Record<string, unknown> = {}
    if (num(item.Certainty) !== undefined) extra.certainty = num(item.Certainty)
    if (item.Confirmed === true) extra.confirmed = true
    if (Object.keys(extra).length) finding.extra = extra
    byName.set(title, finding)
  }
  return { assets: assets.list(), findings: [...byName.values()] }
}

// ---------------------------------------------------------------- Acunetix XML

function xmlSeverity(text: string | undefined): Severity {
  if (text === undefined) return 'critical'
  // DefectDojo maps every value other than high/medium/low/informational to Critical; standard words are read as such.
  return XML_SEVERITY[text] ?? severityFromText(text) ?? 'critical'
}

function parseXml(doc: ScanDocument, ctx: { warn(m: string): void }): ParseResult {
  const root = doc.xml?.ScanGroup
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE_XML}: <ScanGroup> has an unexpected shape`)
  const assets = new WebAssets(doc.filename)
  const byKey = new Map<string, ParsedFinding>()
  const mergedDetails = new Map<ParsedFinding, number>()

  for (const [si, scan] of children(root, 'Scan').entries()) {
    const startUrl = childText(scan, 'StartURL')
    if (!startUrl) throw new ScanFormatError(`${WHERE_XML}: <Scan> ${si + 1} has no <StartURL>`)
    // A StartURL without a scheme ("www.example.com") names the host only.
    const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(startUrl)
    const bits = urlBits(startUrl)
    const assetKey = hasScheme || !bits.host ? assets.add(startUrl) : assets.addHost(bits.host)
    const origin = (hasScheme ? bits.origin : undefined) ?? startUrl.replace(/\/$/, '')
    const base = hasScheme ? startUrl : undefined

    for (const [ii, item] of children(child(scan, 'ReportItems'), 'ReportItem').entries()) {
      const title = childText(item, 'Name')
      if (!title) throw new ScanFormatError(`${WHERE_XML}: report item ${ii + 1} of scan ${si + 1} has no <Name>`)
      const impact = childText(item, 'Impact')
      const recommendation = childText(item, 'Recommendation')
      const affects = childText(item, 'Affects')
      const url = affects !== undefined ? `${origin}${affects.startsWith('/') ? '' : '/'}${affects}` : base
      const details = htmlToText(childText(item, 'Details'))
      const key = `${title}|${impact ?? 'None'}|${recommendation ?? 'None'}`

      const prev = byKey.get(key)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        addEndpoint(prev, url)
        const n = (mergedDetails.get(prev) ?? 0) + 1
        mergedDetails.set(prev, n)
        if (details && n <= MAX_MERGED_DETAILS) prev.description = `${prev.description ?? ''}\n-----\n\nDetails:\n${details}`
        continue
      }

      const sevText = childText(item, 'Severity')
      const requests = children(child(item, 'TechnicalDetails'), 'Request')
      const finding: ParsedFinding = {
        assetKey,
        title,
        severity: xmlSeverity(sevText),
        scannerSeverity: sevText ?? 'unknown',
        location: urlLocation(url, requestMethod(str(requests[0])), childText(item, 'Parameter')),
      }
      if (sevText === undefined) ctx.warn(`${WHERE_XML}: "${title}" has no severity; taken as critical as DefectDojo does`)
      const type = childText(item, 'Type') ?? childText(item, 'ModuleName')
      if (type) finding.ruleId = type
      const description = joinBlocks(
        htmlToText(childText(item, 'Description')),
        ['Details', details],
        ['Impact', htmlToText(impact)],
      )
      if (description) finding.description = description
      const remedy = htmlToText(recommendation)
      if (remedy) finding.remedy = remedy
      const refs = children(child(item, 'References'), 'Reference').map((r) => childText(r, 'URL')).filter((u): u is string => u !== undefined)
      if (refs.length) finding.references = [...new Set(refs)]
      const cwe = parseCwe(children(child(item, 'CWEList'), 'CWE').map((c) => str(c)))
      if (cwe.length) finding.cwe = cwe
      const cves = vulnIds(...children(child(item, 'CVEList'), 'CVE').map((c) => str(c)))
      if (cves.length) finding.vulnerabilityIds = cves
      const cvss3 = child(item, 'CVSS3')
      const cvss2 = child(item, 'CVSS')
      const vector = childText(cvss3, 'Descriptor') ?? childText(cvss2, 'Descriptor')
      if (vector) {
        const score = num(childText(childText(cvss3, 'Descriptor') ? cvss3 : cvss2, 'Score'))
        const version = cvssVersion(vector)
        finding.cvss = { vector, ...(score !== undefined ? { score } : {}), ...(version ? { version } : {}) }
      }
      if (/^(true|1|yes)$/i.test(childText(item, 'IsFalsePositive') ?? '')) {
        finding.status = 'false_positive'
        finding.statusReason = 'Marked as a false positive in Acunetix'
      }
      const module = childText(item, 'ModuleName')
      if (module && module !== type) finding.extra = { module }
      byKey.set(key, finding)
    }
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

function parse(doc: ScanDocument, ctx: { warn(m: string): void }): ParseResult {
  if (doc.kind === 'json') return parseJson(doc)
  if (doc.kind === 'xml' && doc.xmlRoot === 'ScanGroup') return parseXml(doc, ctx)
  throw new ScanFormatError('Acunetix report: expected Acunetix 360 JSON ({"Generated", "Target", "Vulnerabilities"}) or Acunetix XML (<ScanGroup>)')
}

export const parser: ScannerParser = {
  id: 'acunetix',
  label: 'Acunetix / Acunetix 360',
  aliases: ['acunetix360', 'acunetix_scan'],
  formats: ['json', 'xml'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
