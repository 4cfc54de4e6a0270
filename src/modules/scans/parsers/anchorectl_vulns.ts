/**
 * anchorectl vulnerability JSON, DefectDojo's "AnchoreCTL Vuln Report":
 * - a list of `{ vuln, package, packageName, packageVersion, packageType, packagePath, feed, feedGroup, fix, url,
 *   severity, nvdData, vendorData }` (anchorectl image vulnerabilities -o json, older releases);
 * - `{ metadata: { imageDigest, … }, securityEvaluation: [{ vulnerabilityId, package, packageType, path,
 *   fixAvailable, link, nvdCvssBaseScore }] }` (newer releases; the Engine parser claims it first).
 * Title "{vuln} - {package} ({packageType})", merged on digest|vuln|package|path. Asset: the image (CONTAINER),
 * or the file name when the list carries no image identity.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, firstJsonItem, isObject, ScanFormatError, str } from './util.js'
import { CAMEL_KEYS, legacyVulnFinding, metadataImage, securityEvaluationFinding } from './anchore-common.js'

const WHERE = 'anchorectl vulnerability report'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  if (isObject(doc.json)) return isObject(doc.json.metadata) && Array.isArray(doc.json.securityEvaluation) ? 0.6 : 0
  if (!Array.isArray(doc.json)) return 0
  const first = firstJsonItem(doc)
  if (!isObject(first) || !('vuln' in first)) return 0
  return 'packageType' in first || 'feedGroup' in first || 'packageName' in first ? 1 : 0.5
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let records: unknown[]
  let digest: string | undefined
  let assetKey: string
  if (isObject(root) && root.securityEvaluation !== undefined) {
    if (!Array.isArray(root.securityEvaluation)) throw new ScanFormatError(`${WHERE}: "securityEvaluation" must be an array`)
    const meta = isObject(root.metadata) ? root.metadata : {}
    digest = str(meta.imageDigest)
    assetKey = assets.add('CONTAINER', { image: metadataImage(meta) ?? doc.filename })
    records = root.securityEvaluation
    records.forEach((item, i) => {
      const { vuln, pkg, pkgType, path, ...fields } = securityEvaluationFinding(item, i, WHERE, ctx)
      const key = [digest ?? 'None', vuln, pkg, path ?? 'N/A'].join('|')
      const prev = byKey.get(key)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        return
      }
      byKey.set(key, { assetKey, title: `${vuln} - ${pkg} (${pkgType})`, ...fields })
    })
    return { assets: assets.list(), findings: [...byKey.values()] }
  }
  if (!Array.isArray(root)) throw new ScanFormatError(`${WHERE}: expected a JSON list of vulnerabilities or an object with "securityEvaluation"`)
  records = root
  // The list has no image name; records may carry imageDigest / tag in newer builds.
  const first = records[0]
  const image = isObject(first) ? str(first.imageTag) ?? str(first.tag) ?? str(first.imageDigest) : undefined
  assetKey = assets.add('CONTAINER', { image: image ?? doc.filename })
  records.forEach((item, i) => {
    const { vuln, pkg, pkgType, ...fields } = legacyVulnFinding(item, i, CAMEL_KEYS, WHERE, undefined)
    const it = item as Record<string, unknown>
    const key = ['None', vuln, pkg, str(it.path) ?? str(it.packagePath) ?? 'N/A'].join('|')
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      return
    }
    byKey.set(key, { assetKey, title: `${vuln} - ${pkg} (${pkgType})`, ...fields })
  })
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'anchorectl_vulns',
  label: 'AnchoreCTL vulnerability report',
  aliases: ['AnchoreCTL Vuln Report'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
