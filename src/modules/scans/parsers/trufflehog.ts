/**
 * TruffleHog JSON output (DefectDojo's "Trufflehog Scan"), one JSON object per line:
 * - v2 (`trufflehog --json`): {path, reason, stringsFound, commit, commitHash, branch, date, diff}; title
 *   "Hard Coded {reason} in: {path}", merged by path + reason (one finding per file and rule).
 * - v3 (`trufflehog … --json`): {SourceMetadata: {Data: {Git|Github|Filesystem|…: {file, line, commit, repository,
 *   link, …}}}, DetectorName, Verified, Raw, Redacted, …}; title "Hard Coded {DetectorName} secret in: {file}",
 *   merged by file + detector + line + commit + raw secret. Verified secrets are Critical.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { asArray, AssetCollector, firstRecord, isObject, num, ScanFormatError, str } from './util.js'
import { jsonRecords, maskSecret, SECRET_CWE, SECRET_REMEDY } from './js-secrets-common.js'

const WHERE = 'TruffleHog report'

function isV3(r: unknown): r is Record<string, unknown> {
  return isObject(r) && isObject(r.SourceMetadata) && ('DetectorName' in r || 'DetectorType' in r)
}

function isV2(r: unknown): r is Record<string, unknown> {
  return isObject(r) && typeof r.path === 'string' && typeof r.reason === 'string' && ('stringsFound' in r || 'commitHash' in r)
}

function detect(doc: ScanDocument): number {
  // v2/v3 write JSON lines; a one-line file loads as a single object. An array is trufflehog3's layout.
  if (doc.kind !== 'jsonl' && !(doc.kind === 'json' && isObject(doc.json))) return 0
  const first = firstRecord(doc)
  if (isV3(first)) return 1
  if (isV2(first)) return 0.95
  return 0
}

function v2Severity(reason: string): Severity {
  if (reason === 'High Entropy') return 'info'
  if (reason.includes('Oauth') || reason.includes('AWS') || reason.includes('Heroku')) return 'critical'
  if (reason === 'Generic Secret') return 'medium'
  return 'high'
}

function v3Severity(detector: string, verified: boolean): Severity {
  if (verified) return 'critical'
  if (detector.includes('Oauth') || detector.includes('AWS') || detector.includes('Heroku')) return 'critical'
  if (detector === 'PrivateKey') return 'high'
  if (detector === 'Generic Secret') return 'medium'
  return 'critical' // DefectDojo's default for any other detector
}

function firstLine(s: string | undefined): string | undefined {
  return s?.split('\n', 1)[0]
}

function parseV2(records: unknown[], assets: AssetCollector, doc: ScanDocument): ParsedFinding[] {
  const byKey = new Map<string, ParsedFinding>()
  let assetKey: string | undefined
  for (const [i, r] of records.entries()) {
    if (!isV2(r)) throw new ScanFormatError(`${WHERE}: line ${i + 1} is not a TruffleHog v2 record (needs "path" and "reason")`)
    const path = r.path as string
    const reason = r.reason as string
    const key = `${path}\u0000${reason}`
    const commitHash = str(r.commitHash)
    const strings = asArray(r.stringsFound).map((s) => str(s)).filter((s): s is string => s !== undefined)
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      const commits = prev.extra?.commits as string[] | undefined
      if (commitHash && commits && commits.length < 20 && !commits.includes(commitHash)) commits.push(commitHash)
      continue
    }
    assetKey ??= assets.add('CODE', { scannerSource: doc.filename || 'trufflehog' })
    const lines = [
      `Commit: ${firstLine(str(r.commit)) ?? 'unknown'}`,
      ...(commitHash ? [`Commit hash: ${commitHash}`] : []),
      ...(str(r.date) ? [`Commit date: ${str(r.date)}`] : []),
      ...(str(r.branch) ? [`Branch: ${str(r.branch)}`] : []),
      `Reason: ${reason}`,
      `Path: ${path}`,
    ]
    if (strings.length) lines.push('Strings found:', ...strings.slice(0, 10).map((s) => `  ${maskSecret(s) ?? ''}`))
    byKey.set(key, {
      assetKey,
      title: `Hard Coded ${reason} in: ${path}`,
      description: lines.join('\n'),
      remedy: SECRET_REMEDY,
      severity: v2Severity(reason),
      scannerSeverity: reason,
      cwe: [SECRET_CWE],
      location: { path },
      ruleId: reason,
      occurrences: 1,
      extra: { commits: commitHash ? [commitHash] : [] },
    })
  }
  return [...byKey.values()]
}

function parseV3(records: unknown[], assets: AssetCollector, doc: ScanDocument): ParsedFinding[] {
  const byKey = new Map<string, ParsedFinding>()
  for (const [i, r] of records.entries()) {
    if (!isV3(r)) throw new ScanFormatError(`${WHERE}: line ${i + 1} is not a TruffleHog v3 record (needs "SourceMetadata" and "DetectorName")`)
    const data = isObject(r.SourceMetadata) && isObject(r.SourceMetadata.Data) ? r.SourceMetadata.Data : {}
    const sourceName = Object.keys(data)[0]
    const src = sourceName && isObject(data[sourceName]) ? (data[sourceName] as Record<string, unknown>) : {}
    const file = str(src.file) ?? ''
    const detector = str(r.DetectorName) ?? ''
    const line = num(src.line) ?? 0
    const commit = str(src.commit) ?? ''
    const raw = (typeof r.Raw === 'string' ? r.Raw : '') + (typeof r.RawV2 === 'string' ? r.RawV2 : '')
    const key = `${file}\u0000${detector}\u0000${line}\u0000${commit}\u0000${raw}`
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      continue
    }
    const repository = str(src.repository)
    const link = str(src.link)
    const assetKey = repository
      ? assets.add('REPOSITORY', { repository })
      : assets.add('CODE', { scannerSource: doc.filename || 'trufflehog' })
    const verified = r.Verified === true
    const lines = [
      ...(repository ? [`Repository: ${repository}`] : []),
      ...(link ? [`Link: ${link}`] : []),
      ...(commit ? [`Commit hash: ${commit}`] : []),
      ...(str(src.timestamp) ? [`Commit date: ${str(src.timestamp)}`] : []),
      `Detector: ${detector}`,
      `Verified: ${verified ? 'yes' : 'no'}`,
      `Path: ${file}`,
      ...(str(r.Redacted) ? [`Contents (redacted): ${maskSecret(str(r.Redacted))}`] : []),
    ]
    const extraData = isObject(r.ExtraData) ? r.ExtraData : undefined
    if (extraData) {
      const pairs = Object.entries(extraData).filter(([, v]) => typeof v !== 'object' || v === null).slice(0, 10)
      if (pairs.length) lines.push('Extra data:', ...pairs.map(([k, v]) => `  ${k}: ${String(v)}`))
    }
    byKey.set(key, {
      assetKey,
      title: `Hard Coded ${detector} secret in: ${file}`,
      description: lines.join('\n'),
      remedy: link ? `${SECRET_REMEDY}\nSee the commit: ${link}` : SECRET_REMEDY,
      severity: v3Severity(detector, verified),
      cwe: [SECRET_CWE],
      location: { path: file, ...(line ? { line } : {}), ...(link ? { url: link } : {}) },
      ruleId: detector,
      ...(link ? { references: [link] } : {}),
      ...(verified ? { tags: ['verified'] } : {}),
      occurrences: 1,
      extra: {
        verified,
        ...(sourceName ? { source: sourceName } : {}),
        ...(commit ? { commit } : {}),
        ...(str(r.DecoderName) ? { decoder: str(r.DecoderName) } : {}),
      },
    })
  }
  return [...byKey.values()]
}

function parse(doc: ScanDocument): ParseResult {
  if (doc.kind !== 'jsonl' && doc.kind !== 'json') throw new ScanFormatError(`${WHERE}: expected JSON lines`)
  if (doc.kind === 'json' && Array.isArray(doc.json)) {
    throw new ScanFormatError(`${WHERE}: a JSON array is not TruffleHog's output (one object per line); trufflehog3 writes arrays`)
  }
  const records = jsonRecords(doc)
  const assets = new AssetCollector()
  if (records.length === 0) return { assets: [], findings: [] }
  const first = records[0]
  const findings = isV3(first) ? parseV3(records, assets, doc)
    : isV2(first) ? parseV2(records, assets, doc)
    : (() => { throw new ScanFormatError(`${WHERE}: the first record is neither TruffleHog v3 ("SourceMetadata", "DetectorName") nor v2 ("path", "reason")`) })()
  return { assets: assets.list(), findings }
}

export const parser: ScannerParser = {
  id: 'trufflehog',
  label: 'TruffleHog (v2 and v3)',
  aliases: ['Trufflehog Scan', 'trufflehog_v3'],
  formats: ['json', 'jsonl'],
  defaultAssetType: 'REPOSITORY',
  detect,
  parse,
}
