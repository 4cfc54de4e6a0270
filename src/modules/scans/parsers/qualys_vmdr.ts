/**
 * Qualys VMDR "Asset Vuln Datalist Report" CSV, QID or CVE flavour (first header column `QID` / `CVE`), usually
 * below three metadata lines. DefectDojo's "Qualys VMDR": one finding per row (no merging), title = `Title`,
 * severity 1–5 → Info..Critical, status ACTIVE → active; the CVE flavour adds the CVE and its NVD CVSS v3.1 score.
 * Also reads Qualys' non-standard quoting (fields separated by `,""`).
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, num, ScanFormatError, str } from './util.js'
import { appendDescription, csvRowsFrom, cveList, first, headLines, infraAttributes, lineCells, portOf, qualysLevel, plainText } from './vm-common.js'

const WHERE = 'Qualys VMDR report'

function isHeader(cells: string[]): boolean {
  return (cells[0] === 'QID' || cells[0] === 'CVE') && cells.includes('Title') && (cells.includes('Asset IPV4') || cells.includes('Asset Id') || cells.includes('Asset Name'))
}

function headerIndex(text: string): number {
  return headLines(text, 6).findIndex((l) => isHeader(lineCells(l)))
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'csv') return 0
  const h = doc.csv?.header ?? []
  if (h[0] === 'Asset Vuln Datalist Report') return 1
  if (isHeader(h)) return 1
  return headerIndex(doc.text) >= 0 ? 0.9 : 0
}

/** Qualys' non-standard CSV: each record "…", fields separated by `,""`, quotes doubled. */
function splitNonStandard(line: string): string[] {
  let l = line.trim()
  if (l.startsWith('"') && l.endsWith('"')) l = l.slice(1, -1)
  return l.split(',""').map((p) => p.replace(/""$/, '').replace(/""/g, '"'))
}

function nonStandardRows(lines: string[], idx: number): Record<string, string>[] {
  const header = splitNonStandard(lines[idx] ?? '')
  const records: string[] = []
  let current: string | undefined
  for (const line of lines.slice(idx + 1)) {
    if (current === undefined) {
      if (!line.trim()) continue
      if (!line.startsWith('"')) continue
      current = line
    } else {
      current += `\n${line}`
    }
    const t = line.trimEnd()
    if ((t.endsWith('"') && !t.endsWith('""')) || t.endsWith('"""')) {
      records.push(current)
      current = undefined
    }
  }
  if (current !== undefined) records.push(current)
  return records.map((r) => {
    const values = splitNonStandard(r)
    const row: Record<string, string> = {}
    header.forEach((h, i) => { row[h] = values[i] ?? '' })
    return row
  })
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'csv') throw new ScanFormatError(`${WHERE}: expected a CSV document, got ${doc.kind.toUpperCase()}`)
  const idx = headerIndex(doc.text)
  if (idx < 0) throw new ScanFormatError(`${WHERE}: no 'QID' or 'CVE' header row with 'Title' and asset columns in the first lines`)
  const headerLine = headLines(doc.text, idx + 1)[idx] ?? ''
  const rows = headerLine.includes(',""') ? nonStandardRows(doc.text.split(/\r?\n/), idx) : csvRowsFrom(doc.text, idx, WHERE).rows
  const cveFlavour = lineCells(headerLine)[0] === 'CVE'
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []

  for (const row of rows) {
    if (Object.values(row).every((v) => v.trim() === '')) continue
    const qid = first(row, 'QID')
    const ipv4 = (first(row, 'Asset IPV4') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
    const ipv6 = first(row, 'Asset IPV6')
    const name = first(row, 'Asset Name')
    const attrs = infraAttributes({ ip: ipv4[0] ?? ipv6, name, os: first(row, 'Operating System') })
    if (!attrs.ip && !attrs.hostname) throw new ScanFormatError(`${WHERE}: the row of QID ${qid ?? '?'} names no asset (Asset IPV4, Asset IPV6, Asset Name)`)
    const tags = (first(row, 'Asset Tags') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')
    const assetKey = assets.add('INFRA', attrs, tags)

    const level = first(row, 'Severity')
    const title = str(row.Title) ?? 'Qualys VMDR Finding'
    const finding: ParsedFinding = {
      assetKey,
      title,
      severity: qualysLevel(level) ?? 'info',
      ...(level ? { scannerSeverity: level } : {}),
      ...(qid ? { ruleId: qid } : {}),
    }
    if (cveFlavour) {
      const cve = first(row, 'CVE')
      if (cve) appendDescription(finding, cve)
      const cveDescription = first(row, 'CVE-Description')
      if (cveDescription) appendDescription(finding, cveDescription)
    }
    appendDescription(finding, plainText(first(row, 'Threat')))
    const results = first(row, 'Results')
    if (results) appendDescription(finding, `Results:\n${results}`)
    const solution = plainText(first(row, 'Solution'))
    if (solution) finding.remedy = solution
    const ids = cveFlavour ? cveList(first(row, 'CVE')) : []
    if (ids.length) finding.vulnerabilityIds = ids
    const score = num(first(row, 'CVSSv3.1 Base (nvd)'))
    const score2 = num(first(row, 'CVSSv2 Base (nvd)'))
    if (score !== undefined) finding.cvss = { score, version: '3.1' }
    else if (score2 !== undefined) finding.cvss = { score: score2, version: '2.0' }
    const port = portOf(row.Port)
    const protocol = first(row, 'Protocol')?.toLowerCase()
    if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }

    const status = first(row, 'Status')?.toUpperCase()
    if (status === 'FIXED') {
      finding.status = 'mitigated'
      finding.statusReason = `Qualys status: FIXED${first(row, 'Last Fixed') ? ` (last fixed ${first(row, 'Last Fixed')})` : ''}`
    } else if (first(row, 'Ignored')?.toLowerCase() === 'yes') {
      finding.status = 'risk_accepted'
      finding.statusReason = 'Ignored in Qualys'
    }
    const category = first(row, 'Category')
    const vulnTags = (first(row, 'Vulnerability Tags') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')
    if (category || vulnTags.length) finding.tags = [...new Set([...(category ? [category] : []), ...vulnTags])]
    const rti = first(row, 'RTI')
    finding.extra = {
      ...(first(row, 'Asset Id') ? { assetId: first(row, 'Asset Id') } : {}),
      ...(ipv4.length > 1 ? { ips: ipv4.slice(0, 20) } : {}),
      ...(first(row, 'Type Detected') ? { type: first(row, 'Type Detected') } : {}),
      ...(num(first(row, 'QDS', 'QVS Score')) !== undefined ? { qds: num(first(row, 'QDS', 'QVS Score')) } : {}),
      ...(num(first(row, 'TruRisk Score')) !== undefined ? { truRisk: num(first(row, 'TruRisk Score')) } : {}),
      ...(rti ? { rti } : {}),
      ...(first(row, 'First Detected') ? { firstDetected: first(row, 'First Detected') } : {}),
      ...(first(row, 'Last Detected') ? { lastDetected: first(row, 'Last Detected') } : {}),
    }
    findings.push(finding)
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'qualys_vmdr',
  label: 'Qualys VMDR',
  aliases: ['Qualys VMDR'],
  formats: ['csv'],
  defaultAssetType: 'INFRA',
  detect,
  parse,
}
