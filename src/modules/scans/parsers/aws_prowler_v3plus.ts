/**
 * Prowler v3 native JSON and Prowler v4 OCSF JSON (DefectDojo's "AWS Prowler V3"):
 * - v3 (`-M json`): a JSON array of {FindingUniqueId, Provider, CheckID, CheckTitle, Status, StatusExtended,
 *   Severity, AccountId, Region, ResourceId, ResourceArn, Remediation {Recommendation, Code}, Compliance, …}.
 * - v4 (`-M json-ocsf`, Prowler 4.x): a JSON array of OCSF Detection Findings {status_code, status, status_detail,
 *   severity, finding_info {uid, desc, title}, metadata {event_code}, cloud {provider, account, region},
 *   resources [{uid, name, region, type, group}], remediation, risk_details, unmapped {compliance, related_url}}.
 * Only FAIL results are findings; v4 results muted in Prowler (status "Suppressed") are skipped as DefectDojo does.
 * Title: the status detail shortened to 150 characters; findings with the same Prowler finding id are merged.
 * CWE-1032 on all. Asset: CLOUD provider + account + region + resource (ARN, else resource id).
 */
import type { AssetAttributes, ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, firstRecord, isObject, ScanFormatError, shorten, str, strings, urls } from './util.js'
import { complianceLines, isProwlerOcsf, jsonArray, labelled, obj, ocsfHasMessage, ocsfSeverityId, paragraphs, prowlerSeverity, PROWLER_CWE } from './cloud-common.js'

const WHERE = 'Prowler v3/v4 report'

function isV3(r: Record<string, unknown> | undefined): boolean {
  return !!r && typeof r.Status === 'string' && ('FindingUniqueId' in r || ('CheckID' in r && 'StatusExtended' in r))
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !Array.isArray(doc.json)) return 0
  const first = firstRecord(doc)
  if (isV3(first)) return 1
  // Prowler 4.x OCSF has no top-level `message`; Prowler 5's does (and goes to the multi-cloud `prowler` parser).
  if (isProwlerOcsf(first)) return ocsfHasMessage(first) ? 0.6 : 0.9
  return 0
}

interface Entry {
  key: string
  /** assetKey is filled in by parse() for the findings it keeps. */
  finding: ParsedFinding
  asset: AssetAttributes
}

function codeLines(code: Record<string, unknown>): string[] {
  const out: string[] = []
  for (const [label, k] of [['CLI', 'CLI'], ['Terraform', 'Terraform'], ['Native IaC', 'NativeIaC'], ['Other', 'Other']] as const) {
    const v = str(code[k])
    if (v) out.push(`${label}: ${v}`)
  }
  return out
}

function v3Entry(r: Record<string, unknown>, i: number, ctx: ParseContext): Entry {
  const detail = str(r.StatusExtended)
  if (!detail) throw new ScanFormatError(`${WHERE}: result ${i + 1} has no "StatusExtended" text`)
  const provider = str(r.Provider) ?? 'aws'
  const account = str(r.AccountId)
  const region = str(r.Region)
  const resourceId = str(r.ResourceId)
  const arn = str(r.ResourceArn)
  const checkId = str(r.CheckID)
  let uid = str(r.FindingUniqueId)
  if (!uid) {
    if (!ctx.fixData) throw new ScanFormatError(`${WHERE}: result ${i + 1} has no "FindingUniqueId"`)
    uid = `prowler-${provider}-${checkId ?? 'unknown'}-${account ?? ''}-${region ?? ''}-${resourceId ?? ''}`
    ctx.repair(`Prowler v3 result ${i + 1}: missing FindingUniqueId derived as "${uid}"`)
  }
  const remediation = obj(r.Remediation)
  const recommendation = obj(remediation.Recommendation)
  const code = codeLines(obj(remediation.Code))
  const checkTypes = strings(r.CheckType)
  const details = labelled([
    ['Issue', detail],
    ['Check', str(r.CheckTitle)],
    ['Account', account],
    ['Region', region],
    ['Service', str(r.ServiceName)],
    ['Resource type', str(r.ResourceType)],
    ['Resource', arn ?? resourceId],
    ['Check type', checkTypes.length ? checkTypes.join(' / ') : undefined],
  ])
  const compliance = complianceLines(r.Compliance)
  const f: ParsedFinding = {
    assetKey: '',
    title: shorten(detail),
    severity: prowlerSeverity(r.Severity),
    cwe: [PROWLER_CWE],
    uniqueId: uid,
  }
  const description = paragraphs(
    details, str(r.Description), str(r.Risk) ? `Risk: ${str(r.Risk)}` : undefined,
    compliance.length ? `Compliance:\n${compliance.join('\n')}` : undefined, str(r.Notes) ? `Notes: ${str(r.Notes)}` : undefined,
  )
  if (description) f.description = description
  const remedy = paragraphs(str(recommendation.Text), code.length ? code.join('\n') : undefined)
  if (remedy) f.remedy = remedy
  if (str(r.Severity)) f.scannerSeverity = str(r.Severity)
  if (checkId) f.ruleId = checkId
  const references = urls(recommendation.Url, r.RelatedUrl)
  if (references.length) f.references = references
  const tags = [str(r.ServiceName), ...strings(r.Categories)].filter((t): t is string => t !== undefined)
  if (tags.length) f.tags = [...new Set(tags)]
  const extra: Record<string, unknown> = {}
  if (str(r.CheckTitle)) extra.checkTitle = str(r.CheckTitle)
  if (str(r.ResourceType)) extra.resourceType = str(r.ResourceType)
  if (resourceId) extra.resourceId = resourceId
  if (str(r.AssessmentStartTime)) extra.assessedAt = str(r.AssessmentStartTime)
  if (Object.keys(extra).length) f.extra = extra
  return { key: uid, finding: f, asset: { provider, account: account ?? 'unknown', region, resource: arn ?? resourceId } }
}

