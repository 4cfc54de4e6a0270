/**
 * Grype JSON (`grype <target> -o json`), DefectDojo's "Anchore Grype": `{ matches: [{ vulnerability, relatedVulnerabilities,
 * matchDetails, artifact }], source: { type, target }, distro, descriptor: { name: "grype" } }`.
 * Title "{id} in {name}:{version}"; matches with the same title (one vulnerability in one package version found at
 * several paths) are one finding with `occurrences`. Severity as Grype writes it (Negligible / Unknown → info).
 * Related vulnerabilities add their ids (CVE for a GHSA / distro advisory), CVSS when the vulnerability has none,
 * and EPSS. Old reports (grype < 0.20: `cvssV2`/`cvssV3`, `fixedInVersion`, `links`, matchDetails object) too.
 * Asset: the image for image scans (CONTAINER), the scanned directory (CODE) or SBOM/file (BUILD) otherwise.
 */
import type { AssetAttributes, AssetType, ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { asArray, AssetCollector, cvssVersion, isObject, jsonKeys, num, ScanFormatError, severityFromText, str, vulnIds } from './util.js'

const WHERE = 'Grype report'

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !isObject(doc.json)) return 0
  const root = doc.json
  if (!Array.isArray(root.matches)) return 0
  if (isObject(root.descriptor) && str(root.descriptor.name)?.toLowerCase() === 'grype') return 1
  const first: unknown = root.matches[0]
  if (isObject(first) && isObject(first.vulnerability) && isObject(first.artifact)) return 0.95
  const keys = jsonKeys(doc)
  return keys.has('source') || keys.has('distro') ? 0.8 : 0.3
}

type Obj = Record<string, unknown>

function objects(v: unknown): Obj[] {
  return asArray(v).filter(isObject)
}

/** The first CVSS v3 entry (DefectDojo's choice), else v4, else v2, of a `cvss` list or the old cvssV3/cvssV2. */
function pickCvss(v: Obj | undefined): ParsedFinding['cvss'] {
  if (!v) return undefined
  const entries = objects(v.cvss).map((c) => {
    const vector = str(c.vector)
    const metrics = isObject(c.metrics) ? c.metrics : {}
    return { vector, score: num(metrics.baseScore), version: str(c.version) ?? cvssVersion(vector) }
  })
  for (const [key, version] of [['cvssV3', '3'], ['cvssV2', '2.0']] as const) {
    const c = v[key]
    if (isObject(c)) {
      const vector = str(c.vector)
      entries.push({ vector, score: num(c.baseScore), version: cvssVersion(vector) ?? version })
    }
  }
  const rank = (ver: string | undefined) => (ver?.startsWith('3') ? 0 : ver?.startsWith('4') ? 1 : ver?.startsWith('2') ? 2 : 3)
  let best: (typeof entries)[number] | undefined
  for (const e of entries) if (!best || rank(e.version) < rank(best.version)) best = e
  if (!best || (best.vector === undefined && best.score === undefined)) return undefined
  return { ...(best.vector ? { vector: best.vector } : {}), ...(best.score !== undefined ? { score: best.score } : {}), ...(best.version ? { version: best.version } : {}) }
}

function epssFor(list: unknown, id: string | undefined): { score: number; percentile?: number } | undefined {
  for (const e of objects(list)) {
    if (id !== undefined && str(e.cve) !== id) continue
    const score = num(e.epss)
    if (score === undefined) continue
    const percentile = num(e.percentile)
    return { score, ...(percentile !== undefined ? { percentile } : {}) }
  }
  return undefined
}

function matchers(details: unknown): string[] {
  const out: string[] = []
  for (const d of objects(details)) {
    const m = str(d.matcher)
    if (m && !out.includes(m)) out.push(m)
  }
  return out
}

