/**
 * Qualys Web Application Scanning (WAS) XML: `WAS_SCAN_REPORT` or `WAS_WEBAPP_REPORT`. DefectDojo's "Qualys Webapp
 * Scan" (default settings): one finding per QID — detections of a QID at several URLs merge; vulnerabilities count
 * only when their QID is in the glossary; information-gathered items are findings too, always Info. Severity of a
 * vulnerability: glossary level 1–5 → Low, Low, Medium, High, Critical (Qualys shows level 1 as low). One WEB asset:
 * the scanned web application.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity, XmlNode } from './types.js'
import { AssetCollector, child, childText, children, hostOf, isObject, num, originOf, parseCwe, ScanFormatError, str } from './util.js'
import { appendDescription, cvssOf, splitCvssCell, plainText } from './vm-common.js'

const WHERE = 'Qualys WAS report'
const ROOTS = new Set(['WAS_SCAN_REPORT', 'WAS_WEBAPP_REPORT'])
const LEVELS: Severity[] = ['low', 'low', 'medium', 'high', 'critical']
const MAX_URLS = 20

function detect(doc: ScanDocument): number {
  return doc.kind === 'xml' && doc.xmlRoot !== undefined && ROOTS.has(doc.xmlRoot) ? 1 : 0
}

function decodeTag(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined
  const text = str(node)
  if (!text) return undefined
  if (node['@_base64'] === 'true') {
    try {
      return Buffer.from(text, 'base64').toString('utf8')
    } catch {
      return text
    }
  }
  return text
}

interface Entry { qid: string; node: XmlNode }

function urlsOf(v: XmlNode): string[] {
  const out: string[] = []
  const url = childText(v, 'URL')
  if (url) out.push(url)
  for (const u of children(child(v, 'ACCESS_PATH'), 'URL')) {
    const s = str(u)
    if (s && !out.includes(s)) out.push(s)
  }
  return out
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'xml' || !doc.xmlRoot || !ROOTS.has(doc.xmlRoot)) throw new ScanFormatError(`${WHERE}: expected a <WAS_SCAN_REPORT> or <WAS_WEBAPP_REPORT> XML document`)
  const root = doc.xml?.[doc.xmlRoot]
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: <${doc.xmlRoot}> has no elements`)
  const isApp = doc.xmlRoot === 'WAS_WEBAPP_REPORT'
  const results = isApp ? child(child(root, 'RESULTS'), 'WEB_APPLICATION') : child(root, 'RESULTS')
  const vulns = children(child(results, 'VULNERABILITY_LIST'), 'VULNERABILITY')
  const infos = children(child(results, 'INFORMATION_GATHERED_LIST'), 'INFORMATION_GATHERED')

  const glossary = new Map<string, XmlNode>()
  for (const q of children(child(child(root, 'GLOSSARY'), 'QID_LIST'), 'QID')) {
    const id = childText(q, 'QID')
    if (id && !glossary.has(id)) glossary.set(id, q)
  }

  // The scanned web application: APPENDIX/WEBAPP (scan report) or RESULTS/WEB_APPLICATION (web app report).
  const webapp = child(child(root, 'APPENDIX'), 'WEBAPP') ?? (isApp ? results : undefined)
  const firstUrl = vulns.map((v) => childText(v, 'URL')).find((u) => u !== undefined)
  const appUrl = childText(webapp, 'URL') ?? firstUrl
  const appName = childText(webapp, 'NAME') ?? childText(child(root, 'TARGET'), 'WEB_APPLICATION')
  const assets = new AssetCollector()
  const origin = originOf(appUrl)
  const assetKey = assets.add('WEB', origin
    ? { url: origin, fqdn: hostOf(appUrl), ...(childText(webapp, 'OPERATING_SYSTEM') ? { os: childText(webapp, 'OPERATING_SYSTEM') } : {}) }
    : { fqdn: appName ?? doc.filename })

  // DefectDojo keys findings by QID: vulnerabilities first, then information gathered (which replaces a
  // vulnerability of the same QID).
  const byQid = new Map<string, ParsedFinding>()
  const fromInfo = new Set<string>()
  const build = (group: Entry[], info: boolean) => {
    for (const { qid, node } of group) {
      const g = glossary.get(qid)
      if (!info && !g) continue
      const prev = info && !fromInfo.has(qid) ? undefined : byQid.get(qid)
      const urls = urlsOf(node)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        const list = prev.extra?.urls as string[] | undefined
        if (list) for (const u of urls) if (list.length < MAX_URLS && !list.includes(u)) list.push(u)
        continue
      }
      const level = num(childText(g, 'SEVERITY'))
      const severity: Severity = info ? 'info' : LEVELS[(level ?? 1) - 1] ?? 'low'
      const finding: ParsedFinding = {
        assetKey,
        title: childText(g, 'TITLE') ?? `QID ${qid}`,
        severity,
        ...(childText(g, 'SEVERITY') ? { scannerSeverity: childText(g, 'SEVERITY')! } : {}),
        ruleId: qid,
        occurrences: 1,
      }
      appendDescription(finding, plainText(childText(g, 'DESCRIPTION')))
      const impact = plainText(childText(g, 'IMPACT'))
      if (impact) appendDescription(finding, `Impact:\n${impact}`)
      if (info) appendDescription(finding, decodeTag(child(node, 'DATA')))
      const solution = plainText(childText(g, 'SOLUTION'))
      if (solution) finding.remedy = solution
      const cwe = parseCwe(childText(g, 'CWE'))
      if (cwe.length) finding.cwe = cwe
      const cvss = cvssOf(splitCvssCell(childText(child(g, 'CVSS_V3'), 'BASE')), splitCvssCell(childText(g, 'CVSS_BASE')))
      if (cvss) finding.cvss = cvss
      const url = urls[0]
      const method = childText(child(child(child(node, 'PAYLOADS'), 'PAYLOAD'), 'REQUEST'), 'METHOD')
      const param = info ? undefined : childText(node, 'PARAM')
      if (url || method || param) finding.location = { ...(url ? { url } : {}), ...(method ? { method } : {}), ...(param ? { param } : {}) }
      const status = childText(node, 'STATUS')
      if (status && /fixed/i.test(status)) {
        finding.status = 'mitigated'
        finding.statusReason = `Qualys WAS status: ${status}`
      }
      const uniqueId = childText(node, 'UNIQUE_ID')
      const group2 = childText(g, 'GROUP')
      const category = childText(g, 'CATEGORY')
      if (category) finding.tags = [category]
      finding.extra = {
        ...(group2 ? { group: group2 } : {}),
        ...(uniqueId ? { qualysUniqueId: uniqueId } : {}),
        ...(childText(g, 'OWASP') ? { owasp: childText(g, 'OWASP') } : {}),
        ...(childText(g, 'WASC') ? { wasc: childText(g, 'WASC') } : {}),
        urls: urls.slice(0, MAX_URLS),
      }
      byQid.set(qid, finding)
      if (info) fromInfo.add(qid)
    }
  }
  const entries = (list: XmlNode[], what: string): Entry[] => list.map((node, i) => {
    const qid = childText(node, 'QID')
    if (!qid) throw new ScanFormatError(`${WHERE}: ${what} ${i + 1} has no <QID>`)
    return { qid, node }
  })
  build(entries(vulns, 'vulnerability'), false)
  build(entries(infos, 'information-gathered item'), true)
  return { assets: assets.list(), findings: [...byQid.values()] }
}

export const parser: ScannerParser = {
  id: 'qualys_webapp',
  label: 'Qualys Web Application Scanning',
  aliases: ['Qualys Webapp Scan', 'qualys_was'],
  formats: ['xml'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
