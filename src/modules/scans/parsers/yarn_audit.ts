/**
 * yarn audit, three layouts (DefectDojo's "Yarn Audit Scan"):
 * - yarn 1 `yarn audit --json`: JSON lines `{type, data}`; each `auditAdvisory` is a finding, merged by advisory id +
 *   module (the same advisory is repeated once per dependency path); an `error` line means the audit failed.
 * - yarn 2+ `yarn npm audit --json`: JSON lines `{value: package, children: {ID, Issue, Severity, …}}`, one finding
 *   per line.
 * - audit-ci's JSON summary for yarn: `{actions: [], advisories, muted, metadata}` (npm 6's envelope without
 *   `runId`), one finding per advisory titled "{CVE}_{module}".
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { parseCwe, asArray, AssetCollector, fileHint, firstRecord, isObject, ScanFormatError, str, vulnIds } from './util.js'
import { jsonRecords, npmAdvisoryFields, npmPurl, npmSeverity } from './js-secrets-common.js'

const WHERE = 'yarn audit report'
const YARN1_TYPES = new Set(['auditAdvisory', 'auditSummary', 'auditAction'])
const YARN1_LOG_TYPES = new Set(['info', 'warning', 'error', 'log', 'step', 'activityStart', 'activityTick', 'activityEnd'])
const GHSA_IN_URL = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i

type Layout = 'yarn1' | 'yarn2' | 'auditci'

function isYarn1Line(r: unknown): r is { type: string; data: unknown } {
  return isObject(r) && typeof r.type === 'string' && 'data' in r
}

function isYarn2Line(r: unknown): boolean {
  return isObject(r) && typeof r.value === 'string' && isObject(r.children) && ('ID' in r.children || 'Severity' in r.children)
}

function layoutOf(doc: ScanDocument): { layout: Layout; score: number } | undefined {
  if (doc.kind !== 'json' && doc.kind !== 'jsonl') return undefined
  const root = doc.json
  if (doc.kind === 'json' && isObject(root) && isObject(root.advisories)) {
    if ('runId' in root || 'auditReportVersion' in root) return undefined
    if (!Array.isArray(root.actions) || !Array.isArray(root.muted)) return undefined
    const yarnNamed = fileHint(doc).includes('yarn')
    const empty = Object.keys(root.advisories).length === 0
    if (root.actions.length > 0) return { layout: 'auditci', score: yarnNamed ? 0.6 : 0.3 }
    if (empty) return { layout: 'auditci', score: yarnNamed ? 0.75 : 0.2 }
    return { layout: 'auditci', score: 0.75 }
  }
  const records = doc.kind === 'jsonl' ? (root as unknown[]) : isObject(root) ? [root] : []
  const head = records.slice(0, 8)
  if (head.length === 0) return undefined
  if (head.every(isYarn1Line)) {
    if (head.some((r) => YARN1_TYPES.has(r.type))) return { layout: 'yarn1', score: 1 }
    if (head.every((r) => YARN1_LOG_TYPES.has(r.type))) return { layout: 'yarn1', score: 0.7 }
    return undefined
  }
  if (isYarn2Line(head[0])) return { layout: 'yarn2', score: 0.95 }
  return undefined
}

function detect(doc: ScanDocument): number {
  return layoutOf(doc)?.score ?? 0
}

function parseYarn1(records: unknown[], assetKey: string, ctx: ParseContext): ParsedFinding[] {
  const byKey = new Map<string, ParsedFinding>()
  for (const [i, rec] of records.entries()) {
    if (!isYarn1Line(rec)) throw new ScanFormatError(`${WHERE}: line ${i + 1} is not a {"type", "data"} record`)
    if (rec.type === 'error') {
      throw new ScanFormatError(`${WHERE} contains errors: ${str(rec.data) ?? JSON.stringify(rec.data).slice(0, 300)}`)
    }
    if (rec.type !== 'auditAdvisory') continue
    const adv = isObject(rec.data) ? rec.data.advisory : undefined
    if (!isObject(adv)) throw new ScanFormatError(`${WHERE}: line ${i + 1}: auditAdvisory without "data.advisory"`)
    const { module, ...fields } = npmAdvisoryFields(adv, `${WHERE}, line ${i + 1}`, ctx)
    const title = `${str(adv.title) ?? `Advisory ${str(adv.id) ?? '?'}`} - (${module}, ${str(adv.vulnerable_versions) ?? '*'})`
    const key = `${str(adv.id) ?? ''}${module}`
    const prev = byKey.get(key)
    const resolution = isObject(rec.data) && isObject(rec.data.resolution) ? rec.data.resolution : undefined
    const paths = new Set<string>(asArray(prev?.extra?.paths as string[] | undefined))
    const p = str(resolution?.path)
    if (p && paths.size < 50) paths.add(p)
    byKey.set(key, {
      ...fields,
      assetKey,
      title,
      occurrences: (prev?.occurrences ?? 0) + 1,
      ...(paths.size ? { extra: { paths: [...paths] } } : {}),
    })
  }
  return [...byKey.values()]
}

function parseYarn2(records: unknown[], assetKey: string): ParsedFinding[] {
  const out: ParsedFinding[] = []
  for (const [i, rec] of records.entries()) {
    if (!isObject(rec) || typeof rec.value !== 'string' || !isObject(rec.children)) {
      throw new ScanFormatError(`${WHERE}: line ${i + 1} is not a yarn 2 {"value", "children"} record`)
    }
    const c = rec.children
    const name = rec.value
    const id = str(c.ID)
    const issue = str(c.Issue)
    const url = str(c.URL)
    const versions = [...new Set(asArray(c['Tree Versions']).map((v) => str(v)).filter((v): v is string => v !== undefined))]
    const dependents = [...new Set(asArray(c.Dependents).map((v) => str(v)).filter((v): v is string => v !== undefined))]
    // DefectDojo titles by the ID: a readable one for deprecations ("pkg (deprecation)"), a bare number otherwise.
    const title = id && !/^\d+$/.test(id) ? id : `${issue ?? `Advisory ${id ?? '?'}`} (${name})`
    const ghsa = url ? GHSA_IN_URL.exec(url)?.[0] : undefined
    const ids = vulnIds(ghsa)
    const lines = [issue, `Vulnerable versions: ${str(c['Vulnerable Versions']) ?? 'unknown'}`]
    if (versions.length) lines.push(`Installed versions: ${versions.join(', ')}`)
    if (dependents.length) lines.push(`Dependents: ${dependents.slice(0, 25).join(', ')}${dependents.length > 25 ? ', …' : ''}`)
    out.push({
      assetKey,
      title,
      description: lines.filter((l): l is string => l !== undefined).join('\n'),
      severity: npmSeverity(c.Severity),
      ...(str(c.Severity) ? { scannerSeverity: str(c.Severity)! } : {}),
      ...(ids.length ? { vulnerabilityIds: ids } : {}),
      component: {
        name,
        ...(versions.length ? { version: versions.join(', ') } : {}),
        ...(versions.length === 1 ? { purl: npmPurl(name, versions[0])! } : { purl: npmPurl(name, undefined)! }),
        ecosystem: 'npm',
      },
      ...(id ? { ruleId: id } : {}),
      ...(url ? { references: [url] } : {}),
      ...(id?.endsWith('(deprecation)') ? { tags: ['deprecation'] } : {}),
    })
  }
  return out
}

function parseAuditCi(root: Record<string, unknown>, assetKey: string, ctx: ParseContext): ParsedFinding[] {
  if (!isObject(root.advisories)) throw new ScanFormatError(`${WHERE}: "advisories" must be an object`)
  const out: ParsedFinding[] = []
  for (const [id, adv] of Object.entries(root.advisories)) {
    const { module, cwe: _npmCwe, ...fields } = npmAdvisoryFields(adv, WHERE, ctx)
    const a = adv as Record<string, unknown>
    const cves = asArray(a.cves).map((c) => str(c)).filter((c): c is string => c !== undefined)
    const primary = cves[0] ?? str(a.github_advisory_id) ?? str(a.title) ?? `Advisory ${id}`
    // audit-ci's summary has no DefectDojo CWE fallback: only the advisory's own CWEs.
    const cwe = parseCwe(a.cwe)
    out.push({ ...fields, assetKey, title: `${primary}_${module}`, ...(cwe.length ? { cwe } : {}) })
  }
  return out
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const found = layoutOf(doc)
  if (!found) {
    const first = firstRecord(doc)
    if (isObject(first) && isObject(first.advisories) && 'runId' in first) {
      throw new ScanFormatError(`${WHERE}: this is an npm audit report (it has "runId"); import it as npm_audit`)
    }
    throw new ScanFormatError(`${WHERE}: expected yarn audit JSON lines ({"type","data"} or {"value","children"}) or an audit-ci JSON summary with "advisories"`)
  }
  const assets = new AssetCollector()
  const assetKey = assets.add('BUILD', { buildFile: doc.filename || 'yarn.lock' })
  const findings = found.layout === 'auditci'
    ? parseAuditCi(doc.json as Record<string, unknown>, assetKey, ctx)
    : found.layout === 'yarn1'
      ? parseYarn1(jsonRecords(doc), assetKey, ctx)
      : parseYarn2(jsonRecords(doc), assetKey)
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'yarn_audit',
  label: 'yarn audit',
  aliases: ['Yarn Audit Scan', 'yarn_npm_audit'],
  formats: ['json', 'jsonl'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