/** One Prowler OCSF Detection Finding as DefectDojo's v4 parser reads it. */
function v4Entry(r: Record<string, unknown>, i: number, ctx: ParseContext): Entry {
  const info = obj(r.finding_info)
  const cloud = obj(r.cloud)
  const resource = obj(Array.isArray(r.resources) ? r.resources[0] : undefined)
  const unmapped = obj(r.unmapped)
  const remediation = obj(r.remediation)
  const detail = str(r.status_detail) ?? str(r.message) ?? str(info.title)
  if (!detail) throw new ScanFormatError(`${WHERE}: OCSF finding ${i + 1} has no "status_detail"`)
  const provider = str(cloud.provider) ?? 'aws'
  const account = str(obj(cloud.account).uid) ?? str(obj(cloud.account).name)
  const region = str(resource.region) ?? str(cloud.region)
  const resourceUid = str(resource.uid)
  const resourceName = str(resource.name)
  const checkId = str(obj(r.metadata).event_code)
  let uid = str(info.uid)
  let key = uid ?? ''
  if (!uid) {
    if (ctx.fixData) {
      uid = `prowler-${provider}-${checkId ?? 'unknown'}-${account ?? ''}-${region ?? ''}-${resourceName ?? ''}`
      key = uid
      ctx.repair(`Prowler OCSF finding ${i + 1}: missing finding_info.uid derived as "${uid}"`)
    } else {
      ctx.warn(`Prowler OCSF finding ${i + 1} has no finding_info.uid; merged with the other findings without one, as DefectDojo does`)
    }
  }
  const service = str(obj(resource.group).name)
  const details = labelled([
    ['Issue', detail],
    ['Check', str(info.title)],
    ['Account', account],
    ['Region', region],
    ['Service', service],
    ['Resource type', str(resource.type)],
    ['Resource', resourceUid ?? resourceName],
    ['Check type', strings(unmapped.check_type).join(' / ') || undefined],
  ])
  const compliance = complianceLines(unmapped.compliance)
  const f: ParsedFinding = {
    assetKey: '',
    title: shorten(detail),
    severity: str(r.severity) ? prowlerSeverity(r.severity) : ocsfSeverityId(r.severity_id) ?? 'info',
    cwe: [PROWLER_CWE],
  }
  if (uid) f.uniqueId = uid
  const description = paragraphs(
    details, str(info.desc), str(r.risk_details) ? `Risk: ${str(r.risk_details)}` : undefined,
    compliance.length ? `Compliance:\n${compliance.join('\n')}` : undefined, str(unmapped.notes) ? `Notes: ${str(unmapped.notes)}` : undefined,
  )
  if (description) f.description = description
  const codeRefs = strings(remediation.references).filter((s) => !/^https?:\/\//i.test(s))
  const remedy = paragraphs(str(remediation.desc), codeRefs.length ? codeRefs.join('\n') : undefined)
  if (remedy) f.remedy = remedy
  if (str(r.severity)) f.scannerSeverity = str(r.severity)
  if (checkId) f.ruleId = checkId
  const references = urls(remediation.references, unmapped.related_url, unmapped.additional_urls)
  if (references.length) f.references = references
  const tags = [service, ...strings(unmapped.categories)].filter((t): t is string => t !== undefined)
  if (tags.length) f.tags = [...new Set(tags)]
  const extra: Record<string, unknown> = {}
  if (str(info.title)) extra.checkTitle = str(info.title)
  if (str(resource.type)) extra.resourceType = str(resource.type)
  if (resourceName) extra.resourceName = resourceName
  const when = str(r.event_time) ?? str(r.time_dt) ?? str(info.created_time_dt) ?? str(info.created_time)
  if (when) extra.assessedAt = when
  if (Object.keys(extra).length) f.extra = extra
  return { key, finding: f, asset: { provider, account: account ?? 'unknown', region, resource: resourceUid ?? resourceName } }
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  if (doc.kind !== 'json') throw new ScanFormatError(`${WHERE}: expected a JSON array, got ${doc.kind.toUpperCase()}`)
  const records = jsonArray(doc, WHERE)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let muted = 0
  for (const [i, r] of records.entries()) {
    if (!isObject(r)) throw new ScanFormatError(`${WHERE}: item ${i + 1} is not an object`)
    let entry: Entry
    if (typeof r.Status === 'string') {
      if (r.Status.toUpperCase() !== 'FAIL') continue
      entry = v3Entry(r, i, ctx)
    } else if (typeof r.status_code === 'string') {
      if (r.status_code.toUpperCase() !== 'FAIL') continue
      if (str(r.status)?.toLowerCase() === 'suppressed' || obj(r.unmapped).muted === true) {
        muted++
        continue
      }
      entry = v4Entry(r, i, ctx)
    } else {
      throw new ScanFormatError(`${WHERE}: item ${i + 1} is neither a Prowler v3 result ("Status") nor an OCSF finding ("status_code")`)
    }
    const prev = byKey.get(entry.key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      continue
    }
    entry.finding.assetKey = assets.add('CLOUD', entry.asset)
    byKey.set(entry.key, entry.finding)
  }
  if (muted) ctx.warn(`${WHERE}: ${muted} failed checks muted in Prowler (status Suppressed) were skipped`)
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'aws_prowler_v3plus',
  label: 'AWS Prowler v3 JSON / v4 OCSF JSON',
  aliases: ['AWS Prowler V3', 'prowler_v3', 'prowler_v4'],
  formats: ['json'],
  defaultAssetType: 'CLOUD',
  detect,
  parse,
}
