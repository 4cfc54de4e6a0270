/**
 * Prowler (v4/v5, multi-cloud: AWS, Azure, GCP, Kubernetes; DefectDojo's "Prowler Scan"):
 * - CSV (`-M csv`, `;`-separated): AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;…;FINDING_UID;PROVIDER;CHECK_ID;CHECK_TITLE;
 *   STATUS;STATUS_EXTENDED;MUTED;SERVICE_NAME;SEVERITY;RESOURCE_TYPE;RESOURCE_UID;RESOURCE_NAME;REGION;DESCRIPTION;
 *   RISK;RELATED_URL;REMEDIATION_…;COMPLIANCE;CATEGORIES;NOTES;ADDITIONAL_URLS.
 * - OCSF JSON (`-M json-ocsf`): a JSON array of Detection Findings {message, status_code, status, status_detail,
 *   severity, finding_info, metadata {event_code, product}, cloud, resources, remediation, risk_details, unmapped}.
 * As DefectDojo: PASS results are skipped, FAIL and MANUAL are findings; title = CHECK_TITLE (CSV) or `message`
 * (OCSF); severity from the Prowler word (unknown → Info); findings with the same title and the same description
 * facts (cloud, description, service, status detail, time, region / pod) are merged. Muted results stay findings
 * but are risk accepted. Asset: CLOUD provider + account + region + resource.
 */
import type { AssetAttributes, ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, firstRecord, isObject, ScanFormatError, str, strings, urls } from './util.js'
import { complianceLines, dropSharedUniqueIds, isProwlerOcsf, jsonArray, labelled, obj, ocsfHasMessage, ocsfSeverityId, paragraphs, prowlerSeverity } from './cloud-common.js'

const WHERE = 'Prowler report'

function detect(doc: ScanDocument): number {
  if (doc.kind === 'csv') {
    const h = new Set(doc.csv?.header ?? [])
    if (h.has('CHECK_ID') && h.has('STATUS') && (h.has('FINDING_UID') || h.has('FINDING_UNIQUE_ID') || h.has('PROVIDER'))) return 1
    return 0
  }
  if (doc.kind !== 'json' || !Array.isArray(doc.json)) return 0
  const first = firstRecord(doc)
  if (isProwlerOcsf(first)) return ocsfHasMessage(first) ? 0.9 : 0.6
  return 0
}

interface Entry {
  key: string
  finding: ParsedFinding
  asset: AssetAttributes
}

class Collector {
  private readonly assets = new AssetCollector()
  private readonly byKey = new Map<string, ParsedFinding>()
  private missingAccount = 0

  add(e: Entry): void {
    const prev = this.byKey.get(e.key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      return
    }
    if (!e.asset.account) {
      this.missingAccount++
      e.asset.account = 'unknown'
    }
    e.finding.assetKey = this.assets.add('CLOUD', e.asset)
    this.byKey.set(e.key, e.finding)
  }

  result(ctx: ParseContext): ParseResult {
    if (this.missingAccount) ctx.warn(`${WHERE}: ${this.missingAccount} findings name no cloud account; their asset's account is "unknown"`)
    const findings = [...this.byKey.values()]
    dropSharedUniqueIds(findings, ctx)
    return { assets: this.assets.list(), findings }
  }
}

// ---------------------------------------------------------------- CSV

