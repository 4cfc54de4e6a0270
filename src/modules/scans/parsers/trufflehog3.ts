/**
 * trufflehog3 (feeltheajf/truffleHog3) JSON output: an array. DefectDojo's "Trufflehog3 Scan" reads two layouts:
 * - legacy (v2-like): {path, reason, stringsFound, commit, commitHash, branch, date}; title "Hard Coded {reason} in:
 *   {path}", merged by path + reason;
 * - current (3.x): {rule: {id, message, severity}, path, line, secret, context, id, branch, commit, message, date};
 *   title "{rule.message} found in {path}", severity from the rule, merged by title + secret + severity + line.
 */
import type { ParsedFinding, ParseResult, ScanDocument, ScannerParser, Severity } from './types.js'
import { AssetCollector, isObject, num, ScanFormatError, severityFromText, str, strings } from './util.js'
import { maskSecret, SECRET_CWE, SECRET_REMEDY } from './js-secrets-common.js'

const WHERE = 'trufflehog3 report'

function isCurrent(r: unknown): r is Record<string, unknown> {
  return isObject(r) && isObject(r.rule) && ('message' in r.rule || 'id' in r.rule) && 'path' in r
}

function isLegacy(r: unknown): r is Record<string, unknown> {
  return isObject(r) && typeof r.reason === 'string' && typeof r.path === 'string' && ('stringsFound' in r || 'commitHash' in r)
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !Array.isArray(doc.json)) return 0
  const first: unknown = doc.json[0]
  if (first === undefined) return 0.02 // `[]`: trufflehog3's empty report, but many tools write it: the weakest claim
  if (isCurrent(first)) return 1
  if (isLegacy(first)) return 0.95
  return 0
}

function legacySeverity(reason: string): Severity {
  if (reason === 'High Entropy') return 'info'
  if (reason.includes('Oauth') || reason.includes('AWS') || reason.includes('Heroku')) return 'critical'
  if (reason === 'Generic Secret') return 'medium'
  return 'high'
}

function parse(doc: ScanDocument): ParseResult {
  const root = doc.json
  if (!Array.isArray(root)) throw new ScanFormatError(`${WHERE}: expected a JSON array of findings`)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let assetKey: string | undefined
  const asset = () => (assetKey ??= assets.add('CODE', { scannerSource: doc.filename || 'trufflehog3' }))

  for (const [i, r] of root.entries()) {
    if (isObject(r) && str(r.reason)) {
      if (!isLegacy(r)) throw new ScanFormatError(`${WHERE}: finding ${i + 1} has a "reason" but no "path"`)
      const path = r.path as string
      const reason = r.reason as string
      const key = `L\u0000${path}\u0000${reason}`
      const prev = byKey.get(key)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        continue
      }
      const found = strings(r.stringsFound)
      const lines = [
        `Commit: ${str(r.commit)?.split('\n', 1)[0] ?? 'unknown'}`,
        ...(str(r.commitHash) ? [`Commit hash: ${str(r.commitHash)}`] : []),
        ...(str(r.date) ? [`Commit date: ${str(r.date)}`] : []),
        ...(str(r.branch) ? [`Branch: ${str(r.branch)}`] : []),
        `Reason: ${reason}`,
        `Path: ${path}`,
      ]
      if (found.length) lines.push('Strings found:', ...found.slice(0, 10).map((s) => `  ${s.length > 300 ? `${s.slice(0, 300)}…` : s}`))
      byKey.set(key, {
        assetKey: asset(),
        title: `Hard Coded ${reason} in: ${path}`,
        description: lines.join('\n'),
        remedy: SECRET_REMEDY,
        severity: legacySeverity(reason),
        scannerSeverity: reason,
        cwe: [SECRET_CWE],
        location: { path },
        ruleId: reason,
        occurrences: 1,
        ...(str(r.commitHash) ? { extra: { commit: str(r.commitHash) } } : {}),
      })
    } else if (isObject(r) && isObject(r.rule)) {
      const rule = r.rule
      const message = str(rule.message) ?? str(rule.id) ?? 'Secret'
      const severityWord = str(rule.severity)
      const path = str(r.path) ?? ''
      const lineNo = num(r.line)
      const line = lineNo ? Math.trunc(lineNo) : 0
      const secret = typeof r.secret === 'string' ? r.secret : ''
      const title = `${message} found in ${path}`
      const key = `C\u0000${title}\u0000${secret}\u0000${severityWord ?? ''}\u0000${line}`
      const prev = byKey.get(key)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        continue
      }
      const lines = [`Secret: ${maskSecret(secret) ?? '(none)'}`]
      const context = isObject(r.context) ? r.context : undefined
      if (context) {
        lines.push('Context:')
        for (const [k, v] of Object.entries(context).slice(0, 10)) {
          const text = String(v).replaceAll('\u0000', '\uFFFD')
          lines.push(`  ${k}: ${(text.length > 300 ? `${text.slice(0, 300)}…` : text).split(secret || '\u0000').join(maskSecret(secret) ?? '')}`)
        }
      }
      if (str(r.branch)) lines.push(`Branch: ${str(r.branch)}`)
      const commitMessage = str(r.message)
      if (commitMessage) lines.push(commitMessage.includes('\n') ? `Commit message:\n${commitMessage}` : `Commit message: ${commitMessage}`)
      if (str(r.commit)) lines.push(`Commit hash: ${str(r.commit)}`)
      if (str(r.date)) lines.push(`Commit date: ${str(r.date)}`)
      byKey.set(key, {
        assetKey: asset(),
        title,
        description: lines.join('\n'),
        remedy: SECRET_REMEDY,
        severity: severityFromText(severityWord) ?? 'medium',
        ...(severityWord ? { scannerSeverity: severityWord } : {}),
        cwe: [SECRET_CWE],
        location: { path, ...(line ? { line } : {}) },
        ...(str(rule.id) ? { ruleId: str(rule.id)! } : {}),
        ...(str(r.id) ? { uniqueId: str(r.id)! } : {}),
        occurrences: 1,
        ...(str(r.commit) ? { extra: { commit: str(r.commit) } } : {}),
      })
    } else {
      throw new ScanFormatError(`${WHERE}: finding ${i + 1} is in neither trufflehog3 layout (needs "reason" or a "rule" object)`)
    }
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'trufflehog3',
  label: 'trufflehog3',
  aliases: ['Trufflehog3 Scan'],
  formats: ['json'],
  defaultAssetType: 'CODE',
  detect,
  parse,
}
