/**
 * CycloneDX BOMs with vulnerabilities (JSON and XML, spec 1.0–1.6, including VEX). DefectDojo's "CycloneDX Scan":
 * - JSON: one finding per `vulnerabilities[].affects[]` entry; components (nested ones flattened) are looked up by
 *   bom-ref; title "{name}:{version} | {id}"; severity = the first rating's severity (none → medium), overridden by
 *   a CVSSv3/CVSSv31 rating with a valid vector (its severity, else the vector's); analysis.state resolved /
 *   resolved_with_pedigree / not_affected → mitigated, false_positive → false positive.
 * - XML: the legacy vulnerability extension (`v:vulnerability`, one finding each, inside a component or at the
 *   root) and spec ≥1.4 `vulnerabilities/vulnerability` (one finding per affects/target).
 * A BOM without vulnerabilities yields nothing. The BOM's own component (metadata.component) is the asset.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScanFindingStatus, ScannerParser, Severity, XmlNode } from './types.js'
import { AssetCollector, asArray, attr, cvssVersion, isObject, num, ScanFormatError, severityFromCvss, severityFromText, str, vulnIds } from './util.js'
import { cvss3BaseScore, cvss3Vector, ecosystemOfPurl, localName, parsePurl, XmlNamespaces } from './sca-common.js'

const WHERE = 'CycloneDX BOM'
const BOM_NS = 'http://cyclonedx.org/schema/bom/'
const VULN_EXT_NS = 'http://cyclonedx.org/schema/ext/vulnerability/'
const inBom = (uri: string) => uri.startsWith(BOM_NS)
const inExt = (uri: string) => uri.startsWith(VULN_EXT_NS)

function detect(doc: ScanDocument): number {
  if (doc.kind === 'json') {
    if (!isObject(doc.json)) return 0
    const root = doc.json
    if (str(root.bomFormat)?.toLowerCase() === 'cyclonedx') return 0.6
    if ('specVersion' in root && (Array.isArray(root.components) || Array.isArray(root.vulnerabilities)) && 'version' in root) return 0.4
    return 0
  }
  if (doc.kind === 'xml' && localName(doc.xmlRoot) === 'bom' && doc.xml) {
    const root = doc.xml[doc.xmlRoot!]
    const ns = new XmlNamespaces(root)
    return inBom(ns.uriOf(doc.xmlRoot!)) ? 0.6 : 0
  }
  return 0
}

// ---------------------------------------------------------------------------------------------------------------
// Shared

interface Comp { name?: string; version?: string; purl?: string }

/** DefectDojo's fix_severity: the word capitalised; Unknown/None → info. Unrecognised words → medium. */
function fixSeverity(word: string | undefined): Severity {
  if (!word) return 'medium'
  return severityFromText(word) ?? 'medium'
}

function vexStatus(state: string | undefined): ScanFindingStatus | undefined {
  switch (state) {
    case 'resolved': case 'resolved_with_pedigree': case 'not_affected': return 'mitigated'
    case 'false_positive': return 'false_positive'
    default: return undefined
  }
}

interface Draft {
  id: string | undefined
  description?: string
  recommendation?: string
  severity: Severity
  scannerSeverity?: string
  cvss?: ParsedFinding['cvss']
  ids: string[]
  cwe: number[]
  references: string[]
  status?: ScanFindingStatus
  statusDetail?: string
  vexJustification?: string
  vexResponse?: string[]
}

function buildFinding(d: Draft, comp: Comp | undefined, assetKey: string): ParsedFinding {
  const name = comp?.name
  const version = comp?.version
  const purl = parsePurl(comp?.purl)
  let remedy = d.recommendation ?? ''
  if (d.status && d.statusDetail) remedy += `\nThis vulnerability is mitigated and/or suppressed: ${d.statusDetail}`
  remedy = remedy.trim()
  return {
    assetKey,
    title: `${name ?? 'None'}:${version ?? 'None'} | ${d.id ?? 'None'}`,
    ...(d.description ? { description: d.description } : {}),
    ...(remedy ? { remedy } : {}),
    severity: d.severity,
    ...(d.scannerSeverity ? { scannerSeverity: d.scannerSeverity } : {}),
    ...(d.ids.length ? { vulnerabilityIds: d.ids } : {}),
    ...(d.cwe.length ? { cwe: d.cwe } : {}),
    ...(d.cvss ? { cvss: d.cvss } : {}),
    ...(name ? {
      component: {
        name,
        ...(version ? { version } : {}),
        ...(comp?.purl ? { purl: comp.purl } : {}),
        ...(ecosystemOfPurl(purl) ? { ecosystem: ecosystemOfPurl(purl)! } : {}),
      },
    } : {}),
    ...(d.id ? { ruleId: d.id } : {}),
    ...(d.status ? { status: d.status, ...(d.statusDetail ? { statusReason: d.statusDetail } : {}) } : {}),
    ...(d.references.length ? { references: [...new Set(d.references)] } : {}),
    ...(d.vexJustification || d.vexResponse?.length ? {
      extra: {
        ...(d.vexJustification ? { vexJustification: d.vexJustification } : {}),
        ...(d.vexResponse?.length ? { vexResponse: d.vexResponse } : {}),
      },
    } : {}),
  }
}

