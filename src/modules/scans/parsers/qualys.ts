/**
 * Qualys VM: the XML asset data report (`ASSET_DATA_REPORT`) and the CSV scan/host-detection export. DefectDojo's
 * "Qualys Scan":
 * - XML: one finding per host per detected QID (`VULN_INFO`), title "QID-n | TITLE" from the glossary, severity
 *   level 1–5 → Info..Critical, asset = DNS name else IP, Active / New / Re-Opened → active, otherwise mitigated.
 * - CSV: rows with a `Title` (or, in the PCI layout, `VULN TITLE`), title "QID-n | Title". DefectDojo merges a QID
 *   across every host into one finding; a Phoenix finding belongs to one asset, so we merge per host and QID.
 */
import type { ParsedFinding, ParseContext, ParseResult, ScanDocument, ScannerParser, Severity, XmlNode } from './types.js'
import { AssetCollector, attr, child, childText, children, isObject, num, ScanFormatError, severityFromText, str } from './util.js'
import {
  addIds, hackerGuardianLikelihood, isPciLayout, plainText, appendDescription, csvHeader, csvRowsFrom, cveList, cvssOf, first, headLines, infraAttributes, lineCells, portOf, qualysLevel, splitCvssCell,
} from './vm-common.js'

const WHERE = 'Qualys report'
const ACTIVE = new Set(['active', 'new', 're-opened', 'reopened'])
const TYPES: Record<string, string> = { Ig: 'Information gathered', Practice: 'Potential', Vuln: 'Confirmed' }

function detect(doc: ScanDocument): number {
  if (doc.kind === 'xml') return doc.xmlRoot === 'ASSET_DATA_REPORT' ? 1 : 0
  if (doc.kind !== 'csv') return 0
  const h = csvHeader(doc)
  if (h.has('QID') && h.has('Title') && h.has('IP') && (h.has('Vuln Status') || h.has('Severity'))) return 1
  if (isPciLayout(h)) return hackerGuardianLikelihood(doc) < 0.5 ? 0.8 : 0.4
  // Reports with metadata lines above the header (scan exports): look for the header in the first lines.
  if (headLines(doc.text, 12).some((l) => { const c = lineCells(l); return c.includes('QID') && c.includes('Title') && c.includes('IP') })) return 0.8
  return 0
}

// ─── XML ────────────────────────────────────────────────────────────────────────────────────────────────────────

function cdataText(node: unknown): string | undefined {
  return plainText(str(node))
}

interface Glossary { node: XmlNode; cves: string[]; links: string[]; texts?: { threat?: string | undefined; impact?: string | undefined; solution?: string | undefined } }

/** The glossary entry's HTML texts as plain text, converted once per QID (hosts share them). */
function glossaryTexts(g: Glossary | undefined): NonNullable<Glossary['texts']> {
  if (!g) return {}
  g.texts ??= { threat: cdataText(child(g.node, 'THREAT')), impact: cdataText(child(g.node, 'IMPACT')), solution: cdataText(child(g.node, 'SOLUTION')) }
  return g.texts
}

