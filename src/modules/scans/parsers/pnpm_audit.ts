/**
 * pnpm audit (`pnpm audit --json`): npm 6's `{ advisories, metadata }` envelope without npm's `actions`, `muted` and
 * `runId`, dependency paths rooted at the importer (".>axios"). DefectDojo's "pnpm Audit Scan": one finding per
 * (module, installed version, advisory) — an advisory matching two installed versions is two findings — titled
 * "{module}: {title}"; unknown severities are Medium.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, asArray, cvssVersion, isObject, num, parseCwe, ScanFormatError, str, vulnIds } from './util.js'
import { npmPurl } from './js-secrets-common.js'

const WHERE = 'pnpm audit report'
const SEVERITY: Record<string, Severity> = { critical: 'critical', high: 'high', moderate: 'medium', low: 'low', info: 'info' }

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!isObject(root.advisories)) return 0
  if ('actions' in root || 'muted' in root || 'runId' in root || 'auditReportVersion' in root) return 0
  // pnpm paths start at the importer: "." for the root project, "packages__app" style ids in workspaces, then ">".
  for (const adv of Object.values(root.advisories).slice(0, 3)) {
    if (!isObject(adv)) return 0.3
    const path = str(asArray(isObject(asArray(adv.findings)[0]) ? (asArray(adv.findings)[0] as Record<string, unknown>).paths : undefined)[0])
    if (path?.startsWith('.>') || path === '.') return 1
  }
  return isObject(root.metadata) ? 0.9 : 0.5
}

function parse(doc: ScanDocument): ParseResult {
  const root = doc.json
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object with "advisories"`)
  const advisories = root.advisories ?? {}
  if (!isObject(advisories)) throw new ScanFormatError(`${WHERE}: "advisories" must be an object of advisories by id`)

  const assets = new AssetCollector()
  const assetKey = assets.add('BUILD', { buildFile: doc.filename || 'pnpm-lock.yaml' })
  const byKey = new Map<string, ParsedFinding>()
  for (const [key, adv] of Object.entries(advisories)) {
    if (!isObject(adv)) continue // DefectDojo skips non-object entries
    if (adv.findings !== undefined && adv.findings !== null && !Array.isArray(adv.findings)) {
      throw new ScanFormatError(`${WHERE}: advisory ${key} "findings" must be an array`)
    }
    const module = str(adv.module_name) ?? ''
    const ghsa = str(adv.github_advisory_id)
    const identifier = ghsa ?? str(adv.id) ?? ''
    const entries = asArray(adv.findings).filter(isObject)
    const versions: string[] = []
    for (const e of entries) {
      const v = str(e.version)
      if (v && !versions.includes(v)) versions.push(v)
    }
    const paths: string[] = []
    for (const e of entries) for (const p of asArray(e.paths)) if (typeof p === 'string' && !paths.includes(p)) paths.push(p)
    const advTitle = str(adv.title) ?? 'Unnamed advisory'
    const severityWord = str(adv.severity)
    const severity = SEVERITY[severityWord?.toLowerCase() ?? ''] ?? 'medium'
    const patched = str(adv.patched_versions)
    const vulnerable = str(adv.vulnerable_versions)
    const cwe = parseCwe(adv.cwe)
    const url = str(adv.url)
    const cvssNode = isObject(adv.cvss) ? adv.cvss : undefined
    const vector = str(cvssNode?.vectorString)
    const score = num(cvssNode?.score)
    const ids = vulnIds(adv.cves, ghsa)
    const fix = patched && /^>=\s*[\d]/.test(patched) && !/[\s|<]/.test(patched.replace(/^>=\s*/, '')) ? patched.replace(/^>=\s*/, '') : undefined
    for (const version of versions.length ? versions : ['']) {
      const k = `${module}\u0000${version}\u0000${identifier}`
      const prev = byKey.get(k)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        continue
      }
      const lines = [advTitle]
      if (module) lines.push(`Module: ${module}`)
      if (version) lines.push(`Installed version: ${version}`)
      if (vulnerable) lines.push(`Vulnerable versions: ${vulnerable}`)
      if (patched) lines.push(`Patched versions: ${patched}`)
      const versionPaths = version ? entries.filter((e) => str(e.version) === version).flatMap((e) => asArray(e.paths).map(String)) : paths
      if (versionPaths.length) lines.push(`Dependency paths: ${versionPaths.slice(0, 25).join(', ')}${versionPaths.length > 25 ? ', …' : ''}`)
      byKey.set(k, {
        assetKey,
        title: module ? `${module}: ${advTitle}` : advTitle,
        description: lines.join('\n'),
        remedy: patched ? `Upgrade ${module} to ${patched}.` : `Upgrade ${module} to a version that is not affected.`,
        ...(fix ? { fixVersion: fix } : {}),
        severity,
        ...(severityWord ? { scannerSeverity: severityWord } : {}),
        ...(ids.length ? { vulnerabilityIds: ids } : {}),
        ...(cwe.length ? { cwe } : {}),
        ...(vector || score !== undefined ? { cvss: { ...(vector ? { vector } : {}), ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) } } : {}),
        ...(module ? { component: { name: module, ...(version ? { version } : {}), purl: npmPurl(module, version || undefined)!, ecosystem: 'npm' } } : {}),
        ...(versionPaths[0] ? { location: { path: versionPaths[0] } } : {}),
        ...(identifier ? { ruleId: identifier } : {}),
        ...(url ? { references: [url] } : {}),
      })
    }
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'pnpm_audit',
  label: 'pnpm audit',
  aliases: ['pnpm Audit Scan'],
  formats: ['json'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
