/**
 * OWASP ZAP XML report (`<OWASPZAPReport>`, the "Traditional XML" / "XML plus" reports, ZAP 1.4 – 2.16). DefectDojo's
 * "ZAP Scan": one finding per `site/alerts/alertitem` (no merging), title = `alert`, severity from `riskcode`
 * (0 info, 1 low, 2 medium, 3 high), CWE from `cweid`, `pluginid` as the tool's rule id, the alert's instances as
 * its endpoints. One WEB asset per `<site>`.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { attr, child, children, childText, htmlToText, isObject, ScanFormatError, severityFromText } from './util.js'
import { addEndpoint, joinBlocks, referenceUrls, urlLocation, WebAssets } from './dast-common.js'

const WHERE = 'ZAP XML report'
const RISK: Record<string, Severity> = { '0': 'info', '1': 'low', '2': 'medium', '3': 'high' }
const CONFIDENCE: Record<string, string> = { '0': 'False Positive', '1': 'Low', '2': 'Medium', '3': 'High', '4': 'Confirmed' }

function detect(doc: ScanDocument): number {
  return doc.kind === 'xml' && doc.xmlRoot === 'OWASPZAPReport' ? 1 : 0
}

/** The site's base URL: its `name` when that is a URL, else built from host/port/ssl. */
function siteUrl(site: unknown): string | undefined {
  const name = attr(site, 'name')
  if (name && /^https?:\/\//i.test(name)) return name
  const host = attr(site, 'host')
  if (!host) return name
  const ssl = attr(site, 'ssl') === 'true'
  const port = attr(site, 'port')
  const defaultPort = ssl ? '443' : '80'
  return `${ssl ? 'https' : 'http'}://${host}${port && port !== defaultPort ? `:${port}` : ''}`
}

function withoutQuery(uri: string): string {
  const q = uri.search(/[?#]/)
  return q < 0 ? uri : uri.slice(0, q)
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'OWASPZAPReport') throw new ScanFormatError(`${WHERE}: expected an <OWASPZAPReport> XML document`)
  const root = doc.xml?.OWASPZAPReport
  // `<OWASPZAPReport/>` with nothing inside: a report of no sites.
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <OWASPZAPReport> has an unexpected shape`)
  const assets = new WebAssets(doc.filename)
  const findings: ParsedFinding[] = []

  for (const [si, site] of children(root, 'site').entries()) {
    const base = siteUrl(site)
    if (!base) throw new ScanFormatError(`${WHERE}: <site> ${si + 1} has neither a name nor a host attribute`)
    const assetKey = assets.add(base)
    const alerts = child(site, 'alerts')
    for (const [ai, item] of children(alerts, 'alertitem').entries()) {
      const pluginId = childText(item, 'pluginid')
      const title = childText(item, 'alert') ?? childText(item, 'name')
      if (!title) throw new ScanFormatError(`${WHERE}: alert ${ai + 1} of site ${base} has no <alert> name`)
      const riskcode = childText(item, 'riskcode')
      const riskdesc = childText(item, 'riskdesc')
      const riskWord = riskdesc?.split(' (')[0]
      const severity = (riskcode !== undefined ? RISK[riskcode] : undefined) ?? severityFromText(riskWord) ?? 'info'
      const confidence = childText(item, 'confidence') ?? childText(item, 'reliability')

      // Instances (ZAP ≥ 2.x) or a single uri/param on the alert itself (ZAP 1.x).
      const instances = children(child(item, 'instances'), 'instance')
      const first = instances[0] ?? item
      const firstUri = childText(first, 'uri')
      const location = urlLocation(firstUri, childText(first, 'method'), childText(first, 'param'))

      const cweText = childText(item, 'cweid')
      const cwe = cweText && /^\d+$/.test(cweText) && Number(cweText) > 0 ? [Number(cweText)] : undefined
      const otherInfo = childText(first, 'otherinfo') ?? childText(item, 'otherinfo')
      const reference = childText(item, 'reference')
      const wasc = childText(item, 'wascid')

      const finding: ParsedFinding = {
        assetKey,
        title,
        severity,
        scannerSeverity: riskWord ?? riskcode,
        ...(pluginId ? { ruleId: pluginId } : {}),
        ...(cwe ? { cwe } : {}),
        location,
      }
      const description = joinBlocks(htmlToText(childText(item, 'desc')), ['Other information', htmlToText(otherInfo)])
      if (description) finding.description = description
      const remedy = htmlToText(childText(item, 'solution'))
      if (remedy) finding.remedy = remedy
      const refs = referenceUrls(reference)
      if (refs.length) finding.references = refs
      if (confidence === '0') {
        finding.status = 'false_positive'
        finding.statusReason = 'ZAP confidence: False Positive'
      }
      finding.extra = {
        ...(confidence !== undefined ? { confidence: CONFIDENCE[confidence] ?? confidence } : {}),
        ...(wasc && wasc !== '0' && wasc !== '-1' ? { wascId: wasc } : {}),
        ...(instances.length > 1 ? { instances: instances.length } : {}),
      }
      if (instances.length > 1) {
        for (const inst of instances) {
          const uri = childText(inst, 'uri')
          if (uri) addEndpoint(finding, withoutQuery(uri))
        }
      }
      if (Object.keys(finding.extra).length === 0) delete finding.extra
      findings.push(finding)
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'zap',
  label: 'OWASP ZAP (XML)',
  aliases: ['zap_scan', 'owasp_zap', 'zaproxy'],
  formats: ['xml'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