function parseXml(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.xml?.ASSET_DATA_REPORT
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <ASSET_DATA_REPORT> has no elements`)
  const glossary = new Map<string, Glossary>()
  for (const d of children(child(child(root, 'GLOSSARY'), 'VULN_DETAILS_LIST'), 'VULN_DETAILS')) {
    const id = attr(d, 'id')
    if (!id) continue
    const cves: string[] = []
    const links: string[] = []
    for (const c of children(child(d, 'CVE_ID_LIST'), 'CVE_ID')) {
      const cid = childText(c, 'ID')
      const url = childText(c, 'URL')
      if (cid && !cves.includes(cid.toUpperCase())) cves.push(cid.toUpperCase())
      if (url && !links.includes(url)) links.push(url)
    }
    glossary.set(id, { node: d, cves, links })
  }

  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  let missing = 0
  for (const host of children(child(root, 'HOST_LIST'), 'HOST')) {
    const ip = childText(host, 'IP')
    const dns = childText(host, 'DNS')
    if (!ip && !dns) throw new ScanFormatError(`${WHERE}: a <HOST> has neither <IP> nor <DNS>`)
    const groups = children(child(host, 'ASSET_GROUPS'), 'ASSET_GROUP_TITLE').map((g) => str(g)).filter((s): s is string => s !== undefined)
    const assetKey = assets.add('INFRA', infraAttributes({ ip, name: dns, netbios: childText(host, 'NETBIOS'), os: childText(host, 'OPERATING_SYSTEM') }), groups)

    for (const vi of children(child(host, 'VULN_INFO_LIST'), 'VULN_INFO')) {
      const qidNode = child(vi, 'QID')
      const gid = attr(qidNode, 'id') ?? (str(qidNode) ? `qid_${str(qidNode)}` : undefined)
      if (!gid) throw new ScanFormatError(`${WHERE}: a <VULN_INFO> of host ${dns ?? ip} has no <QID>`)
      const qid = str(qidNode) ?? gid.replace(/^qid_/, '')
      const g = glossary.get(gid)
      if (!g) missing++
      const d = g?.node
      const level = childText(d, 'SEVERITY')
      const severity: Severity = qualysLevel(level) ?? 'info'
      const port = portOf(childText(vi, 'PORT'))
      const protocol = childText(vi, 'PROTOCOL')?.toLowerCase()

      const finding: ParsedFinding = {
        assetKey,
        title: `QID-${qid} | ${childText(d, 'TITLE') ?? 'Unknown vulnerability'}`,
        severity,
        ...(level ? { scannerSeverity: level } : {}),
        ruleId: qid,
      }
      const { threat, impact, solution } = glossaryTexts(g)
      appendDescription(finding, threat)
      if (impact) appendDescription(finding, `Impact:\n${impact}`)
      const result = cdataText(child(vi, 'RESULT'))
      if (result) appendDescription(finding, `Result Evidence:\n${result}`)
      if (solution) finding.remedy = solution
      if (g?.cves.length) finding.vulnerabilityIds = [...g.cves]
      if (g?.links.length) finding.references = [...g.links]

      // CVSS: the detection's final score, else the glossary's base score.
      const v3 = splitCvssCell(childText(vi, 'CVSS3_FINAL'))
      const v3g = splitCvssCell(childText(child(d, 'CVSS3_SCORE'), 'CVSS3_BASE'))
      const v2 = splitCvssCell(childText(vi, 'CVSS_FINAL'))
      const v2g = splitCvssCell(childText(child(d, 'CVSS_SCORE'), 'CVSS_BASE'))
      const cvss = cvssOf(
        { score: v3.score ?? v3g.score, vector: v3.vector ?? v3g.vector },
        { score: v2.score ?? v2g.score, vector: v2.vector ?? v2g.vector ?? childText(child(d, 'CVSS_SCORE'), 'CVSS_VECTOR') },
      )
      if (cvss) finding.cvss = cvss
      if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }

      const status = childText(vi, 'VULN_STATUS')
      if (status && !ACTIVE.has(status.toLowerCase())) {
        finding.status = 'mitigated'
        finding.statusReason = `Qualys status: ${status}${childText(vi, 'LAST_FIXED') ? ` (last fixed ${childText(vi, 'LAST_FIXED')})` : ''}`
      }
      const type = childText(vi, 'TYPE')
      const category = childText(d, 'CATEGORY')
      if (category) finding.tags = [category]
      finding.extra = {
        ...(type ? { type: TYPES[type] ?? type } : {}),
        ...(category ? { category } : {}),
        ...(childText(vi, 'FIRST_FOUND') ? { firstFound: childText(vi, 'FIRST_FOUND') } : {}),
        ...(childText(vi, 'LAST_FOUND') ? { lastFound: childText(vi, 'LAST_FOUND') } : {}),
        ...(num(childText(vi, 'TIMES_FOUND')) !== undefined ? { timesFound: num(childText(vi, 'TIMES_FOUND')) } : {}),
        ...(childText(d, 'PCI_FLAG') ? { pci: childText(d, 'PCI_FLAG') === '1' } : {}),
      }
      findings.push(finding)
    }
  }
  if (missing) ctx.warn(`${WHERE}: ${missing} detection(s) refer to a QID missing from the report's glossary; their title and details are unknown`)
  return { assets: assets.list(), findings }
}

// ─── CSV ────────────────────────────────────────────────────────────────────────────────────────────────────────

/** "CVSS3 Base" "8.1 (AV:…)" + "CVSS3 Temporal" "7.4 (E:U/…)" → CVSS:3.0/AV:…/E:U/… (DefectDojo's rule). */
function cvssFromCsv(row: Record<string, string>): ParsedFinding['cvss'] {
  const baseCell = first(row, 'CVSS3 Base', 'CVSS3.1 Base')
  const base = splitCvssCell(baseCell)
  const temporal = splitCvssCell(first(row, 'CVSS3 Temporal', 'CVSS3.1 Temporal'))
  const vector = base.vector ? (temporal.vector ? `${base.vector}/${temporal.vector}` : base.vector) : undefined
  const v3score = base.score ?? num(first(row, 'CVSS3', 'CVSS3.1'))
  const v2 = splitCvssCell(first(row, 'CVSS Base', 'CVSS_BASE', 'CVSS'))
  return cvssOf({ vector, score: v3score }, v2)
}

function csvTable(doc: ScanDocument): Record<string, string>[] {
  const table = doc.csv
  if (!table) throw new ScanFormatError(`${WHERE}: expected a CSV document`)
  const h = new Set(table.header)
  if (h.has('QID') && (h.has('Title') || h.has('VULN TITLE'))) return table.rows
  const idx = headLines(doc.text, 12).findIndex((l) => { const c = lineCells(l); return c.includes('QID') && (c.includes('Title') || c.includes('VULN TITLE')) })
  if (idx < 0) throw new ScanFormatError(`${WHERE}: the CSV has no 'QID' and 'Title' columns (not a Qualys scan export)`)
  return csvRowsFrom(doc.text, idx, WHERE).rows
}

