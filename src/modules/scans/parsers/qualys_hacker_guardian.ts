/**
 * Qualys HackerGuardian (PCI external scanning) CSV. DefectDojo's "Qualys Hacker Guardian Scan": one finding per
 * row titled `VULN TITLE`, severity from `Q_SEVERITY` with Qualys' KB mapping (1–2 Low, 3 Medium, 4–5 High),
 * repeats of a QID merged. DefectDojo merges a QID across hosts; a Phoenix finding belongs to one asset, so we
 * merge per host (same QID on ports 80 and 443 of one host → one finding, 2 occurrences).
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, num, ScanFormatError, str } from './util.js'
import { addIds, appendDescription, csvHeader, cveList, first, hackerGuardianLikelihood, infraAttributes, isPciLayout, portOf, plainText } from './vm-common.js'

const WHERE = 'Qualys HackerGuardian report'
/** https://qualysguard.qg2.apps.qualys.com/portal-help/en/malware/knowledgebase/severity_levels.htm (as DefectDojo). */
const KB_SEVERITY: Record<string, Severity> = { 1: 'low', 2: 'low', 3: 'medium', 4: 'high', 5: 'high' }

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'csv') return 0
  const h = csvHeader(doc)
  if (!isPciLayout(h) || !h.has('Q_SEVERITY')) return 0
  return hackerGuardianLikelihood(doc) >= 0.5 ? 0.85 : 0.45
}

function parse(doc: ScanDocument): ParseResult {
  const table = doc.csv
  if (!table) throw new ScanFormatError(`${WHERE}: expected a CSV document`)
  const h = new Set(table.header)
  for (const col of ['QID', 'VULN TITLE']) if (!h.has(col)) throw new ScanFormatError(`${WHERE}: the CSV has no '${col}' column`)
  if (!h.has('IP') && !h.has('HOSTNAME')) throw new ScanFormatError(`${WHERE}: the CSV has neither an 'IP' nor a 'HOSTNAME' column`)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()

  for (const [i, row] of table.rows.entries()) {
    const qid = str(row.QID)
    const title = str(row['VULN TITLE'])
    if (!qid && !title) continue
    if (!qid) throw new ScanFormatError(`${WHERE}: row ${i + 2} ("${title}") has no QID`)
    const ip = first(row, 'IP')
    const hostname = first(row, 'HOSTNAME')
    const attrs = infraAttributes({ ip, name: hostname, os: first(row, 'OPERATING SYSTEM') })
    if (!attrs.ip && !attrs.hostname) throw new ScanFormatError(`${WHERE}: row ${i + 2} (QID ${qid}) names no host`)
    const assetKey = assets.add('INFRA', attrs)
    const port = portOf(row.PORT)
    const cves = cveList(first(row, 'CVEID'))
    const key = `${assetKey}\u0000${qid}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      addIds(prev, cves)
      const ports = prev.extra?.ports as number[] | undefined
      if (ports && port !== undefined && !ports.includes(port) && ports.length < 50) ports.push(port)
      continue
    }

    const level = first(row, 'Q_SEVERITY')
    const finding: ParsedFinding = {
      assetKey,
      title: title ?? `QID ${qid}`,
      severity: KB_SEVERITY[level ?? ''] ?? 'low',
      scannerSeverity: level ?? first(row, 'SEVERITY') ?? 'unknown',
      ruleId: qid,
      occurrences: 1,
    }
    const category = first(row, 'CATEGORY')
    if (category) appendDescription(finding, `Category: ${category}`)
    appendDescription(finding, plainText(first(row, 'THREAT')))
    const impact = plainText(first(row, 'IMPACT'))
    if (impact) appendDescription(finding, `Impact:\n${impact}`)
    const result = first(row, 'RESULT')
    if (result) appendDescription(finding, `Result:\n${result}`)
    const solution = plainText(first(row, 'SOLUTION'))
    if (solution) finding.remedy = solution
    if (cves.length) addIds(finding, cves)
    // HackerGuardian gives only a base score, without saying which CVSS version it is.
    const score = num(first(row, 'CVSS_BASE'))
    if (score !== undefined) finding.cvss = { score }
    const protocol = first(row, 'PROTOCOL')?.toLowerCase()
    if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }
    const fp = first(row, 'FALSE POSITIVE STATUS')
    if (fp && /^(accepted|approved)$/i.test(fp)) {
      finding.status = 'false_positive'
      finding.statusReason = `HackerGuardian false positive status: ${fp}`
    }
    if (category) finding.tags = [category]
    finding.extra = {
      ...(first(row, 'TYPE') ? { type: first(row, 'TYPE') } : {}),
      ...(first(row, 'IS_PCI') ? { pci: first(row, 'IS_PCI') === 'Y' } : {}),
      ...(first(row, 'LAST SCAN') ? { lastScan: first(row, 'LAST SCAN') } : {}),
      ...(fp ? { falsePositiveStatus: fp } : {}),
      ports: port !== undefined ? [port] : [],
    }
    byKey.set(key, finding)
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'qualys_hacker_guardian',
  label: 'Qualys HackerGuardian',
  aliases: ['Qualys Hacker Guardian Scan'],
  formats: ['csv'],
  defaultAssetType: 'INFRA',
  detect,
  parse,
}
