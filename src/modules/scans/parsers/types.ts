/**
 * The contract between scanner parsers and the import pipeline.
 *
 * A parser reads one already-loaded scanner report (`ScanDocument`: the file parsed once as JSON, JSON lines,
 * XML or CSV) and returns the assets and findings in it, in the tool's own terms mapped onto ours. It does not
 * touch the database, compute fingerprints or Phoenix payloads: the pipeline (`../normalize.ts`) does that for
 * every parser alike. Parsers are pure and synchronous; one file per scanner format, listed in `./index.ts`.
 *
 * Counting rule: a parser returns the findings DefectDojo's parser of the same format returns for the same file
 * (its unit tests' `len(findings)`), including its in-file merging (e.g. Grype merges one vulnerability in one
 * package version found at several paths). Where we deliberately differ, the corpus test records why.
 */
import type { Severity } from '../../findings/severity.js'

export type { Severity } from '../../findings/severity.js'

/** Phoenix's asset types: one per upload in Phoenix, chosen by the parser or the `asset_type` form field. */
export const ASSET_TYPES = ['INFRA', 'WEB', 'CLOUD', 'CONTAINER', 'REPOSITORY', 'CODE', 'BUILD'] as const
export type AssetType = (typeof ASSET_TYPES)[number]

/**
 * What identifies an asset. Required per type (Phoenix): INFRA ip or hostname; WEB ip or fqdn (or url);
 * CLOUD provider + account (+ region, resource); CONTAINER image or dockerfile; REPOSITORY repository;
 * CODE scannerSource; BUILD buildFile. Fill every attribute the report gives, not only the required ones.
 */
export interface AssetAttributes {
  ip?: string
  hostname?: string
  fqdn?: string
  netbios?: string
  mac?: string
  os?: string
  /** WEB: base URL (scheme://host[:port]). */
  url?: string
  /** CLOUD */
  provider?: string
  account?: string
  region?: string
  resource?: string
  /** CONTAINER: image reference (name[:tag][@digest]). */
  image?: string
  dockerfile?: string
  /** REPOSITORY: repository URL or name. */
  repository?: string
  /** CODE: the scanned source root / project (file paths of findings are relative to it). */
  scannerSource?: string
  /** BUILD: manifest or lock file (package-lock.json, pom.xml, …) or project name. */
  buildFile?: string
}

export interface ParsedAsset {
  /** Unique within one ParseResult; findings point at it. Build with `AssetCollector` (./util.ts). */
  key: string
  type: AssetType
  attributes: AssetAttributes
  /** Tags the report carries for the asset (e.g. Tenable/Qualys tags, k8s namespace). */
  tags?: string[]
}

export type ScanFindingStatus = 'active' | 'mitigated' | 'false_positive' | 'risk_accepted'

export interface ParsedFinding {
  assetKey: string
  title: string
  description?: string
  /** Remediation text (Phoenix `remedy`). */
  remedy?: string
  /** Version that fixes it, when the report says. */
  fixVersion?: string
  severity: Severity
  /** The tool's own severity word or number, as written in the report. */
  scannerSeverity?: string
  /** CVE-…, GHSA-…, and other advisory ids (first = primary). */
  vulnerabilityIds?: string[]
  cwe?: number[]
  cvss?: { vector?: string; score?: number; version?: string }
  epss?: { score: number; percentile?: number }
  component?: { name: string; version?: string; purl?: string; ecosystem?: string }
  location?: {
    path?: string
    line?: number
    endLine?: number
    url?: string
    method?: string
    param?: string
    port?: number
    protocol?: string
  }
  /** The scanner's rule / check / plugin / QID id. */
  ruleId?: string
  /** Default `active`. VEX, suppressions, tool-side ignores set the others. */
  status?: ScanFindingStatus
  statusReason?: string
  references?: string[]
  /** An id the tool guarantees stable for this finding (SARIF fingerprint, secret hash, …); preferred for dedupe. */
  uniqueId?: string
  tags?: string[]
  /** How many report entries the parser merged into this finding (default 1). */
  occurrences?: number
  /** Small tool-specific facts worth keeping (kept in findings.metadata.extra). No raw blobs. */
  extra?: Record<string, unknown>
}

export interface ParseResult {
  assets: ParsedAsset[]
  findings: ParsedFinding[]
}

export interface ParseContext {
  /** `fix_data`: repair known format quirks; report every repair with `repair()` (it lands in the job log). */
  readonly fixData: boolean
  repair(message: string): void
  /** Something skipped or assumed, for the job log (not an error). */
  warn(message: string): void
}

export type DocumentKind = 'json' | 'jsonl' | 'xml' | 'csv'

/** A parsed XML element as produced by fast-xml-parser: attributes as `@_name`, text as `#text`. */
export type XmlNode = Record<string, unknown>

export interface CsvTable {
  /** Header cells as written (trimmed, BOM removed). */
  header: string[]
  rows: Record<string, string>[]
  delimiter: string
}

export interface ScanDocument {
  filename: string
  kind: DocumentKind
  /**
   * kind csv: the whole file as text (UTF-8, BOM removed). For json, jsonl and xml it is '' — those parsers read
   * the parsed `json` / `xml`, and a large report's text is released as soon as it has been parsed.
   */
  text: string
  /** kind json: the parsed value. kind jsonl: the array of parsed lines. Otherwise undefined. */
  json: unknown
  /** kind xml: the document (root element under its name, e.g. doc.xml.NessusClientData_v2). */
  xml: XmlNode | undefined
  /** kind xml: the root element's name. */
  xmlRoot: string | undefined
  /** kind csv: header and rows (parsed on first access). */
  readonly csv: CsvTable | undefined
}

export interface ScannerParser {
  /** Our id (the corpus manifest's `scanner` name), also accepted as `scanner_type`. */
  readonly id: string
  readonly label: string
  /** Other `scanner_type` names that select this parser (e.g. `grype` for anchore_grype). */
  readonly aliases?: readonly string[]
  readonly formats: readonly DocumentKind[]
  readonly defaultAssetType: AssetType
  /**
   * How sure this parser is that the document is its format: 0 = not mine, 1 = certain (a unique marker such as
   * `SchemaVersion` + `ArtifactType`); in between for weaker signals. Cheap: look at the root, not every record.
   * The registry picks the highest score; a file name hint may break ties.
   */
  detect(doc: ScanDocument): number
  /** Throws ScanFormatError (./util.ts) for a document it cannot read, naming the problem. */
  parse(doc: ScanDocument, ctx: ParseContext): ParseResult
}
