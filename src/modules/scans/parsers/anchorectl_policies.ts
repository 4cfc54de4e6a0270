/**
 * anchorectl policy evaluation JSON, DefectDojo's "AnchoreCTL Policies Report":
 * - legacy: `[{ detail: [{ description, gate, policyId, status, tag, triggerId, triggerName }], digest, policyId,
 *   status, tag, finalAction }]`;
 * - `anchorectl policy evaluate -o json`: `{ evaluatedTag, imageDigest, policyId, evaluations: [{ numberOfFindings,
 *   details: [ … same … ] }] }` (evaluations reporting no findings are skipped, as in DefectDojo).
 * One finding per detail (no merging), title "{policyId} - gate|{gate} - trigger|{triggerId}". Severity: the check
 * output's leading severity word (HIGH, MEDIUM, …; UNKNOWN → info) unless the gate action is `go`, else the gate
 * action (stop → critical, warn → medium, else low). `go` findings are allowed by the policy: risk accepted.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, firstJsonItem, isObject, ScanFormatError, severityFromText, str, vulnIds } from './util.js'
import { gateActionSeverity, gateActionStatus, outputSeverityWord, pathInText, splitImageTag, triggerParts, urlsInText } from './anchore-common.js'

const WHERE = 'anchorectl policy report'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json') return 0
  if (isObject(doc.json)) {
    const root = doc.json
    if (!Array.isArray(root.evaluations)) return 0
    return 'evaluatedTag' in root || 'imageDigest' in root || 'policyId' in root ? 1 : 0.5
  }
  if (!Array.isArray(doc.json)) return 0
  const first = firstJsonItem(doc)
  if (!isObject(first)) return 0
  const details = Array.isArray(first.detail) ? first.detail : Array.isArray(first.details) ? first.details : undefined
  if (!details) return 0
  return 'finalAction' in first || 'policyId' in first || 'digest' in first ? 1 : 0.6
}

interface Image {
  details: unknown[]
  policyId?: string
  tag?: string
  digest?: string
}

/** The images of either layout, as DefectDojo normalises the new one onto the legacy one. */
function images(root: unknown): Image[] {
  if (isObject(root) && 'evaluations' in root) {
    if (!Array.isArray(root.evaluations)) throw new ScanFormatError(`${WHERE}: "evaluations" must be an array`)
    const out: Image[] = []
    for (const ev of root.evaluations) {
      if (!isObject(ev)) throw new ScanFormatError(`${WHERE}: an evaluation is not an object`)
      const details = ev.details
      if (details === undefined || details === null) continue
      if (!Array.isArray(details)) throw new ScanFormatError(`${WHERE}: an evaluation's "details" must be an array`)
      if (ev.numberOfFindings === 0 || details.length === 0) continue
      out.push({ details, policyId: str(root.policyId), tag: str(root.evaluatedTag), digest: str(root.imageDigest) })
    }
    return out
  }
  if (!Array.isArray(root)) {
    throw new ScanFormatError(`${WHERE}: expected a list of images or an object with an "evaluations" array`)
  }
  return root.map((image, i) => {
    if (!isObject(image)) throw new ScanFormatError(`${WHERE}: image ${i + 1} is not an object`)
    const details = Array.isArray(image.detail) ? image.detail : Array.isArray(image.details) ? image.details : undefined
    if (!details) throw new ScanFormatError(`${WHERE}: image ${i + 1} has no "detail" list`)
    return { details, policyId: str(image.policyId), tag: str(image.tag), digest: str(image.digest) }
  })
}

function severityOf(status: string | undefined, output: string | undefined): Severity {
  const word = outputSeverityWord(output)
  if (word) {
    if (word === 'UNKNOWN' || status === 'go') return 'info'
    return severityFromText(word) ?? 'info'
  }
  return gateActionSeverity(status)
}

function parse(doc: ScanDocument): ParseResult {
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  for (const image of images(doc.json)) {
    const imageRef = image.tag ?? image.digest
    if (imageRef) assets.add('CONTAINER', { image: imageRef })
    image.details.forEach((d, i) => {
      if (!isObject(d)) throw new ScanFormatError(`${WHERE}: detail ${i + 1} of ${imageRef ?? 'an image'} is not an object`)
      const gate = str(d.gate) ?? 'unknown'
      const output = str(d.description)
      const policyId = str(d.policyId) ?? image.policyId ?? 'unknown'
      const status = str(d.status)
      const triggerId = str(d.triggerId) ?? 'unknown'
      const imageName = str(d.tag) ?? image.tag ?? 'unknown:latest'
      const { repo, tag } = splitImageTag(imageName)
      const { vulnId, pkg } = triggerParts(triggerId)
      const path = pathInText(output)
      const urls = urlsInText(output)
      const ids = vulnIds(vulnId)
      const assetKey = assets.add('CONTAINER', { image: imageName === 'unknown:latest' ? image.digest ?? doc.filename : imageName })
      findings.push({
        assetKey,
        title: `${policyId} - gate|${gate} - trigger|${triggerId}`,
        description: output ?? 'No description provided',
        severity: severityOf(status, output),
        ...(status ? { scannerSeverity: status } : {}),
        ...(ids.length ? { vulnerabilityIds: ids } : {}),
        ...(pkg ? { component: { name: pkg } } : {}),
        ...(path ? { location: { path } } : {}),
        ruleId: [gate, str(d.triggerName)].filter(Boolean).join(':'),
        ...gateActionStatus(status),
        ...(urls.length ? { references: urls } : {}),
        ...(triggerId !== 'unknown' ? { uniqueId: `${str(d.imageId) ?? image.digest ?? imageName}|${policyId}|${triggerId}` } : {}),
        tags: [`gate:${gate}`],
        extra: { policyId, repo, ...(tag ? { tag } : {}), ...(image.digest ? { imageDigest: image.digest } : {}), ...(status ? { gateAction: status } : {}) },
      })
    })
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'anchorectl_policies',
  label: 'AnchoreCTL policy evaluation',
  aliases: ['AnchoreCTL Policies Report'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
