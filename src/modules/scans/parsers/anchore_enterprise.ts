/**
 * Anchore Enterprise policy check JSON (`anchore-cli --json evaluate check <img> --detail`), DefectDojo's
 * "Anchore Enterprise Policy Check": `[{ "<digest>": { "<repo:tag>": [{ detail: { policy: { policies }, result: {
 * image_id, result: { "<image_id>": { result: { header, rows } } } } } }] } }]`. One finding per row (no merging),
 * title "{policy name} - gate|{gate} - trigger|{trigger id}", severity from the gate action (stop → critical,
 * warn → medium, else low). Whitelisted rows are kept as risk accepted. A missing key is a format error.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, firstJsonItem, isObject, ScanFormatError, str, vulnIds } from './util.js'
import { gateActionSeverity, gateActionStatus, pathInText, splitImageTag, triggerParts, urlsInText } from './anchore-common.js'

const WHERE = 'Anchore Enterprise policy check'
const DEFAULT_HEADER = ['Image_Id', 'Repo_Tag', 'Trigger_Id', 'Gate', 'Trigger', 'Check_Output', 'Gate_Action', 'Whitelisted', 'Policy_Id']

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !Array.isArray(doc.json)) return 0
  const first = firstJsonItem(doc)
  if (!isObject(first)) return 0
  const [digest, byTag] = Object.entries(first)[0] ?? []
  if (!digest || !isObject(byTag)) return 0
  const evaluations = Object.values(byTag)[0]
  const ev: unknown = Array.isArray(evaluations) ? evaluations[0] : undefined
  if (isObject(ev) && isObject(ev.detail) && ('result' in ev.detail || 'policy' in ev.detail)) return 1
  return digest.startsWith('sha256:') ? 0.7 : 0
}

function missing(what: string): ScanFormatError {
  return new ScanFormatError(`${WHERE}: invalid format, ${what} not found`)
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  if (!Array.isArray(root)) throw new ScanFormatError(`${WHERE}: expected a JSON list of {image digest: {tag: [evaluations]}}`)
  const assets = new AssetCollector()
  const findings: ParsedFinding[] = []
  for (const checks of root) {
    if (!isObject(checks)) {
      ctx.warn(`${WHERE}: skipped an entry that is not an object of image digests`)
      continue
    }
    for (const [digest, byTag] of Object.entries(checks)) {
      if (!isObject(byTag)) {
        ctx.warn(`${WHERE}: skipped image ${digest}, which has no tags object`)
        continue
      }
      for (const [tagName, evaluations] of Object.entries(byTag)) {
        if (!Array.isArray(evaluations)) {
          ctx.warn(`${WHERE}: skipped ${tagName}, which has no list of evaluations`)
          continue
        }
        assets.add('CONTAINER', { image: tagName })
        for (const evaluation of evaluations) {
          if (!isObject(evaluation) || !isObject(evaluation.detail)) throw missing('"detail"')
          const detail = evaluation.detail
          if (!isObject(detail.result)) throw missing('"detail.result"')
          const results = detail.result
          const imageId = str(results.image_id)
          if (!imageId) throw missing('"image_id"')
          if (!isObject(results.result)) throw missing('"result" (the evaluation results)')
          const imageChecks = results.result[imageId]
          if (!isObject(imageChecks) || !isObject(imageChecks.result)) throw missing(`the results of image ${imageId}`)
          const table = imageChecks.result
          if (!Array.isArray(table.rows)) throw missing('"rows"')
          const header = Array.isArray(table.header) ? table.header.map((h) => str(h) ?? '') : DEFAULT_HEADER
          const col = (name: string, fallback: number) => {
            const i = header.indexOf(name)
            return i >= 0 ? i : fallback
          }
          const c = { tag: col('Repo_Tag', 1), trigger: col('Trigger_Id', 2), gate: col('Gate', 3), triggerName: col('Trigger', 4),
            output: col('Check_Output', 5), action: col('Gate_Action', 6), whitelisted: col('Whitelisted', 7), policy: col('Policy_Id', 8) }
          const policies = isObject(detail.policy) && Array.isArray(detail.policy.policies) ? detail.policy.policies : []
          const policyNames = new Map<string, string>()
          for (const p of policies) if (isObject(p) && str(p.id)) policyNames.set(str(p.id)!, str(p.name) ?? 'unknown')
          for (const [r, row] of table.rows.entries()) {
            if (!Array.isArray(row) || row.length <= Math.max(c.tag, c.trigger, c.gate, c.output, c.action, c.policy)) {
              throw missing(`a complete row (row ${r + 1} of image ${imageId})`)
            }
            const repoTag = str(row[c.tag]) ?? tagName
            const triggerId = str(row[c.trigger]) ?? ''
            const gate = str(row[c.gate]) ?? ''
            const output = str(row[c.output])
            const action = str(row[c.action])
            const policyId = str(row[c.policy]) ?? ''
            const policyName = policyNames.get(policyId) ?? 'unknown'
            const whitelisted = row[c.whitelisted] === true || str(row[c.whitelisted])?.toLowerCase() === 'true'
            const { vulnId, pkg } = triggerParts(triggerId)
            const path = pathInText(output)
            const { repo, tag } = splitImageTag(repoTag)
            const assetKey = assets.add('CONTAINER', { image: repoTag })
            const ids = vulnIds(vulnId)
            const urls = urlsInText(output)
            findings.push({
              assetKey,
              title: `${policyName} - gate|${gate} - trigger|${triggerId}`,
              ...(output ? { description: output } : {}),
              severity: gateActionSeverity(action),
              ...(action ? { scannerSeverity: action } : {}),
              ...(ids.length ? { vulnerabilityIds: ids } : {}),
              ...(pkg ? { component: { name: pkg } } : {}),
              ...(path ? { location: { path } } : {}),
              ruleId: [gate, str(row[c.triggerName])].filter(Boolean).join(':') || triggerId,
              ...(whitelisted ? { status: 'risk_accepted' as const, statusReason: 'Whitelisted in the Anchore policy' } : gateActionStatus(action)),
              ...(urls.length ? { references: urls } : {}),
              ...(triggerId ? { uniqueId: `${imageId}|${policyId}|${triggerId}` } : {}),
              tags: [`gate:${gate}`],
              extra: { policyId, policyName, imageDigest: digest, repo, ...(tag ? { tag } : {}), gateAction: action },
            })
          }
        }
      }
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'anchore_enterprise',
  label: 'Anchore Enterprise policy check',
  aliases: ['Anchore Enterprise Policy Check'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
