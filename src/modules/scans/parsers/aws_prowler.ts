/**
 * Prowler v2 (the bash Prowler, DefectDojo's "AWS Prowler Scan"):
 * - CSV (`-M csv`): PROFILE, ACCOUNT_NUM, REGION, TITLE_ID, CHECK_RESULT, ITEM_LEVEL, TITLE_TEXT ("[check11] …"),
 *   CHECK_RESULT_EXTENDED, CHECK_SEVERITY, CHECK_SERVICENAME, CHECK_RISK, CHECK_REMEDIATION, CHECK_DOC, … (older
 *   files: RESULT/LEVEL/SEVERITY). Every row is a finding as in DefectDojo; PASS and INFO rows are inactive
 *   (here: mitigated).
 * - JSON (`-M json`): one object per line {"Account Number", Control, Message, Severity, Status, Level, "Control ID",
 *   Region, Service, Risk, Remediation, "Doc link", "Resource ID", …}; only Status FAIL (any case) is a finding.
 * Title: the result text shortened to 150 characters. Severity: PASS/INFO → Info; FAIL → the check's severity
 * ("Informational" → Low), else Level 1 → Critical, other → High. Findings with the same severity, region and
 * result text are merged. CWE-1032 on all. Asset: CLOUD aws + account + region (+ resource in JSON).
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, firstRecord, isObject, ScanFormatError, severityFromText, shorten, str, urls } from './util.js'
import { labelled, paragraphs, PROWLER_CWE } from './cloud-common.js'

const WHERE = 'Prowler v2 report'
const CHECK_NUMBER = /\[(.*?)\]/
const CHECK_PREFIX = /\[.*\]\s/g

/** DefectDojo's getCriticalityRating. */
function rating(result: string | undefined, level: string | undefined, severity: string | undefined): Severity {
  if (result !== 'FAIL') return 'info'
  if (severity) return severity === 'Informational' ? 'low' : severityFromText(severity) ?? 'info'
  return level === 'Level 1' ? 'critical' : 'high'
}

function isV2Json(r: Record<string, unknown> | undefined): boolean {
  return !!r && 'Account Number' in r && ('Control' in r || 'Control ID' in r) && ('Message' in r || 'Status' in r)
}

function detect(doc: ScanDocument): number {
  if (doc.kind === 'csv') {
    const h = new Set(doc.csv?.header ?? [])
    if (h.has('ACCOUNT_NUM') && h.has('TITLE_TEXT') && (h.has('CHECK_RESULT') || h.has('RESULT'))) return 1
    return 0
  }
  return isV2Json(firstRecord(doc)) ? 1 : 0
}

interface Row {
  account?: string
  region?: string
  profile?: string
  titleId?: string
  result?: string
  level?: string
  severity?: string
  titleText?: string
  resultExtended?: string
  service?: string
  compliance?: string
  asffResourceType?: string
  asffType?: string
  risk?: string
  remediation?: string
  doc?: string
  cafEpic?: string
  resource?: string
  scored?: string
  timestamp?: string
  notes?: string
}

class Builder {
  readonly assets = new AssetCollector()
  private readonly byKey = new Map<string, ParsedFinding>()

  add(r: Row, ctx: ParseContext): void {
    const control = r.titleText?.replace(CHECK_PREFIX, '')
    const checkNumber = r.titleText ? CHECK_NUMBER.exec(r.titleText)?.[1] : undefined
    const resultText = r.resultExtended ?? control
    if (!resultText) throw new ScanFormatError(`${WHERE}: a result has neither a result text nor a check title`)
    const severity = rating(r.result, r.level, r.severity)
    const key = `${severity}|${r.region ?? ''}|${resultText}`
    const prev = this.byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      return
    }
    if (!r.account) ctx.warn(`${WHERE}: a result has no AWS account number`)
    const assetKey = this.assets.add('CLOUD', { provider: 'aws', account: r.account ?? r.profile ?? 'unknown', region: r.region, resource: r.resource })
    const inactive = r.result === 'PASS' || r.result === 'INFO'
    const details = labelled([
      ['Issue', r.resultExtended],
      ['Control', control],
      ['AWS Account', r.account],
      ['Region', r.region],
      ['CIS Control', r.titleId ? r.titleId + (r.level ? `, ${r.level}` : '') : undefined],
      ['Prowler check', checkNumber],
      ['Result', r.result],
      ['AWS Service', r.service],
      ['Resource', r.resource],
      ['ASFF Resource Type', r.asffResourceType],
      ['ASFF Type', r.asffType],
      ['Compliance', r.compliance],
      ['Security Domain', r.cafEpic],
    ])
    const references = urls(r.doc)
    const f: ParsedFinding = {
      assetKey,
      title: shorten(resultText),
      severity,
      cwe: [PROWLER_CWE],
    }
    const description = paragraphs(details, r.risk ? `Risk: ${r.risk}` : undefined, r.notes ? `Notes: ${r.notes}` : undefined)
    if (description) f.description = description
    if (r.remediation) f.remedy = r.remediation
    if (r.severity) f.scannerSeverity = r.severity
    if (checkNumber) f.ruleId = checkNumber
    if (inactive) {
      f.status = 'mitigated'
      f.statusReason = `Prowler result ${r.result}`
    }
    if (references.length) f.references = references
    if (r.service) f.tags = [r.service]
    const extra: Record<string, unknown> = {}
    if (r.titleId) extra.controlId = r.titleId
    if (r.result) extra.result = r.result
    if (r.timestamp) extra.timestamp = r.timestamp
    if (Object.keys(extra).length) f.extra = extra
    this.byKey.set(key, f)
  }

  result(): ParseResult {
    return { assets: this.assets.list(), findings: [...this.byKey.values()] }
  }
}