/** A CVSSv3 rating: the vector DefectDojo accepts, the score (given or computed) and the severity it implies. */
function cvss3Rating(rawVector: unknown, rawScore: unknown): { cvss: NonNullable<ParsedFinding['cvss']>; severity: Severity } | undefined {
  const vector = cvss3Vector(rawVector)
  if (!vector) return undefined
  const score = num(rawScore) ?? cvss3BaseScore(vector)
  return {
    cvss: { vector, ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) },
    severity: severityFromCvss(cvss3BaseScore(vector) ?? score) ?? 'medium',
  }
}

/**
 * Where an `affects` reference is not a component of the BOM: DefectDojo titles the finding "None:None | id".
 * With fixData, the BOM's own component or the reference read as a package URL fills in name and version.
 */
function repairComponent(ref: string, meta: Comp & { ref?: string }, ctx: ParseContext, repaired: Set<string>): Comp | undefined {
  if (!ctx.fixData) return undefined
  let comp: Comp | undefined
  if (meta.ref === ref && meta.name) comp = meta
  else {
    const p = parsePurl(ref)
    if (p) comp = { name: p.name, ...(p.version ? { version: p.version } : {}), purl: ref }
  }
  if (comp && !repaired.has(ref)) {
    repaired.add(ref)
    ctx.repair(`${WHERE}: vulnerability target "${ref}" is not a component of the BOM; took name "${comp.name}"${comp.version ? ` and version "${comp.version}"` : ''} from ${comp === meta ? 'the BOM\'s metadata component' : 'the package URL'}`)
  }
  return comp
}