function csvEntry(row: Record<string, string>): Entry {
  const get = (c: string) => str(row[c])
  /** DefectDojo's row.get(c, "N/A") — used only for the merge key, so it matches DefectDojo's. */
  const raw = (c: string) => row[c] ?? 'N/A'
  const provider = get('PROVIDER')
  const checkId = get('CHECK_ID')
  const title = get('CHECK_TITLE') ?? checkId ?? 'Prowler Finding'
  const key = [title, (row.PROVIDER ?? 'N/A').toUpperCase(), raw('DESCRIPTION'), raw('SERVICE_NAME'), raw('STATUS_EXTENDED'),
    raw('TIMESTAMP'), raw('REGION'), raw('NOTES'), row.RELATED_URL ?? '', row.ADDITIONAL_URLS ?? ''].join('\u0000')
  const status = get('STATUS')
  const region = get('REGION')
  const resource = get('RESOURCE_UID') ?? get('RESOURCE_ARN') ?? get('RESOURCE_ID') ?? get('RESOURCE_NAME')
  const compliance = get('COMPLIANCE')?.split('|').map((s) => s.trim()).filter((s) => s !== '') ?? []
  const details = labelled([
    ['Status detail', get('STATUS_EXTENDED')],
    ['Status', status],
    ['Cloud', provider?.toUpperCase()],
    ['Account', get('ACCOUNT_NAME') ?? get('ACCOUNT_UID') ?? get('ACCOUNT_ID')],
    ['Region', region],
    ['Service', get('SERVICE_NAME')],
    ['Resource type', get('RESOURCE_TYPE')],
    ['Resource', resource],
    ['Check', checkId],
  ])
  const f: ParsedFinding = {
    assetKey: '',
    title,
    severity: prowlerSeverity(get('SEVERITY')),
  }
  const description = paragraphs(
    get('DESCRIPTION'), details, get('RISK') ? `Risk: ${get('RISK')}` : undefined,
    compliance.length ? `Compliance:\n${compliance.join('\n')}` : undefined, get('NOTES') ? `Notes: ${get('NOTES')}` : undefined,
  )
  if (description) f.description = description
  const code = labelled([
    ['CLI', get('REMEDIATION_CODE_CLI')],
    ['Terraform', get('REMEDIATION_CODE_TERRAFORM')],
    ['Native IaC', get('REMEDIATION_CODE_NATIVEIAC')],
    ['Other', get('REMEDIATION_CODE_OTHER')],
  ])
  const remedy = paragraphs(get('REMEDIATION_RECOMMENDATION_TEXT'), code)
  if (remedy) f.remedy = remedy
  if (get('SEVERITY')) f.scannerSeverity = get('SEVERITY')
  if (checkId) f.ruleId = checkId
  const uid = get('FINDING_UID') ?? get('FINDING_UNIQUE_ID')
  if (uid) f.uniqueId = uid
  if (get('MUTED')?.toLowerCase() === 'true') {
    f.status = 'risk_accepted'
    f.statusReason = 'Muted in Prowler'
  }
  const references = urls(get('RELATED_URL'), get('REMEDIATION_RECOMMENDATION_URL'), get('ADDITIONAL_URLS'))
  if (references.length) f.references = references
  const tags = [provider?.toLowerCase(), get('SERVICE_NAME'), ...(get('CATEGORIES')?.split('|').map((s) => s.trim()) ?? [])]
    .filter((t): t is string => t !== undefined && t !== '')
  if (tags.length) f.tags = [...new Set(tags)]
  const extra: Record<string, unknown> = {}
  if (status) extra.status = status
  if (get('RESOURCE_TYPE')) extra.resourceType = get('RESOURCE_TYPE')
  if (get('RESOURCE_NAME')) extra.resourceName = get('RESOURCE_NAME')
  const when = get('TIMESTAMP') ?? get('ASSESSMENT_START_TIME')
  if (when) extra.assessedAt = when
  if (Object.keys(extra).length) f.extra = extra
  return {
    key,
    finding: f,
    asset: { provider: provider?.toLowerCase() ?? 'unknown', account: get('ACCOUNT_UID') ?? get('ACCOUNT_ID') ?? get('ACCOUNT_NAME'), region, resource },
  }
}

function parseCsv(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const table = doc.csv
  if (!table) throw new ScanFormatError(`${WHERE}: the CSV could not be read`)
  const h = new Set(table.header)
  const missing = ['CHECK_ID', 'STATUS'].filter((c) => !h.has(c))
  if (missing.length) throw new ScanFormatError(`${WHERE}: the CSV lacks the column(s) ${missing.join(', ')} (a ';'-separated Prowler CSV is expected)`)
  const c = new Collector()
  for (const row of table.rows) {
    if (str(row.STATUS)?.toUpperCase() === 'PASS') continue
    c.add(csvEntry(row))
  }
  return c.result(ctx)
}

// ---------------------------------------------------------------- OCSF JSON

/** DefectDojo's cloud type: aws/gcp/azure from cloud.provider, Kubernetes when a resource has a namespace. */
function cloudType(r: Record<string, unknown>, resources: Record<string, unknown>[]): string {
  const p = str(obj(r.cloud).provider)
  if (p === 'gcp' || p === 'aws' || p === 'azure') return p.toUpperCase()
  for (const res of resources) if (obj(obj(res.data).metadata).namespace != null) return 'KUBERNETES'
  return 'N/A'
}