function parseCsv(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const table = doc.csv
  if (!table) throw new ScanFormatError(`${WHERE}: the CSV could not be read`)
  const h = new Set(table.header)
  const missing = ['ACCOUNT_NUM', 'REGION', 'TITLE_TEXT'].filter((c) => !h.has(c))
  if (!h.has('CHECK_RESULT') && !h.has('RESULT')) missing.push('CHECK_RESULT')
  if (missing.length) throw new ScanFormatError(`${WHERE}: the CSV lacks the column(s) ${missing.join(', ')}`)
  const b = new Builder()
  for (const row of table.rows) {
    const get = (...names: string[]) => {
      for (const n of names) {
        const v = str(row[n])
        if (v !== undefined) return v
      }
      return undefined
    }
    b.add({
      profile: get('PROFILE'),
      account: get('ACCOUNT_NUM'),
      region: get('REGION'),
      titleId: get('TITLE_ID'),
      result: get('CHECK_RESULT', 'RESULT'),
      scored: get('ITEM_SCORED', 'SCORED'),
      level: get('ITEM_LEVEL', 'LEVEL'),
      severity: get('CHECK_SEVERITY', 'SEVERITY'),
      titleText: get('TITLE_TEXT'),
      resultExtended: get('CHECK_RESULT_EXTENDED'),
      compliance: get('CHECK_ASFF_COMPLIANCE_TYPE'),
      service: get('CHECK_SERVICENAME'),
      asffResourceType: get('CHECK_ASFF_RESOURCE_TYPE'),
      asffType: get('CHECK_ASFF_TYPE'),
      risk: get('CHECK_RISK'),
      remediation: get('CHECK_REMEDIATION'),
      doc: get('CHECK_DOC'),
      cafEpic: get('CHECK_CAF_EPIC'),
      notes: get('NOTES'),
    }, ctx)
  }
  return b.result()
}

function parseJson(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const records: unknown[] = Array.isArray(doc.json) ? doc.json : [doc.json]
  const b = new Builder()
  for (const [i, r] of records.entries()) {
    if (!isObject(r) || typeof r.Status !== 'string' || typeof r.Message !== 'string') {
      throw new ScanFormatError(`${WHERE}: record ${i + 1} is not a Prowler v2 result (needs "Status" and "Message" strings)`)
    }
    if (r.Status.toUpperCase() !== 'FAIL') continue
    b.add({
      profile: str(r.Profile),
      account: str(r['Account Number']),
      region: str(r.Region),
      titleId: str(r['Control ID']),
      result: 'FAIL',
      scored: str(r.Scored),
      level: str(r.Level),
      severity: str(r.Severity),
      titleText: str(r.Control),
      resultExtended: str(r.Message),
      compliance: str(r.Compliance),
      service: str(r.Service),
      risk: str(r.Risk),
      remediation: str(r.Remediation),
      doc: str(r['Doc link']),
      cafEpic: str(r['CAF Epic']),
      resource: str(r['Resource ID']),
      timestamp: str(r.Timestamp),
    }, ctx)
  }
  return b.result()
}

export const parser: ScannerParser = {
  id: 'aws_prowler',
  label: 'AWS Prowler v2 (CSV / JSON)',
  aliases: ['AWS Prowler Scan', 'prowler_v2'],
  formats: ['csv', 'json', 'jsonl'],
  defaultAssetType: 'CLOUD',
  detect,
  parse(doc, ctx) {
    if (doc.kind === 'csv') return parseCsv(doc, ctx)
    if (doc.kind === 'json' || doc.kind === 'jsonl') {
      if (!isObject(doc.json) && !Array.isArray(doc.json)) throw new ScanFormatError(`${WHERE}: expected JSON objects, one per line`)
      return parseJson(doc, ctx)
    }
    throw new ScanFormatError(`${WHERE}: expected CSV or JSON lines, got ${doc.kind.toUpperCase()}`)
  },
}