function assetFor(assets: AssetCollector, meta: { type?: string; name?: string; version?: string }, doc: ScanDocument): string {
  if (meta.type === 'container' && meta.name) {
    const v = meta.version
    const image = v?.startsWith('sha256:') ? `${meta.name}@${v}` : v && !meta.name.includes(':') ? `${meta.name}:${v}` : meta.name
    return assets.add('CONTAINER', { image })
  }
  return assets.add('BUILD', { buildFile: meta.name ?? doc.filename })
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

function flatten(components: unknown, into: Map<string, Comp>): void {
  for (const c of asArray(components)) {
    if (!isObject(c)) continue
    if ('components' in c) flatten(c.components, into)
    const ref = str(c['bom-ref'])
    if (ref !== undefined) into.set(ref, { name: str(c.name), version: str(c.version), purl: str(c.purl) })
  }
}

function jsonDraft(v: Record<string, unknown>): Draft {
  const id = str(v.id)
  let description = str(v.description)
  const detail = str(v.detail)
  if (detail) description = description ? `${description}\n${detail}` : detail
  const ratings = asArray(v.ratings as unknown).filter(isObject)
  const firstWord = ratings.length ? str(ratings[0]!.severity) : undefined
  let severity: Severity = ratings.length ? fixSeverity(firstWord) : 'medium'
  let scannerSeverity = firstWord
  let cvss: ParsedFinding['cvss']
  for (const r of ratings) {
    const method = str(r.method)
    if (method !== 'CVSSv3' && method !== 'CVSSv31') continue
    const c = cvss3Rating(r.vector, r.score)
    if (!c) continue
    cvss = c.cvss
    const word = str(r.severity)
    severity = word ? fixSeverity(word) : c.severity
    scannerSeverity = word ?? scannerSeverity
  }
  if (!cvss) {
    // Keep another scored rating (CVSS v4/v2, OWASP) for information; it does not change the severity.
    const other = ratings.find((r) => str(r.vector) || num(r.score) !== undefined)
    if (other) {
      const vector = str(other.vector)
      const score = num(other.score)
      cvss = { ...(vector ? { vector } : {}), ...(score !== undefined ? { score } : {}), ...(cvssVersion(vector) ? { version: cvssVersion(vector)! } : {}) }
    }
  }
  if (!firstWord && ratings.length && !cvss?.vector && severity === 'medium' && num(ratings[0]!.score) !== undefined) {
    severity = severityFromCvss(num(ratings[0]!.score)) ?? severity
  }
  const references: string[] = []
  for (const a of asArray(v.advisories as unknown)) if (isObject(a) && str(a.url)) references.push(str(a.url)!)
  if (isObject(v.source) && str(v.source.url)) references.push(str(v.source.url)!)
  const analysis = isObject(v.analysis) ? v.analysis : undefined
  const status = vexStatus(analysis ? str(analysis.state) : undefined)
  const recommendation = [str(v.recommendation), str(v.workaround)].filter(Boolean).join('\n')
  return {
    id,
    ...(description ? { description } : {}),
    ...(recommendation ? { recommendation } : {}),
    severity,
    ...(scannerSeverity ? { scannerSeverity } : {}),
    ...(cvss ? { cvss } : {}),
    ids: vulnIds(id, ...asArray(v.references as unknown).map((r) => (isObject(r) ? r.id : undefined))),
    cwe: asArray(v.cwes as unknown).map((c) => num(c)).filter((c): c is number => c !== undefined && Number.isInteger(c) && c > 0),
    references,
    ...(status ? { status } : {}),
    ...(analysis && str(analysis.detail) ? { statusDetail: str(analysis.detail) } : {}),
    ...(analysis && str(analysis.justification) ? { vexJustification: str(analysis.justification) } : {}),
    ...(analysis && Array.isArray(analysis.response) ? { vexResponse: analysis.response.map((x) => String(x)) } : {}),
  }
}

function parseJson(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const root = doc.json
  if (!isObject(root)) throw new ScanFormatError(`${WHERE}: expected a JSON object (bomFormat "CycloneDX")`)
  if (root.components !== undefined && root.components !== null && !Array.isArray(root.components)) {
    throw new ScanFormatError(`${WHERE}: "components" must be an array`)
  }
  if (root.vulnerabilities !== undefined && root.vulnerabilities !== null && !Array.isArray(root.vulnerabilities)) {
    throw new ScanFormatError(`${WHERE}: "vulnerabilities" must be an array`)
  }
  const components = new Map<string, Comp>()
  flatten(root.components, components)
  const metadata = isObject(root.metadata) ? root.metadata : {}
  const mc = isObject(metadata.component) ? metadata.component : {}
  const meta = { type: str(mc.type), name: str(mc.name), version: str(mc.version), purl: str(mc.purl), ref: str(mc['bom-ref']) }
  const assets = new AssetCollector()
  const vulns = asArray(root.vulnerabilities as unknown)
  const findings: ParsedFinding[] = []
  if (vulns.length === 0) return { assets: [], findings }
  const assetKey = assetFor(assets, meta, doc)
  const repaired = new Set<string>()
  for (const [i, v] of vulns.entries()) {
    if (!isObject(v)) throw new ScanFormatError(`${WHERE}: vulnerabilities[${i}] must be an object`)
    const affects = v.affects ?? []
    if (!Array.isArray(affects)) throw new ScanFormatError(`${WHERE}: vulnerabilities[${i}].affects must be an array`)
    if (affects.length === 0) continue
    const draft = jsonDraft(v)
    for (const [j, a] of affects.entries()) {
      const ref = isObject(a) ? str(a.ref) : undefined
      if (ref === undefined) throw new ScanFormatError(`${WHERE}: vulnerabilities[${i}].affects[${j}] has no "ref" (required by the specification)`)
      const comp = components.get(ref) ?? repairComponent(ref, meta, ctx, repaired)
      if (!comp) ctx.warn(`${WHERE}: vulnerability ${draft.id ?? i} targets "${ref}", which is not a component of the BOM`)
      findings.push(buildFinding(draft, comp, assetKey))
    }
  }
  return { assets: assets.list(), findings }
}

// ---------------------------------------------------------------------------------------------------------------
// XML

function texts(ns: XmlNamespaces, node: unknown, path: string[], inNs: (uri: string) => boolean): string[] {
  let level: XmlNode[] = isObject(node) ? [node] : []
  for (const step of path) level = level.flatMap((n) => ns.kids(n, step, inNs))
  return level.map((n) => str(n)).filter((s): s is string => s !== undefined)
}

function cwesOf(ns: XmlNamespaces, node: XmlNode, inNs: (uri: string) => boolean): number[] {
  return texts(ns, node, ['cwes', 'cwe'], inNs).filter((t) => /^\d+$/.test(t)).map(Number)
}

function xmlRatings(ns: XmlNamespaces, v: XmlNode, inNs: (uri: string) => boolean, methods: string[]): { severity?: Severity; word?: string; cvss?: ParsedFinding['cvss'] } {
  const out: { severity?: Severity; word?: string; cvss?: ParsedFinding['cvss'] } = {}
  for (const r of ns.kids(ns.kid(v, 'ratings', inNs), 'rating', inNs)) {
    const method = ns.text(r, 'method', inNs)
    if (!method || !methods.includes(method)) continue
    const scoreNode = ns.kid(r, 'score', inNs)
    const score = num(scoreNode) ?? num(ns.text(scoreNode, 'base', inNs))
    const c = cvss3Rating(ns.text(r, 'vector', inNs), score)
    if (!c) continue
    out.cvss = c.cvss
    const word = ns.text(r, 'severity', inNs)
    out.severity = word ? fixSeverity(word) : c.severity
    if (word) out.word = word
  }
  return out
}

function parseXml(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const rootName = doc.xmlRoot ?? ''
  const root = doc.xml?.[rootName]
  if (localName(rootName) !== 'bom') throw new ScanFormatError(`${WHERE}: the XML root element is <${rootName}>, not <bom>`)
  const ns = new XmlNamespaces(root)
  const rootNs = ns.uriOf(rootName)
  if (!inBom(rootNs)) throw new ScanFormatError(`${WHERE}: this doesn't seem to be a CycloneDX BOM XML file (namespace "${rootNs}")`)
  if (!isObject(root)) return { assets: [], findings: [] }

  const metadata = ns.kid(root, 'metadata', inBom)
  const mc = ns.kid(metadata, 'component', inBom)
  const meta = {
    type: attr(mc, 'type'), name: ns.text(mc, 'name', inBom), version: ns.text(mc, 'version', inBom),
    purl: ns.text(mc, 'purl', inBom), ref: attr(mc, 'bom-ref'),
  }
  const assets = new AssetCollector()
  let assetKey: string | undefined
  const key = () => (assetKey ??= assetFor(assets, meta, doc))
  const bomRefs = new Map<string, Comp>()
  const findings: ParsedFinding[] = []
  const repaired = new Set<string>()

  const legacy = (v: XmlNode, comp: Comp | undefined): ParsedFinding => {
    const ref = attr(v, 'ref')
    const id = ns.text(v, 'id', inExt)
    const word = texts(ns, v, ['ratings', 'rating', 'severity'], inExt)[0]
    let description = ns.text(v, 'description', inExt)
    if (!description) description = [`Ref: ${ref ?? 'None'}`, `Id: ${id ?? 'None'}`, `Severity: ${word ?? 'None'}`].join('\n')
    let target = comp
    if (!target && ref !== undefined) {
      target = bomRefs.get(ref) ?? repairComponent(ref, meta, ctx, repaired)
      if (!target) ctx.warn(`${WHERE}: vulnerability ${id ?? ''} refers to "${ref}", which is not a component of the BOM`)
    }
    const rating = xmlRatings(ns, v, inExt, ['CVSSv3'])
    const recommendation = texts(ns, v, ['recommendations', 'recommendation'], inExt).join('\n')
    return buildFinding({
      id,
      description,
      ...(recommendation ? { recommendation } : {}),
      severity: rating.severity ?? fixSeverity(word),
      ...(rating.word ?? word ? { scannerSeverity: (rating.word ?? word)! } : {}),
      ...(rating.cvss ? { cvss: rating.cvss } : {}),
      ids: vulnIds(id),
      cwe: cwesOf(ns, v, inExt),
      references: texts(ns, v, ['advisories', 'advisory'], inExt),
    }, target, key())
  }

  for (const c of ns.kids(ns.kid(root, 'components', inBom), 'component', inBom)) {
    const comp: Comp = { name: ns.text(c, 'name', inBom), version: ns.text(c, 'version', inBom), purl: ns.text(c, 'purl', inBom) }
    const ref = attr(c, 'bom-ref')
    if (ref !== undefined) bomRefs.set(ref, comp)
    for (const v of ns.kids(ns.kid(c, 'vulnerabilities', inExt), 'vulnerability', inExt)) findings.push(legacy(v, comp))
  }
  for (const v of ns.kids(ns.kid(root, 'vulnerabilities', inExt), 'vulnerability', inExt)) findings.push(legacy(v, undefined))

  for (const v of ns.kids(ns.kid(root, 'vulnerabilities', inBom), 'vulnerability', inBom)) {
    const targets = ns.kids(ns.kid(v, 'affects', inBom), 'target', inBom)
    if (targets.length === 0) continue
    const id = ns.text(v, 'id', inBom)
    let description = ns.text(v, 'description', inBom)
    const detail = ns.text(v, 'detail', inBom)
    if (detail) description = description ? `${description}\n${detail}` : detail
    const word = texts(ns, v, ['ratings', 'rating', 'severity'], inBom)[0]
    const rating = xmlRatings(ns, v, inBom, ['CVSSv3', 'CVSSv31'])
    const references: string[] = []
    for (const a of ns.kids(ns.kid(v, 'advisories', inBom), 'advisory', inBom)) {
      const url = ns.text(a, 'url', inBom)
      if (url) references.push(url)
    }
    const sourceUrl = ns.text(ns.kid(v, 'source', inBom), 'url', inBom)
    if (sourceUrl) references.push(sourceUrl)
    let cwe = cwesOf(ns, v, inExt)
    if (cwe.length === 0) cwe = cwesOf(ns, v, inBom)
    const analyses = ns.kids(v, 'analysis', inBom)
    const analysis = analyses.length === 1 ? analyses[0] : undefined
    const status = vexStatus(ns.text(analysis, 'state', inBom))
    const statusDetail = ns.text(analysis, 'detail', inBom)
    const justification = ns.text(analysis, 'justification', inBom)
    const responses = texts(ns, analysis, ['responses', 'response'], inBom)
    const recommendation = [ns.text(v, 'recommendation', inBom), ns.text(v, 'workaround', inBom)].filter(Boolean).join('\n')
    const draft: Draft = {
      id,
      ...(description ? { description } : {}),
      ...(recommendation ? { recommendation } : {}),
      severity: rating.severity ?? fixSeverity(word),
      ...(rating.word ?? word ? { scannerSeverity: (rating.word ?? word)! } : {}),
      ...(rating.cvss ? { cvss: rating.cvss } : {}),
      ids: vulnIds(id, ...texts(ns, v, ['references', 'reference', 'id'], inBom)),
      cwe,
      references,
      ...(status ? { status } : {}),
      ...(statusDetail ? { statusDetail } : {}),
      ...(justification ? { vexJustification: justification } : {}),
      ...(responses.length ? { vexResponse: responses } : {}),
    }
    for (const t of targets) {
      const ref = ns.text(t, 'ref', inBom)
      if (ref === undefined) throw new ScanFormatError(`${WHERE}: vulnerability ${id ?? ''} has an affects/target without <ref>`)
      const comp = bomRefs.get(ref) ?? repairComponent(ref, meta, ctx, repaired)
      if (!comp) ctx.warn(`${WHERE}: vulnerability ${id ?? ''} targets "${ref}", which is not a component of the BOM`)
      findings.push(buildFinding(draft, comp, key()))
    }
  }
  return { assets: assets.list(), findings }
}

function parse(doc: ScanDocument, ctx: ParseContext): ParseResult {
  if (doc.kind === 'json') return parseJson(doc, ctx)
  if (doc.kind === 'xml') return parseXml(doc, ctx)
  throw new ScanFormatError(`${WHERE}: expected CycloneDX JSON or XML`)
}

export const parser: ScannerParser = {
  id: 'cyclonedx',
  label: 'CycloneDX (SBOM / VEX)',
  aliases: ['CycloneDX Scan', 'cdx', 'cyclone_dx'],
  formats: ['json', 'xml'],
  defaultAssetType: 'BUILD',
  detect,
  parse,
}
