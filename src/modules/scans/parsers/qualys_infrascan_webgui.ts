/**
 * Qualys infrastructure scan XML as exported from the web GUI (`<SCAN>` root, `<IP value name>` hosts with
 * `VULNS/CAT/VULN`). DefectDojo's "Qualys Infrastructure Scan (WebGUI XML)": one finding per confirmed
 * vulnerability (`VULNS`) per host, no merging; information gathered (`INFOS`), `SERVICES` and `PRACTICES` are not
 * findings. Title = `TITLE`, severity from the `severity` attribute 1–5 → Info..Critical.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, attr, child, childText, children, isObject, ScanFormatError, str } from './util.js'
import { appendDescription, cveList, cvssOf, infraAttributes, portOf, qualysLevel, splitCvssCell, plainText } from './vm-common.js'

const WHERE = 'Qualys infrastructure scan (WebGUI XML)'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'SCAN') return 0
  const root = doc.xml?.SCAN
  if (!isObject(root)) return 0.3
  const value = attr(root, 'value')
  if (value?.startsWith('scan/') || (isObject(root.HEADER) && 'KEY' in root.HEADER)) return 1
  return 'IP' in root ? 0.7 : 0.3
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'SCAN') throw new ScanFormatError(`${WHERE}: expected an XML document with a <SCAN> root`)
  const root = doc.xml?.SCAN
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <SCAN> has no elements`)
  let scanDate: string | undefined
  for (const k of children(child(root, 'HEADER'), 'KEY')) if (attr(k, 'value') === 'DATE') scanDate = str(k)

  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  for (const ipNode of children(root, 'IP')) {
    const ip = attr(ipNode, 'value')
    const rawName = attr(ipNode, 'name')
    const name = rawName && !/^no registered hostname$/i.test(rawName) ? rawName : undefined
    if (!ip && !name) throw new ScanFormatError(`${WHERE}: an <IP> element has neither a value nor a name`)
    const assetKey = assets.add('INFRA', infraAttributes({ ip, name, netbios: childText(ipNode, 'NETBIOS_HOSTNAME'), os: childText(ipNode, 'OS') }))

    for (const cat of children(child(ipNode, 'VULNS'), 'CAT')) {
      const category = attr(cat, 'value')
      const port = portOf(attr(cat, 'port'))
      const protocol = attr(cat, 'protocol')?.toLowerCase()
      for (const vuln of children(cat, 'VULN')) {
        const qid = attr(vuln, 'number')
        const level = attr(vuln, 'severity')
        const title = childText(vuln, 'TITLE') ?? (qid ? `QID ${qid}` : undefined)
        if (!title) throw new ScanFormatError(`${WHERE}: a <VULN> of ${ip ?? name} has neither a TITLE nor a number`)
        const finding: ParsedFinding = {
          assetKey,
          title,
          severity: qualysLevel(level) ?? 'info',
          ...(level ? { scannerSeverity: level } : {}),
          ...(qid ? { ruleId: qid } : {}),
        }
        appendDescription(finding, plainText(childText(vuln, 'DIAGNOSIS')))
        const impact = plainText(childText(vuln, 'CONSEQUENCE'))
        if (impact) appendDescription(finding, `Impact:\n${impact}`)
        const result = plainText(childText(vuln, 'RESULT'))
        if (result) appendDescription(finding, `Result Evidence:\n${result}`)
        const solution = plainText(childText(vuln, 'SOLUTION'))
        if (solution) finding.remedy = solution

        const cves: string[] = []
        const links: string[] = []
        for (const c of children(child(vuln, 'CVE_ID_LIST'), 'CVE_ID')) {
          const id = childText(c, 'ID')?.toUpperCase()
          const url = childText(c, 'URL')
          if (id && !cves.includes(id)) cves.push(id)
          if (url && !links.includes(url)) links.push(url)
        }
        for (const id of cveList(attr(vuln, 'cveid'))) if (!cves.includes(id)) cves.push(id)
        if (cves.length) finding.vulnerabilityIds = cves
        for (const v of children(child(vuln, 'VENDOR_REFERENCE_LIST'), 'VENDOR_REFERENCE')) {
          const url = childText(v, 'URL')
          if (url && !links.includes(url)) links.push(url)
        }
        if (links.length) finding.references = links

        const cvss = cvssOf(splitCvssCell(childText(vuln, 'CVSS3_BASE')), splitCvssCell(childText(vuln, 'CVSS_BASE')))
        if (cvss) finding.cvss = cvss
        if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }
        if (category) finding.tags = [category]
        finding.extra = {
          ...(category ? { category } : {}),
          ...(scanDate ? { scanDate } : {}),
          ...(childText(vuln, 'PCI_FLAG') ? { pci: childText(vuln, 'PCI_FLAG') === '1' } : {}),
        }
        findings.push(finding)
      }
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'qualys_infrascan_webgui',
  label: 'Qualys infrastructure scan (WebGUI XML)',
  aliases: ['Qualys Infrastructure Scan (WebGUI XML)'],
  formats: ['xml'],
  defaultAssetType: 'INFRA',
  detect,
  parse,
}
