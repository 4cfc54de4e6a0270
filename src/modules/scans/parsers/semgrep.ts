/**
 * Semgrep JSON (`semgrep --json`) and Semgrep Supply Chain API exports (`{"vulns": [...]}`), as DefectDojo's
 * "Semgrep JSON Report" reads them:
 * - `results`: title = check_id; severity CRITICAL → critical, ERROR/HIGH → high, WARNING/MEDIUM → medium,
 *   INFO/LOW → low; CWE from metadata.cwe (string or list); references from metadata.references; remedy from
 *   `fix` (else `fix_regex`, else the Semgrep Assistant's autofix/guidance); fingerprint → uniqueId except the
 *   "requires login" placeholder; results with the same check_id + path + start line are merged (occurrences).
 *   `is_ignored` results (nosemgrep, reported with --disable-nosem) are false positives.
 * - `vulns` (Supply Chain): title = the advisory title, severity from the advisory, CVE/CWE ids, the matched
 *   dependency as component, the closest safe version as fix; merged by title + file + line like DefectDojo;
 *   triage FIXED/CLOSED → mitigated, IGNORED → risk accepted (false positive when dismissed as such).
 * Assets: CODE (scannerSource = the report file name; Semgrep JSON does not name its root) for `results`;
 * REPOSITORY (repositoryName) for Supply Chain exports.
 * Semgrep severities DefectDojo does not know (INVENTORY, EXPERIMENT, …) become info with a warning instead of
 * failing the import.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser, ScanFindingStatus, Severity } from './types.js'
import { parseCwe, AssetCollector, isObject, ScanFormatError, str, strings, urls, vulnIds } from './util.js'
import { clip, codeAsset, jsonObjectRoot, lineNumber, objectList, optObject } from './sast-iac-common.js'

const WHERE = 'Semgrep report'
type Obj = Record<string, unknown>
const REQUIRES_LOGIN = 'requires login'
const GHSA_RE = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (Array.isArray(root.results)) {
    const first: unknown = root.results[0]
    if (isObject(first)) return typeof first.check_id === 'string' && isObject(first.extra) ? 1 : 0
    // An empty report: Semgrep always writes `errors` beside `results`; Bandit adds `metrics`/`generated_at`.
    if (!Array.isArray(root.errors) || 'metrics' in root || 'generated_at' in root) return 0
    return 'paths' in root || 'skipped_rules' in root || 'interfile_languages_used' in root ? 0.8 : 0.5
  }
  if (Array.isArray(root.vulns)) {
    const first: unknown = root.vulns[0]
    if (isObject(first)) return isObject(first.advisory) && isObject(first.dependencyFileLocation) ? 1 : 0
    return 'hasMore' in root || 'cursor' in root ? 0.5 : 0
  }
  return 0
}

function semgrepSeverity(value: string | undefined, ctx: ParseContext, where: string): Severity {
  switch (value?.toUpperCase()) {
    case 'CRITICAL': return 'critical'
    case 'ERROR': case 'HIGH': return 'high'
    case 'WARNING': case 'MEDIUM': return 'medium'
    case 'INFO': case 'LOW': return 'low'
    default:
      ctx.warn(`${where}: unknown severity "${value ?? ''}", imported as info`)
      return 'info'
  }
}

function fixRegexText(v: unknown): string | undefined {
  if (!isObject(v)) return undefined
  const regex = str(v.regex)
  if (!regex) return undefined
  const replacement = typeof v.replacement === 'string' ? v.replacement : ''
  return `You can apply this regex replacement: replace /${regex}/ with "${replacement}"${v.count !== undefined ? ` (count ${String(v.count)})` : ''}`
}

function assistantText(v: unknown): { remedy?: string; note?: string } {
  if (!isObject(v)) return {}
  const remedy: string[] = []
  const notes: string[] = []
  if (isObject(v.autofix)) {
    const explanation = str(v.autofix.explanation)
    const code = str(v.autofix.fix_code)
    if (explanation) remedy.push(`Assistant explanation: ${explanation}`)
    if (code) remedy.push(`Assistant suggested code:\n${code}`)
  }
  if (isObject(v.guidance)) {
    const summary = str(v.guidance.summary)
    const instructions = str(v.guidance.instructions)
    if (summary || instructions) remedy.push(['Assistant guidance:', summary, instructions].filter(Boolean).join('\n'))
  }
  if (isObject(v.component)) {
    const risk = str(v.component.risk)
    const tag = str(v.component.tag)
    if (risk || tag) notes.push(`Assistant thinks this file is ${risk ?? 'of unknown'} risk because it relates to ${tag ?? 'unknown'}`)
  }
  if (isObject(v.autotriage)) {
    const verdict = str(v.autotriage.verdict)
    const reason = str(v.autotriage.reason)
    if (verdict) notes.push(`Assistant thinks this is a ${verdict}.${reason ? ` ${reason}` : ''}`)
  }
  return {
    ...(remedy.length ? { remedy: remedy.join('\n\n') } : {}),
    ...(notes.length ? { note: notes.join('\n') } : {}),
  }
}

function parseResults(results: Obj[], doc: ScanDocument, ctx: ParseContext, assets: AssetCollector): ParsedFinding[] {
  let assetKey: string | undefined
  const byKey = new Map<string, ParsedFinding>()
  for (const [i, item] of results.entries()) {
    const where = `${WHERE}: result ${i + 1}`
    const checkId = str(item.check_id)
    if (!checkId) throw new ScanFormatError(`${where} has no "check_id"`)
    const path = str(item.path)
    if (!path) throw new ScanFormatError(`${where} has no "path"`)
    const extra = optObject(item, 'extra', where)
    if (!extra) throw new ScanFormatError(`${where} has no "extra" object`)
    const start = optObject(item, 'start', where)
    const end = optObject(item, 'end', where)
    const line = lineNumber(start?.line)
    const key = `${checkId}\u0000${path}\u0000${line ?? 'None'}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      continue
    }
    const meta = optObject(extra, 'metadata', where) ?? {}
    const severityText = str(extra.severity)
    const message = str(extra.message)
    let snippet = typeof extra.lines === 'string' ? extra.lines : undefined
    if (snippet === REQUIRES_LOGIN) snippet = undefined
    const assistant = assistantText(extra.assistant)
    const descriptionLines: string[] = []
    if (message) descriptionLines.push(`Result message: ${message}`)
    if (snippet && snippet.trim() !== '') descriptionLines.push('Snippet:', clip(snippet, 2000)!)
    if (assistant.note) descriptionLines.push(assistant.note)

    let remedy = str(extra.fix) ?? fixRegexText(extra.fix_regex)
    if (assistant.remedy) remedy = assistant.remedy
    let fingerprint = str(extra.fingerprint)
    if (fingerprint === REQUIRES_LOGIN) fingerprint = undefined

    const cwe = parseCwe(meta.cwe)
    const references = urls(meta.references, meta.source, meta.shortlink, meta['source-rule-url'])
    const tags = [...strings(meta.category), ...strings(meta.subcategory)]
    const endLine = lineNumber(end?.line)
    assetKey ??= codeAsset(assets, doc, 'semgrep')
    const f: ParsedFinding = {
      assetKey,
      title: checkId,
      severity: semgrepSeverity(severityText, ctx, where),
      ...(severityText ? { scannerSeverity: severityText } : {}),
      location: { path, ...(line !== undefined ? { line } : {}), ...(endLine !== undefined && line !== undefined && endLine > line ? { endLine } : {}) },
      ruleId: checkId,
      occurrences: 1,
    }
    if (descriptionLines.length) f.description = descriptionLines.join('\n')
    if (remedy) f.remedy = remedy
    if (cwe.length) f.cwe = cwe
    if (references.length) f.references = references
    if (fingerprint) f.uniqueId = fingerprint
    if (tags.length) f.tags = [...new Set(tags)]
    if (extra.is_ignored === true) {
      f.status = 'false_positive'
      f.statusReason = 'Ignored in source (nosemgrep)'
    }
    const x: Record<string, unknown> = {}
    for (const k of ['confidence', 'likelihood', 'impact'] as const) {
      const v = str(meta[k])
      if (v) x[k] = v
    }
    const engine = str(extra.engine_kind)
    if (engine) x.engine = engine
    if (Object.keys(x).length) f.extra = x
    byKey.set(key, f)
  }
  return [...byKey.values()]
}

function triageStatus(triage: unknown): Pick<ParsedFinding, 'status' | 'statusReason'> {
  if (!isObject(triage)) return {}
  const status = str(triage.status)?.toUpperCase()
  const reason = str(triage.dismissReason)
  let mapped: ScanFindingStatus | undefined
  if (status === 'FIXED' || status === 'CLOSED') mapped = 'mitigated'
  else if (status === 'IGNORED') mapped = reason?.toUpperCase().includes('FALSE_POSITIVE') ? 'false_positive' : 'risk_accepted'
  if (!mapped) return {}
  return { status: mapped, statusReason: `Semgrep triage: ${status!.toLowerCase()}${reason && reason !== 'UNKNOWN_REASON' ? ` (${reason})` : ''}` }
}

function parseVulns(vulns: Obj[], doc: ScanDocument, ctx: ParseContext, assets: AssetCollector): ParsedFinding[] {
  const byKey = new Map<string, ParsedFinding>()
  for (const [i, item] of vulns.entries()) {
    const where = `${WHERE}: vuln ${i + 1}`
    const advisory = optObject(item, 'advisory', where)
    if (!advisory) throw new ScanFormatError(`${where} has no "advisory" object`)
    const fileLoc = optObject(item, 'dependencyFileLocation', where)
    if (!fileLoc) throw new ScanFormatError(`${where} has no "dependencyFileLocation" object`)
    const title = str(item.title) ?? str(advisory.title)
    if (!title) throw new ScanFormatError(`${where} has no "title"`)
    const path = str(fileLoc.path) ?? ''
    const rawLine = str(fileLoc.startLine)
    const key = `${title}\u0000${path}\u0000${rawLine ?? 'None'}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      continue
    }
    const repo = str(item.repositoryName)
    const assetKey = repo ? assets.add('REPOSITORY', { repository: repo }) : codeAsset(assets, doc, 'semgrep')
    const refs = optObject(advisory, 'references', where) ?? {}
    const refUrls = urls(refs.urls)
    const ghsa = refUrls.map((u) => GHSA_RE.exec(u)?.[0]).filter((x): x is string => x !== undefined)
    const ids = vulnIds(refs.cveIds, ghsa)
    const severityText = str(advisory.severity)
    const dep = optObject(item, 'matchedDependency', where)
    const safe = optObject(item, 'closestSafeDependency', where)
    const depName = str(dep?.name)
    const line = lineNumber(fileLoc.startLine)
    const reach = str(advisory.reachability)
    const exposure = str(item.exposureType)
    const description = [
      clip(str(advisory.description), 4000),
      exposure ? `Exposure: ${exposure}` : undefined,
      reach ? `Reachability: ${reach}` : undefined,
      str(advisory.reachableIf) ? `Reachable if: ${str(advisory.reachableIf)!}` : undefined,
      str(item.transitivity) ? `Transitivity: ${str(item.transitivity)!}` : undefined,
    ].filter(Boolean).join('\n')
    const f: ParsedFinding = {
      assetKey,
      title,
      severity: semgrepSeverity(severityText, ctx, where),
      ...(severityText ? { scannerSeverity: severityText } : {}),
      occurrences: 1,
    }
    if (description) f.description = description
    if (ids.length) f.vulnerabilityIds = ids
    const cwe = parseCwe(refs.cweIds)
    if (cwe.length) f.cwe = cwe
    if (depName) {
      f.component = {
        name: depName,
        ...(str(dep?.versionSpecifier) ? { version: str(dep?.versionSpecifier)! } : {}),
        ...(str(advisory.ecosystem) ? { ecosystem: str(advisory.ecosystem)! } : {}),
      }
    }
    const fix = str(safe?.versionSpecifier)
    if (fix) {
      f.fixVersion = fix
      f.remedy = `Upgrade ${str(safe?.name) ?? depName ?? 'the dependency'} to ${fix}`
    }
    if (path || line !== undefined) f.location = { ...(path ? { path } : {}), ...(line !== undefined ? { line } : {}) }
    const ruleId = str(advisory.ruleId)
    if (ruleId) f.ruleId = ruleId
    if (refUrls.length) f.references = refUrls
    Object.assign(f, triageStatus(item.triage))
    const groupKey = str(item.groupKey)
    const x: Record<string, unknown> = {}
    if (groupKey) x.groupKey = groupKey
    if (exposure) x.exposure = exposure
    if (Object.keys(x).length) f.extra = x
    byKey.set(key, f)
  }
  return [...byKey.values()]
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = jsonObjectRoot(doc, WHERE)
  const assets = new AssetCollector()
  let findings: ParsedFinding[]
  if ('results' in root) findings = parseResults(objectList(root, 'results', WHERE), doc, ctx, assets)
  else if ('vulns' in root) findings = parseVulns(objectList(root, 'vulns', WHERE), doc, ctx, assets)
  else throw new ScanFormatError(`${WHERE}: neither a "results" nor a "vulns" list found`)
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'semgrep',
  label: 'Semgrep JSON',
  aliases: ['Semgrep JSON Report'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