function parseCsvReport(doc: ScanDocument): ParseResult {
  const rows = csvTable(doc)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  for (const row of rows) {
    const titleCell = str(row.Title)
    const pci = !titleCell && str(row['VULN TITLE']) !== undefined
    if (!pci && (!titleCell || titleCell === 'Title')) continue
    const qid = str(row.QID)
    if (!qid) throw new ScanFormatError(`${WHERE}: a row titled "${titleCell ?? row['VULN TITLE']}" has no QID`)
    const title = `QID-${qid} | ${pci ? str(row['VULN TITLE'])! : titleCell!}`

    const ip = first(row, 'IP')
    const name = first(row, 'DNS', 'FQDN', 'HOSTNAME')
    const tags = (first(row, 'Associated Tags') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')
    const attrs = infraAttributes({ ip, name, netbios: first(row, 'NetBIOS'), os: first(row, 'OS', 'OPERATING SYSTEM') })
    if (!attrs.ip && !attrs.hostname) throw new ScanFormatError(`${WHERE}: the row of ${title} names no host (IP, DNS, FQDN)`)
    const assetKey = assets.add('INFRA', attrs, tags)
    const cves = cveList(first(row, 'CVE ID', 'CVEID'))

    const key = `${assetKey}\u0000${qid}`
    const prev = byKey.get(key)
    const port = portOf(first(row, 'Port', 'PORT'))
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      addIds(prev, cves)
      const ports = prev.extra?.ports as number[] | undefined
      if (ports && port !== undefined && !ports.includes(port) && ports.length < 50) ports.push(port)
      continue
    }

    const levelCell = pci ? first(row, 'Q_SEVERITY') : first(row, 'Severity')
    const severity: Severity = pci
      ? severityFromText(first(row, 'SEVERITY')) ?? qualysLevel(levelCell) ?? 'info'
      : qualysLevel(levelCell) ?? 'info'
    const finding: ParsedFinding = {
      assetKey,
      title,
      severity,
      scannerSeverity: (pci ? first(row, 'SEVERITY') : undefined) ?? levelCell ?? 'unknown',
      ruleId: qid,
      occurrences: 1,
    }
    appendDescription(finding, plainText(first(row, 'Threat', 'THREAT')))
    const impact = plainText(first(row, 'Impact', 'IMPACT'))
    if (impact) appendDescription(finding, `Impact:\n${impact}`)
    const results = plainText(first(row, 'Results', 'RESULT'))
    if (results) appendDescription(finding, `Result Evidence:\n${results}`)
    const solution = plainText(first(row, 'Solution', 'SOLUTION'))
    if (solution) finding.remedy = solution
    if (cves.length) addIds(finding, cves)
    const cvss = cvssFromCsv(row)
    if (cvss) finding.cvss = cvss
    const protocol = first(row, 'Protocol', 'PROTOCOL')?.toLowerCase()
    if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }

    const status = first(row, 'Vuln Status')
    if (status && !ACTIVE.has(status.toLowerCase())) {
      finding.status = 'mitigated'
      finding.statusReason = `Qualys status: ${status}${first(row, 'Date Last Fixed') ? ` (last fixed ${first(row, 'Date Last Fixed')})` : ''}`
    }
    const vendorRefs = first(row, 'Vendor Reference')
    if (vendorRefs) finding.references = vendorRefs.split(',').map((s) => s.trim()).filter((s) => s !== '')
    const category = first(row, 'Category', 'CATEGORY')
    if (category) finding.tags = [category]
    finding.extra = {
      ...(first(row, 'Type', 'TYPE') ? { type: first(row, 'Type', 'TYPE') } : {}),
      ...(category ? { category } : {}),
      ...(first(row, 'First Detected') ? { firstDetected: first(row, 'First Detected') } : {}),
      ...(first(row, 'Last Detected', 'LAST SCAN') ? { lastDetected: first(row, 'Last Detected', 'LAST SCAN') } : {}),
      ...(first(row, 'PCI Vuln', 'IS_PCI') ? { pci: first(row, 'PCI Vuln', 'IS_PCI') } : {}),
      ports: port !== undefined ? [port] : [],
    }
    byKey.set(key, finding)
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'qualys',
  label: 'Qualys VM',
  aliases: ['Qualys Scan'],
  formats: ['xml', 'csv'],
  defaultAssetType: 'INFRA',
  detect,
  parse(doc, ctx) {
    if (doc.kind === 'xml') {
      if (doc.xmlRoot !== 'ASSET_DATA_REPORT') throw new ScanFormatError(`${WHERE}: expected an <ASSET_DATA_REPORT> XML document, got <${doc.xmlRoot}>`)
      return parseXml(doc, ctx)
    }
    if (doc.kind === 'csv') return parseCsvReport(doc)
    throw new ScanFormatError(`${WHERE}: expected the XML asset data report or a CSV export, got ${doc.kind.toUpperCase()}`)
  },
}
