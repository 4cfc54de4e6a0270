/**
 * Loads a scanner report once into a ScanDocument: sniffs JSON / JSON lines / XML / CSV from the content (the
 * extension is not trusted), parses it, and refuses what no parser should see: empty and binary files, XML that
 * declares entities (XXE, billion laughs), truncated JSON or XML.
 */
import { parse as parseCsv } from 'csv-parse/sync'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { CsvTable, DocumentKind, ScanDocument, XmlNode } from './types.js'
import { EmptyReportError, ScanFormatError } from './util.js'

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Only the five predefined XML entities and character references; documents declaring entities are refused
  // before parsing, so no expansion of user-defined entities can happen.
  processEntities: true,
  htmlEntities: false,
  removeNSPrefix: false,
})

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/**
 * Text of a report: UTF-8, or UTF-16 when it starts with a UTF-16 byte-order mark (PowerShell's `>` writes
 * UTF-16LE, so Windows users' reports often arrive that way).
 */
function decode(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le')
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const body = Buffer.from(buf.subarray(2, buf.length - (buf.length % 2)))
    return body.swap16().toString('utf16le')
  }
  return buf.toString('utf8')
}

function looksBinary(buf: Buffer): boolean {
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) return false
  const n = Math.min(buf.length, 8192)
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true
  return false
}

function firstChar(text: string): string {
  const m = /\S/.exec(text)
  return m ? m[0] : ''
}

function jsonError(err: unknown, text: string): ScanFormatError {
  const msg = (err as Error).message
  const truncated = /end of (JSON )?input|Unterminated/i.test(msg)
  return new ScanFormatError(truncated
    ? `The JSON document is truncated (ends after ${text.length} characters)`
    : `The file is not valid JSON: ${msg}`)
}

function tryJsonLines(text: string): unknown[] | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (lines.length < 1) return undefined
  const out: unknown[] = []
  for (const [i, line] of lines.entries()) {
    const c = firstChar(line)
    if (c !== '{' && c !== '[') return undefined
    try {
      out.push(JSON.parse(line))
    } catch (err) {
      // A last line cut off mid-write is the common truncation of JSONL streams; anything else is not JSONL.
      if (i === lines.length - 1 && i > 0) throw new ScanFormatError(`The JSON lines file is truncated: line ${i + 1} is incomplete`)
      return undefined
    }
  }
  return out
}

function loadXml(text: string): { xml: XmlNode; root: string } {
  // Entity declarations are what XXE and entity-expansion bombs need; no scanner format uses them.
  const rootStart = text.search(/<[A-Za-z_]/)
  const prolog = rootStart < 0 ? text : text.slice(0, rootStart)
  if (/<!ENTITY/i.test(prolog)) {
    throw new ScanFormatError('XML documents that declare entities (<!ENTITY>) are refused: they are used for XXE and entity-expansion attacks')
  }
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: true })
  if (valid !== true) {
    const e = valid.err
    throw new ScanFormatError(`The XML document is not well-formed: ${e.msg} (line ${e.line}, column ${e.col})`)
  }
  const xml = xmlParser.parse(text) as XmlNode
  const root = Object.keys(xml).find((k) => !k.startsWith('?') && !k.startsWith('#') && !k.startsWith('!'))
  if (!root) throw new ScanFormatError('The XML document has no root element')
  return { xml, root }
}

function sniffDelimiter(headerLine: string): string {
  const counts = [',', ';', '\t', '|'].map((d) => [d, headerLine.split(d).length - 1] as const)
  counts.sort((a, b) => b[1] - a[1])
  return counts[0]![1] > 0 ? counts[0]![0] : ','
}

function loadCsv(text: string): CsvTable {
  const headerLine = text.split(/\r?\n/, 1)[0] ?? ''
  const delimiter = sniffDelimiter(headerLine)
  let records: string[][]
  try {
    records = parseCsv(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true }) as string[][]
  } catch (err) {
    throw new ScanFormatError(`The CSV file could not be read: ${(err as Error).message}`)
  }
  const header = (records[0] ?? []).map((h) => h.trim())
  const rows = records.slice(1).map((r) => {
    const row: Record<string, string> = {}
    header.forEach((h, i) => { row[h] = r[i] ?? '' })
    return row
  })
  return { header, rows, delimiter }
}

/** Parses `content` (a whole report) into a ScanDocument, or throws ScanFormatError naming the problem. */
export function loadDocument(filename: string, content: Buffer | string): ScanDocument {
  if (typeof content !== 'string' && looksBinary(content)) {
    throw new ScanFormatError('The file is binary, not a scanner report (JSON, XML or CSV expected)')
  }
  const text = stripBom(typeof content === 'string' ? content : decode(content))
  const c = firstChar(text)
  if (c === '') throw new EmptyReportError('The file is empty')
  if (text.trim() === 'null') throw new EmptyReportError('The report is empty (the JSON document is null)')

  let kind: DocumentKind
  let json: unknown
  let xml: XmlNode | undefined
  let xmlRoot: string | undefined
  if (c === '{' || c === '[') {
    try {
      json = JSON.parse(text)
      kind = 'json'
    } catch (err) {
      const lines = tryJsonLines(text)
      if (!lines) throw jsonError(err, text)
      json = lines
      kind = 'jsonl'
    }
    // `[]` is how several scanners say "nothing found"; it carries nothing to detect a format from.
    if (kind === 'json' && Array.isArray(json) && json.length === 0) throw new EmptyReportError('The report is an empty JSON list (no findings)')
  } else if (c === '<') {
    ({ xml, root: xmlRoot } = loadXml(text))
    kind = 'xml'
  } else {
    const headerLine = text.split(/\r?\n/, 1)[0] ?? ''
    if (!/[,;\t|]/.test(headerLine)) throw new ScanFormatError('The file is not JSON, XML or CSV: no recognisable structure')
    kind = 'csv'
  }

  return makeDocument(filename, kind, kind === 'csv' ? text : '', json, xml, xmlRoot)
}

/**
 * Only CSV parsers read the text; for the others holding it would double a large report's memory while it is
 * parsed. (A separate function, so that no closure keeps the caller's text alive.)
 */
function makeDocument(filename: string, kind: DocumentKind, text: string, json: unknown, xml: XmlNode | undefined, xmlRoot: string | undefined): ScanDocument {
  let csv: CsvTable | undefined
  return {
    filename, kind, text, json, xml, xmlRoot,
    get csv() {
      if (kind !== 'csv') return undefined
      csv ??= loadCsv(text)
      return csv
    },
  }
}
