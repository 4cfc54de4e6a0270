/**
 * Burp Dastardly XML (JUnit-style: `<testsuites><testsuite name="{url}" failures="n"><testcase><failure
 * message="{issue} found at {url}" type="{severity}">{text report}`). DefectDojo's "Burp Dastardly Scan": one finding
 * per `<failure>` of a test suite with failures, title = `message`, severity = `type`, url = the suite name. The
 * failure text is split into its sections (Issue Detail, Issue Background, Remediation…, References, Vulnerability
 * Classifications). One WEB asset per origin.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { attr, children, isObject, num, parseCwe, ScanFormatError, severityFromText, str } from './util.js'
import { joinBlocks, referenceUrls, requestMethod, urlLocation, WebAssets } from './dast-common.js'

const WHERE = 'Burp Dastardly report'
const HEADINGS = new Set([
  'Issue Detail', 'Issue Background', 'Issue Remediation', 'Remediation Detail', 'Remediation Background', 'Evidence',
  'References', 'Vulnerability Classifications',
])
const FIELD = /^(Severity|Confidence|Host|Path):\s*(.*)$/

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'testsuites') return 0
  const root = doc.xml?.testsuites
  if (attr(root, 'name')?.startsWith('Dastardly')) return 1
  // A JUnit file whose suites are URLs and whose failures carry a severity word as their type.
  const suites = children(root, 'testsuite')
  const first = suites[0]
  if (first && /^https?:\/\//i.test(attr(first, 'name') ?? '')) return 0.6
  return 0
}

interface Sections { fields: Record<string, string>; blocks: Map<string, string> }

/** Splits Dastardly's plain-text issue report into its header fields and its titled sections. */
function sections(text: string): Sections {
  const fields: Record<string, string> = {}
  const blocks = new Map<string, string>()
  let current: string | undefined
  let buf: string[] = []
  const flush = () => {
    if (current) {
      const body = buf.join('\n').trim()
      if (body) blocks.set(current, body)
    }
    buf = []
  }
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim()
    if (HEADINGS.has(trimmed)) {
      flush()
      current = trimmed
      continue
    }
    if (!current) {
      const m = FIELD.exec(trimmed)
      if (m?.[1] && m[2] !== undefined) fields[m[1]] = m[2].trim()
      continue
    }
    buf.push(line)
  }
  flush()
  return { fields, blocks }
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'xml' || doc.xmlRoot !== 'testsuites') throw new ScanFormatError(`${WHERE}: expected a JUnit-style <testsuites> XML document`)
  const root = doc.xml?.testsuites
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <testsuites> has an unexpected shape`)
  const assets = new WebAssets(doc.filename)
  const findings: ParsedFinding[] = []

  for (const [si, suite] of children(root, 'testsuite').entries()) {
    const failures = attr(suite, 'failures')
    if (failures !== undefined && num(failures) === undefined) throw new ScanFormatError(`${WHERE}: test suite ${si + 1} has a non-numeric failures attribute "${failures}"`)
    if (failures !== undefined && num(failures) === 0) continue
    const suiteUrl = attr(suite, 'name')
    for (const testcase of children(suite, 'testcase')) {
      for (const failure of children(testcase, 'failure')) {
        const title = attr(failure, 'message') ?? attr(testcase, 'name')
        if (!title) throw new ScanFormatError(`${WHERE}: a failure of test suite ${si + 1} has no message`)
        const text = str(failure) ?? ''
        const { fields, blocks } = sections(text)
        const sevText = attr(failure, 'type') ?? fields.Severity
        const host = fields.Host
        const url = host && fields.Path !== undefined ? `${host}${fields.Path}` : suiteUrl
        const evidence = blocks.get('Evidence')
        const requestLine = evidence?.replace(/^Request:\s*/, '')

        const finding: ParsedFinding = {
          assetKey: assets.add(host ?? suiteUrl),
          title,
          severity: severityFromText(sevText) ?? 'info',
          scannerSeverity: sevText ?? 'Info',
          location: urlLocation(url, requestMethod(requestLine)),
        }
        const ruleId = attr(testcase, 'name')
        if (ruleId) finding.ruleId = ruleId
        const description = blocks.size
          ? joinBlocks(blocks.get('Issue Detail'), ['Issue background', blocks.get('Issue Background')])
          : text.trim() || undefined
        if (description) finding.description = description
        const remedy = joinBlocks(blocks.get('Issue Remediation'), blocks.get('Remediation Detail'), blocks.get('Remediation Background'))
        if (remedy) finding.remedy = remedy
        const refs = referenceUrls(blocks.get('References'))
        if (refs.length) finding.references = refs
        const cwe = parseCwe(blocks.get('Vulnerability Classifications'))
        if (cwe.length) finding.cwe = cwe
        const extra: Record<string, unknown> = {}
        if (fields.Confidence) extra.confidence = fields.Confidence
        if (suiteUrl && suiteUrl !== url) extra.testedUrl = suiteUrl
        if (Object.keys(extra).length) finding.extra = extra
        findings.push(finding)
      }
    }
  }
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'burp_dastardly',
  label: 'Burp Dastardly (XML)',
  aliases: ['dastardly'],
  formats: ['xml'],
  defaultAssetType: 'WEB',
  detect,
  parse,
}
