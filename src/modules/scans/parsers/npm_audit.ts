/**
 * npm audit up to npm 6 (`npm audit --json`): `{ actions, advisories: { id: advisory }, muted, metadata, runId }`.
 * DefectDojo's "NPM Audit Scan": one finding per advisory (keyed by id + module), title
 * "{title} - ({module}, {vulnerable_versions})". npm 7+ reports (auditReportVersion) and error reports are refused.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, fileHint, isObject, ScanFormatError, str } from './util.js'
import { npmAdvisoryFields } from './js-secrets-common.js'

const WHERE = 'npm audit report'

/** Shared by detect(): how an npm-v6-envelope root scores for npm itself (0 when it is not that envelope). */
function score(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if ('auditReportVersion' in root || 'audit' in root) return 0
  if (isObject(root.error) && 'code' in root.error && 'summary' in root.error && !('advisories' in root)) return 0.8
  if (!isObject(root.advisories)) return 0
  if ('runId' in root) return 1
  if (Array.isArray(root.actions) && Array.isArray(root.muted)) {
    // audit-ci's yarn report has the same envelope without runId and with no actions; see yarn_audit.
    const hint = fileHint(doc)
    return hint.includes('yarn') ? 0.5 : hint.includes('pnpm') ? 0.4 : 0.7
  }
  return 0.3
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object with "advisories"`)
  if (root.auditReportVersion !== undefined && root.auditReportVersion !== null && root.auditReportVersion !== 0) {
    throw new ScanFormatError(`${WHERE}: this is an npm 7+ report (auditReportVersion ${String(root.auditReportVersion)}); import it as npm_audit_7_plus`)
  }
  if (root.error) {
    const e = isObject(root.error) ? root.error : {}
    throw new ScanFormatError(`${WHERE} contains errors: ${str(e.code) ?? 'unknown code'}, ${str(e.summary) ?? str(root.error) ?? 'no summary'}`)
  }
  if (!isObject(root.advisories)) throw new ScanFormatError(`${WHERE}: "advisories" must be an object of advisories by id`)

  const assets = new AssetCollector()
  const assetKey = assets.add('BUILD', { buildFile: doc.filename || 'package-lock.json' })
  const byKey = new Map<string, ParsedFinding>()
  for (const [id, adv] of Object.entries(root.advisories)) {
    const { module, ...fields } = npmAdvisoryFields(adv, WHERE, ctx)
    const a = adv as Record<string, unknown>
    const title = `${str(a.title) ?? `Advisory ${id}`} - (${module}, ${str(a.vulnerable_versions) ?? '*'})`
    const key = `${str(a.id) ?? id}${module}`
    const prev = byKey.get(key)
    // DefectDojo keeps the last advisory of a key (in the first one's position).
    byKey.set(key, { ...fields, assetKey, title, occurrences: (prev?.occurrences ?? 0) + 1 })
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'npm_audit',
  label: 'npm audit (npm 6 and earlier)',
  aliases: ['NPM Audit Scan', 'npm_audit_v6'],
  formats: ['json'],
  defaultAssetType: 'BUILD',
  detect: score,
  parse,
}