function assetOf(root: Obj, doc: ScanDocument): { type: AssetType; attributes: AssetAttributes } {
  const source = isObject(root.source) ? root.source : undefined
  const distro = isObject(root.distro) ? [str(root.distro.name), str(root.distro.version)].filter(Boolean).join(' ') : ''
  const os = distro ? { os: distro } : {}
  const type = str(source?.type)?.toLowerCase()
  const target = source?.target
  if (isObject(target) || type === 'image') {
    const t = isObject(target) ? target : {}
    const image = str(t.userInput) ?? str(asArray(t.tags)[0]) ?? str(asArray(t.repoDigests)[0]) ?? str(t.imageID) ?? str(t.manifestDigest)
    if (image) return { type: 'CONTAINER', attributes: { image, ...os } }
  }
  const path = str(target)?.replace(/^"(.*)"$/, '$1')
  const named = path && path !== '.' && path !== './' ? path : undefined
  if (type === 'file' || type === 'sbom') return { type: 'BUILD', attributes: { buildFile: named ?? doc.filename } }
  return { type: 'CODE', attributes: { scannerSource: named ?? doc.filename, ...os } }
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object with "matches"`)
  if (root.matches !== undefined && root.matches !== null && !Array.isArray(root.matches)) {
    throw new ScanFormatError(`${WHERE}: "matches" must be an array`)
  }
  const assets = new AssetCollector()
  const asset = assetOf(root, doc)
  const assetKey = assets.add(asset.type, asset.attributes)
  const byTitle = new Map<string, ParsedFinding>()
  let nulRepaired = false
  const clean = (s: string): string => {
    if (!ctx.fixData || !s.includes('\u0000')) return s
    nulRepaired = true
    return s.replaceAll('\u0000', '')
  }

  for (const [i, item] of asArray(root.matches).entries()) {
    if (!isObject(item)) throw new ScanFormatError(`${WHERE}: match ${i + 1} is not an object`)
    const v = item.vulnerability
    const artifact = item.artifact
    if (!isObject(v)) throw new ScanFormatError(`${WHERE}: match ${i + 1} has no "vulnerability" object`)
    if (!isObject(artifact)) throw new ScanFormatError(`${WHERE}: match ${i + 1} has no "artifact" object`)
    const id = str(v.id)
    if (!id) throw new ScanFormatError(`${WHERE}: match ${i + 1} has a vulnerability without "id"`)
    const name = clean(str(artifact.name) ?? '')
    const version = clean(str(artifact.version) ?? '')
    const title = clean(`${id} in ${name || 'None'}:${version || 'None'}`)
    const paths = objects(artifact.locations).map((l) => str(l.path)).filter((p): p is string => p !== undefined)

    const prev = byTitle.get(title)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      const known = (prev.extra?.paths as string[] | undefined) ?? (prev.location?.path ? [prev.location.path] : [])
      for (const p of paths) if (known.length < 20 && !known.includes(p)) known.push(p)
      if (known.length > 0) prev.extra = { ...prev.extra, paths: known }
      continue
    }

    const related = objects(item.relatedVulnerabilities)
    const rel = related[0]
    const description = str(v.description)
    const relDescription = rel ? str(rel.description) : undefined
    const found = matchers(item.matchDetails)
    const purl = str(artifact.purl)
    const lines = [
      ...(str(v.namespace) ? [`Vulnerability Namespace: ${str(v.namespace)}`] : []),
      ...(description ? [`Vulnerability Description: ${description}`] : []),
      ...(relDescription && relDescription !== description ? [`Related Vulnerability Description: ${relDescription}`] : []),
      ...(found.length === 1 ? [`Matcher: ${found[0]}`] : found.length > 1 ? ['Matchers:', ...found.map((m) => `- ${m}`)] : []),
      ...(purl ? [`Package URL: ${purl}`] : []),
    ]

    const fix = isObject(v.fix) ? v.fix : undefined
    const fixVersions = fix ? asArray(fix.versions).map(str).filter((s): s is string => s !== undefined) : asArray(v.fixedInVersion).map(str).filter((s): s is string => s !== undefined)
    const remedy = fixVersions.length === 1 ? `Upgrade to version: ${fixVersions[0]}`
      : fixVersions.length > 1 ? `Upgrade to version:\n${fixVersions.map((f) => `- ${f}`).join('\n')}` : undefined

    const references: string[] = []
    for (const src of [v, ...related]) {
      for (const u of [src.dataSource, ...asArray(src.urls), ...asArray(src.links)]) {
        const s = str(u)
        if (s && !references.includes(s)) references.push(s)
      }
    }

    const cvss = pickCvss(v) ?? pickCvss(rel)
    let epss = epssFor(v.epss, id)
    for (const r of related) epss ??= epssFor(r.epss, str(r.id))
    epss ??= epssFor(v.epss, undefined)
    for (const r of related) epss ??= epssFor(r.epss, undefined)

    const sev = str(v.severity)
    const tags = found.map((m) => m.replace('-matcher', '')).filter((t, k, all) => all.indexOf(t) === k)
    const kev = asArray(v.knownExploited).length > 0 || related.some((r) => asArray(r.knownExploited).length > 0)
    if (kev) tags.push('known-exploited')
    const fixState = fix ? str(fix.state) : undefined
    const risk = num(v.risk)
    const ecosystem = str(artifact.type) ?? str(artifact.language)
    const path = paths[0]

    byTitle.set(title, {
      assetKey,
      title,
      ...(lines.length ? { description: clean(lines.join('\n')) } : {}),
      ...(remedy ? { remedy } : {}),
      ...(fixVersions.length ? { fixVersion: fixVersions.join(', ') } : {}),
      severity: severityFromText(sev) ?? 'info',
      ...(sev ? { scannerSeverity: sev } : {}),
      vulnerabilityIds: vulnIds(id, ...related.map((r) => r.id)),
      ...(cvss ? { cvss } : {}),
      ...(epss ? { epss } : {}),
      ...(name ? { component: { name, ...(version ? { version } : {}), ...(purl ? { purl } : {}), ...(ecosystem ? { ecosystem } : {}) } } : {}),
      ...(path ? { location: { path } } : {}),
      ruleId: id,
      ...(references.length ? { references } : {}),
      ...(tags.length ? { tags } : {}),
      extra: {
        ...(str(v.namespace) ? { namespace: str(v.namespace) } : {}),
        ...(fixState ? { fixState } : {}),
        ...(risk !== undefined ? { risk } : {}),
        ...(paths.length > 1 ? { paths: paths.slice(0, 20) } : {}),
      },
    })
  }
  if (nulRepaired) ctx.repair(`${WHERE}: removed NUL characters from package names, versions or descriptions`)
  return { assets: assets.list(), findings: [...byTitle.values()] }
}

export const parser: ScannerParser = {
  id: 'anchore_grype',
  label: 'Anchore Grype',
  aliases: ['Anchore Grype', 'grype'],
  formats: ['json'],
  defaultAssetType: 'CONTAINER',
  detect,
  parse,
}
