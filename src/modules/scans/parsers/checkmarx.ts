/**
 * Checkmarx CxSAST XML report (`<CxXMLResults ProjectName=…><Query name cweId …><Result …><Path><PathNode>`), and the
 * Checkmarx JSON export (`scanResults`). DefectDojo's "Checkmarx Scan" (the default, aggregated mode):
 * - XML: results are aggregated per CWE + severity + sink file name (the last PathNode's file), across queries; title
 *   = "{query name with _ as spaces} ({sink file base name})"; no line (the aggregate spans several); the query ids
 *   become the tool's rule id; a result is a false positive when `FalsePositive="True"` (the aggregate only when all
 *   its results are); `state` 1 (Not Exploitable) likewise.
 * - JSON: one finding per vulnerability, title = query name, path/line from the last node.
 * One CODE asset: the project (`ProjectName`), else the file name.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity, XmlNode } from './types.js'
import {
  AssetCollector, asArray, attr, children, childText, isObject, jsonKeys, num, ScanFormatError, severityFromText, str,
} from './util.js'

const WHERE = 'Checkmarx XML report'
const WHERE_JSON = 'Checkmarx JSON report'
const MAX_MERGED_DETAILS = 10
const MAX_LINES = 20
const STATE: Record<string, string> = {
  '0': 'To Verify', '1': 'Not Exploitable', '2': 'Confirmed', '3': 'Urgent', '4': 'Proposed Not Exploitable',
}

function detect(doc: ScanDocument): number {
  if (doc.kind === 'xml') return doc.xmlRoot === 'CxXMLResults' ? 1 : 0
  if (doc.kind === 'json') {
    const keys = jsonKeys(doc)
    return keys.has('scanResults') && isObject((doc.json as Record<string, unknown>).scanResults) ? 0.8 : 0
  }
  return 0
}

interface NodeInfo { file?: string | undefined; line?: number | undefined; object?: string | undefined }

function nodeInfo(node: XmlNode | undefined): NodeInfo {
  return { file: childText(node, 'FileName'), line: num(childText(node, 'Line')), object: childText(node, 'Name') }
}

function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'))
  return i < 0 ? path : path.slice(i + 1)
}

interface Aggregate { finding: ParsedFinding; queryIds: string[]; lines: number[]; allFalsePositive: boolean; details: number }

function parseXml(doc: ScanDocument): ParseResult {
  const root = doc.xml?.CxXMLResults
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <CxXMLResults> has an unexpected shape`)
  const assets = new AssetCollector()
  const project = attr(root, 'ProjectName')
  const assetKey = assets.add('CODE', { scannerSource: project ?? doc.filename })
  const dupes = new Map<string, Aggregate>()

  for (const [qi, query] of children(root, 'Query').entries()) {
    const queryName = attr(query, 'name')
    if (!queryName) throw new ScanFormatError(`${WHERE}: <Query> ${qi + 1} has no name attribute`)
    const titleStart = queryName.replace(/_/g, ' ')
    const cweText = attr(query, 'cweId')
    const cwe = num(cweText)
    const queryId = attr(query, 'id')
    const language = attr(query, 'Language')
    const group = attr(query, 'group')?.replace(/_/g, ' ')
    const categories = attr(query, 'categories')

    for (const result of children(query, 'Result')) {
      const pathNodes = children(children(result, 'Path')[0], 'PathNode')
      const source = pathNodes.length ? nodeInfo(pathNodes[0]) : { file: attr(result, 'FileName'), line: num(attr(result, 'Line')) }
      const sink = pathNodes.length ? nodeInfo(pathNodes[pathNodes.length - 1]) : source
      const sinkFile = sink.file
      const title = sinkFile ? `${titleStart} (${basename(sinkFile)})` : titleStart
      const sevText = attr(result, 'Severity') ?? attr(query, 'Severity')
      const severity: Severity = severityFromText(sevText) ?? 'info'
      const state = attr(result, 'state')
      const falsePositive = attr(result, 'FalsePositive') === 'True' || state === '1'
      const deepLink = attr(result, 'DeepLink')

      const detail = [
        categories ? `Category: ${categories}` : undefined,
        language ? `Language: ${language}` : undefined,
        group ? `Group: ${group}` : undefined,
        attr(result, 'Status') ? `Status: ${attr(result, 'Status')}` : undefined,
        state !== undefined ? `State: ${STATE[state] ?? state}` : undefined,
        deepLink ? `Finding link: ${deepLink}` : undefined,
        `Source file: ${source.file ?? '?'} (line ${source.line ?? '?'})`,
        `Source object: ${source.object ?? '?'}`,
        `Sink file: ${sink.file ?? '?'} (line ${sink.line ?? '?'})`,
        `Sink object: ${sink.object ?? '?'}`,
      ].filter((l) => l !== undefined).join('\n')

      const key = `${cweText ?? ''}\u0000${sevText ?? ''}\u0000${sinkFile ?? ''}`
      const agg = dupes.get(key)
      if (agg) {
        const f = agg.finding
        f.occurrences = (f.occurrences ?? 1) + 1
        if (queryId && !agg.queryIds.includes(queryId)) agg.queryIds.push(queryId)
        if (sink.line !== undefined && agg.lines.length < MAX_LINES && !agg.lines.includes(sink.line)) agg.lines.push(sink.line)
        if (!falsePositive) agg.allFalsePositive = false
        agg.details++
        if (agg.details <= MAX_MERGED_DETAILS) {
          if (f.occurrences === 2) f.description = `1. ${f.title}\n${f.description ?? ''}`
          f.description = `${f.description ?? ''}\n\n-----\n${f.occurrences}. ${title}\n${detail}`
        }
        if (deepLink && (f.references?.length ?? 0) < MAX_LINES) (f.references ??= []).push(deepLink)
        continue
      }
      const finding: ParsedFinding = {
        assetKey,
        title,
        severity,
        scannerSeverity: sevText ?? 'unknown',
        description: detail,
        ...(cwe !== undefined && cwe > 0 ? { cwe: [cwe] } : {}),
        ...(sinkFile ? { location: { path: sinkFile } } : {}),
        ...(deepLink ? { references: [deepLink] } : {}),
      }
      if (language) finding.tags = [language]
      dupes.set(key, {
        finding,
        queryIds: queryId ? [queryId] : [],
        lines: sink.line !== undefined ? [sink.line] : [],
        allFalsePositive: falsePositive,
        details: 1,
      })
    }
  }

  const findings: ParsedFinding[] = []
  for (const agg of dupes.values()) {
    const f = agg.finding
    if (agg.queryIds.length) f.ruleId = agg.queryIds.join(',')
    if (agg.allFalsePositive) {
      f.status = 'false_positive'
      f.statusReason = 'Checkmarx: marked false positive / not exploitable'
    }
    f.extra = { ...(agg.lines.length ? { sinkLines: agg.lines } : {}), ...(project ? { project } : {}) }
    if (Object.keys(f.extra).length === 0) delete f.extra
    findings.push(f)
  }
  return { assets: assets.list(), findings }
}

function parseJson(doc: ScanDocument): ParseResult {
  const data = doc.json
  if (!isObject(data) || !isObject(data.scanResults)) throw new ScanFormatError(`${WHERE_JSON}: expected an object with "scanResults"`)
  const assets = new AssetCollector()
  const assetKey = assets.add('CODE', { scannerSource: str(data.projectName) ?? str(data.projectId) ?? doc.filename })
  const findings: ParsedFinding[] = []
  for (const [resultType, results] of Object.entries(data.scanResults)) {
    if (!isObject(results)) continue
    for (const language of asArray(results.languages as unknown[])) {
      if (!isObject(language)) throw new ScanFormatError(`${WHERE_JSON}: a "languages" entry of ${resultType} is not an object`)
      for (const query of asArray(language.queries as unknown[])) {
        if (!isObject(query)) continue
        const title = str(query.queryName)?.replace(/_/g, ' ')
        if (!title) throw new ScanFormatError(`${WHERE_JSON}: a query of ${resultType} has no queryName`)
        const description = str(query.description)
        for (const v of asArray(query.vulnerabilities as unknown[])) {
          if (!isObject(v)) continue
          const sevText = str(v.severity)
          const nodes = asArray(v.nodes as unknown[])
          const last = nodes[nodes.length - 1]
          const cwe = num(v.cweId)
          const status = str(v.status)
          const finding: ParsedFinding = {
            assetKey,
            title,
            severity: severityFromText(sevText) ?? 'info',
            scannerSeverity: sevText ?? 'unknown',
            tags: [resultType],
            ...(description ? { description } : {}),
            ...(cwe !== undefined && cwe > 0 ? { cwe: [cwe] } : {}),
            ...(str(v.id) ? { uniqueId: str(v.id)! } : {}),
            ...(str(query.queryId) ? { ruleId: str(query.queryId)! } : {}),
          }
          if (isObject(last)) {
            const path = str(last.fileName)
            const line = num(last.line)
            finding.location = { ...(path ? { path } : {}), ...(line !== undefined ? { line } : {}) }
          }
          if (status === 'Not exploitable') {
            finding.status = 'false_positive'
            finding.statusReason = 'Checkmarx status: Not exploitable'
          }
          findings.push(finding)
        }
      }
    }
  }
  return { assets: assets.list(), findings }
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind === 'xml' && doc.xmlRoot === 'CxXMLResults') return parseXml(doc)
  if (doc.kind === 'json') return parseJson(doc)
  throw new ScanFormatError(`${WHERE}: expected a <CxXMLResults> XML document (or a Checkmarx JSON export with "scanResults")`)
}

export const parser: ScannerParser = {
  id: 'checkmarx',
  label: 'Checkmarx CxSAST',
  aliases: ['checkmarx_scan', 'cxsast'],
  formats: ['xml', 'json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