function ocsfEntry(r: Record<string, unknown>, i: number): Entry {
  const info = obj(r.finding_info)
  const cloud = obj(r.cloud)
  const meta = obj(r.metadata)
  const unmapped = obj(r.unmapped)
  const remediation = obj(r.remediation)
  const resources = (Array.isArray(r.resources) ? r.resources : []).filter(isObject)
  const resource = resources[0] ?? {}
  const podMeta = obj(obj(resource.data).metadata)
  const type = cloudType(r, resources)
  const detail = str(r.status_detail)
  const title = str(r.message) ?? str(info.title) ?? detail
  if (!title) throw new ScanFormatError(`${WHERE}: OCSF finding ${i + 1} has no "message", title or status detail`)
  const textOr = (v: unknown) => (typeof v === 'string' ? v : 'N/A')
  const place = type === 'KUBERNETES'
    ? `${textOr(podMeta.name)}\u0000${textOr(podMeta.namespace)}`
    : type === 'N/A' ? '' : textOr(cloud.region)
  const key = [str(r.message) ?? '', type, textOr(info.desc), textOr(obj(meta.product).name), textOr(r.status_detail),
    textOr(info.created_time_dt), place].join('\u0000')
  const provider = str(cloud.provider) ?? (type === 'KUBERNETES' ? 'kubernetes' : undefined)
  const account = str(obj(cloud.account).uid) ?? str(obj(cloud.account).name)
  const namespace = str(resource.namespace) ?? str(podMeta.namespace)
  const region = str(resource.region) ?? str(cloud.region) ?? (namespace ? `namespace: ${namespace}` : undefined)
  const resourceId = str(resource.uid) ?? str(resource.name)
  const checkId = str(meta.event_code) ?? str(r.check_id) ?? str(info.check_id)
  const service = str(obj(resource.group).name)
  const details = labelled([
    ['Status detail', detail],
    ['Status', str(r.status_code)],
    ['Cloud', type === 'N/A' ? provider : type],
    ['Account', str(obj(cloud.account).name) ?? account],
    ['Region', region],
    ['Service', service],
    ['Resource type', str(resource.type)],
    ['Resource', resourceId],
    ['Pod', str(podMeta.name)],
    ['Check', checkId],
  ])
  const compliance = complianceLines(unmapped.compliance)
  const severity = str(r.severity) ? prowlerSeverity(r.severity) : ocsfSeverityId(r.severity_id) ?? 'info'
  const f: ParsedFinding = { assetKey: '', title, severity }
  const description = paragraphs(
    str(info.desc), details, str(r.risk_details) ? `Risk: ${str(r.risk_details)}` : undefined,
    compliance.length ? `Compliance:\n${compliance.join('\n')}` : undefined, str(unmapped.notes) ? `Notes: ${str(unmapped.notes)}` : undefined,
  )
  if (description) f.description = description
  const codeRefs = strings(remediation.references).filter((s) => !/^https?:\/\//i.test(s))
  const remedy = paragraphs(str(remediation.desc) ?? str(remediation.text), codeRefs.length ? codeRefs.join('\n') : undefined)
  if (remedy) f.remedy = remedy
  if (str(r.severity)) f.scannerSeverity = str(r.severity)
  if (checkId) f.ruleId = checkId
  const uid = str(info.uid)
  if (uid) f.uniqueId = uid
  if (str(r.status)?.toLowerCase() === 'suppressed' || unmapped.muted === true) {
    f.status = 'risk_accepted'
    f.statusReason = 'Muted in Prowler'
  }
  const references = urls(unmapped.related_url, unmapped.additional_urls, remediation.references)
  if (references.length) f.references = references
  const tags = [provider, service, ...strings(unmapped.categories)].filter((t): t is string => t !== undefined)
  if (tags.length) f.tags = [...new Set(tags)]
  const extra: Record<string, unknown> = {}
  if (str(r.status_code)) extra.status = str(r.status_code)
  if (str(info.title) && str(info.title) !== title) extra.checkTitle = str(info.title)
  if (str(resource.type)) extra.resourceType = str(resource.type)
  if (str(resource.name)) extra.resourceName = str(resource.name)
  const when = str(info.created_time_dt) ?? str(r.time_dt) ?? str(r.event_time)
  if (when) extra.assessedAt = when
  if (Object.keys(extra).length) f.extra = extra
  return { key, finding: f, asset: { provider: provider ?? 'unknown', account, region, resource: resourceId } }
}

function parseJson(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const records = jsonArray(doc, WHERE)
  const c = new Collector()
  for (const [i, r] of records.entries()) {
    if (!isObject(r)) throw new ScanFormatError(`${WHERE}: item ${i + 1} is not an object`)
    if (typeof r.status_code !== 'string') throw new ScanFormatError(`${WHERE}: item ${i + 1} is not a Prowler OCSF finding (no "status_code")`)
    if (r.status_code.toUpperCase() === 'PASS') continue
    c.add(ocsfEntry(r, i))
  }
  return c.result(ctx)
}

export const parser: ScannerParser = {
  id: 'prowler',
  label: 'Prowler (CSV / OCSF JSON; AWS, Azure, GCP, Kubernetes)',
  aliases: ['Prowler Scan'],
  formats: ['csv', 'json'],
  defaultAssetType: 'CLOUD',
  detect,
  parse(doc, ctx) {
    if (doc.kind === 'csv') return parseCsv(doc, ctx)
    if (doc.kind === 'json') return parseJson(doc, ctx)
    throw new ScanFormatError(`${WHERE}: expected a Prowler CSV or OCSF JSON array, got ${doc.kind.toUpperCase()}`)
  },
}
