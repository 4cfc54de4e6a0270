/**
 * Anchore Engine vulnerability JSON (`anchore-cli --json image vuln <img> all`), DefectDojo's "Anchore Engine Scan":
 * - legacy: `{ imageDigest | image_digest, vulnerability_type, vulnerabilities: [{ vuln, package, package_name,
 *   package_version, package_type, package_path, feed, feed_group, fix, url, severity, nvd_data, vendor_data }] }`;
 *   title "{vuln} - {package}({package_type})", merged on digest|feed|feed_group|name|version|path|vuln.
 * - Enterprise 5 / anchorectl: `{ metadata: { registry, repository, tag, imageDigest }, securityEvaluation: [{
 *   vulnerabilityId, cves, severity, package, packageType, path, fixAvailable, link, nvdCvssBaseScore }] }`;
 *   title "{vulnerabilityId}-{package}({packageType})", merged on cves|package|packageType|path|severity.
 * Severity as Anchore writes it (Negligible / Unknown → info). The asset is the image (CONTAINER).
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, isObject, jsonKeys, ScanFormatError, str } from './util.js'
import { legacyVulnFinding, metadataImage, securityEvaluationFinding, SNAKE_KEYS } from './anchore-common.js'

const WHERE = 'Anchore Engine report'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  const keys = jsonKeys(doc)
  if (keys.has('securityEvaluation') && isObject(root.metadata)) return 0.9
  if (!Array.isArray(root.vulnerabilities)) return 0
  const first: unknown = root.vulnerabilities[0]
  if (isObject(first) && ('feed_group' in first || 'package_name' in first)) return 1
  if (keys.has('vulnerability_type')) return first === undefined ? 1 : 0.8
  if (first === undefined && (keys.has('imageDigest') || keys.has('image_digest'))) return 0.8
  return 0
}

function parseLegacy(root: Record<string, unknown>, doc: ScanDocument): ParseResult {
  if (!Array.isArray(root.vulnerabilities)) throw new ScanFormatError(`${WHERE}: "vulnerabilities" must be an array`)
  const digest = str(root.imageDigest) ?? str(root.image_digest)
  const image = str(root.imageFullTag) ?? digest ?? doc.filename
  const assets = new AssetCollector()
  const assetKey = assets.add('CONTAINER', { image })
  const byKey = new Map<string, ParsedFinding>()
  root.vulnerabilities.forEach((item, i) => {
    const { vuln, pkg, pkgType, ...fields } = legacyVulnFinding(item, i, SNAKE_KEYS, WHERE, digest)
    const it = item as Record<string, unknown>
    const key = [str(it.image_digest) ?? str(it.imageDigest) ?? 'None', str(it.feed), str(it.feed_group), str(it.package_name),
      str(it.package_version), str(it.package_path), vuln].join('|')
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      return
    }
    byKey.set(key, { assetKey, title: `${vuln} - ${pkg}(${pkgType})`, ...fields })
  })
  return { assets: assets.list(), findings: [...byKey.values()] }
}

function parseSecurityEvaluation(root: Record<string, unknown>, doc: ScanDocument, ctx: ParseContext): ParseResult {
  const meta = isObject(root.metadata) ? root.metadata : {}
  if (!Array.isArray(root.securityEvaluation)) throw new ScanFormatError(`${WHERE}: "securityEvaluation" must be an array`)
  const assets = new AssetCollector()
  const assetKey = assets.add('CONTAINER', { image: metadataImage(meta) ?? doc.filename })
  const digest = str(meta.imageDigest)
  const byKey = new Map<string, ParsedFinding>()
  root.securityEvaluation.forEach((item, i) => {
    const { vuln, pkg, pkgType, path, ...fields } = securityEvaluationFinding(item, i, WHERE, ctx)
    const it = item as Record<string, unknown>
    const key = [str(it.cves) ?? 'None', pkg, str(it.packageType) ?? 'None', path ?? 'None', str(it.severity) ?? 'None'].join('|')
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      return
    }
    const description = digest ? `${fields.description ?? ''}\nImage digest: ${digest}` : fields.description
    byKey.set(key, { assetKey, title: `${vuln}-${pkg}(${pkgType})`, ...fields, ...(description ? { description } : {}) })
  })
  return { assets: assets.list(), findings: [...byKey.values()] }
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object with "vulnerabilities" or "securityEvaluation"`)
  if (root.metadata !== undefined && root.metadata !== null) {
    if (!isObject(root.metadata)) throw new ScanFormatError(`${WHERE}: "metadata" must be an object`)
    return parseSecurityEvaluation(root, doc, ctx)
  }
  if (root.securityEvaluation !== undefined) return parseSecurityEvaluation(root, doc, ctx)
  if (root.vulnerabilities === undefined) throw new ScanFormatError(`${WHERE}: no "vulnerabilities" array (nor "metadata" with "securityEvaluation")`)
  return parseLegacy(root, doc)
}

export const parser: ScannerParser = {
  id: 'anchore_engine',
  label: 'Anchore Engine vulnerability report',
  aliases: ['Anchore Engine Scan'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
