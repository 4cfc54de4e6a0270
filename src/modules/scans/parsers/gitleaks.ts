/**
 * Gitleaks JSON reports (a JSON array; `null` when nothing was found). DefectDojo's "Gitleaks Scan" reads two key
 * layouts:
 * - up to v7 (lower-case keys: rule, offender, file, lineNumber, commit, …): title "Hard Coded {rule}", Critical
 *   for GitHub/AWS/Heroku rules else High, merged by offender + file + line (first kept);
 * - v8+ (Description, RuleID, File, StartLine, Secret, Match, Fingerprint, …): title "Hard coded {Description}
 *   found in {File}", High, merged by title + secret + line (occurrences counted, e.g. one secret in many commits).
 * Secrets are masked in descriptions.
 */
import type { ParseContext, ParsedFinding, ParseResult, ScanDocument, ScannerParser } from './types.js'
import { AssetCollector, asArray, isObject, num, ScanFormatError, str } from './util.js'
import { maskSecret, SECRET_CWE, SECRET_REMEDY } from './js-secrets-common.js'

const WHERE = 'Gitleaks report'

function isLegacy(r: unknown): r is Record<string, unknown> {
  return isObject(r) && typeof r.rule === 'string' && ('offender' in r || 'commitMessage' in r || 'lineNumber' in r)
}

function isCurrent(r: unknown): r is Record<string, unknown> {
  return isObject(r) && typeof r.Description === 'string' && ('RuleID' in r || 'Secret' in r || 'StartLine' in r) && 'File' in r
}

function detect(doc: ScanDocument): number {
  if (doc.kind !== 'json' || !Array.isArray(doc.json)) return 0
  const first: unknown = doc.json[0]
  if (first === undefined) return 0.01 // `[]`: any array-shaped report could be empty; a weak claim only
  if (isCurrent(first)) return 1
  if (isLegacy(first)) return 1
  return 0
}

function redact(text: string, secret: string | undefined): string {
  if (!secret) return text
  return text.split(secret).join(maskSecret(secret) ?? 'REDACTED')
}

function commitLines(commit: string | undefined, date: string | undefined, message: string | undefined, url?: string): string[] {
  const out: string[] = []
  if (commit) out.push(`Commit: ${commit}`)
  if (date && !date.startsWith('0001-01-01')) out.push(`Commit date: ${date}`)
  if (message) {
    const m = message.trimEnd()
    out.push(m.includes('\n') ? `Commit message:\n${m.split('\n').slice(0, 10).join('\n')}` : `Commit message: ${m}`)
  }
  if (url) out.push(`Leak URL: ${url}`)
  return out
}

function parse(doc: ScanDocument, _ctx: ParseContext): ParseResult {
  const root = doc.json
  if (root === null) return { assets: [], findings: [] }
  if (!Array.isArray(root)) throw new ScanFormatError(`${WHERE}: expected a JSON array of leaks`)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  let fallbackKey: string | undefined
  const fallback = () => (fallbackKey ??= assets.add('CODE', { scannerSource: doc.filename || 'gitleaks' }))

  for (const [i, issue] of root.entries()) {
    if (isLegacy(issue)) {
      const rule = issue.rule as string
      const file = str(issue.file)
      if (!file) throw new ScanFormatError(`${WHERE}: leak ${i + 1} has no "file"`)
      const offender = typeof issue.offender === 'string' ? issue.offender : ''
      const line = num(issue.lineNumber)
      const key = `L\u0000${offender}\u0000${file}\u0000${line ?? 'None'}`
      const prev = byKey.get(key)
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        continue
      }
      const repoUrl = str(issue.repoURL)
      const repo = str(issue.repo)
      const assetKey = repoUrl
        ? assets.add('REPOSITORY', { repository: repoUrl })
        : repo && repo !== '.' ? assets.add('REPOSITORY', { repository: repo }) : fallback()
      const lines = commitLines(str(issue.commit), str(issue.date), str(issue.commitMessage), str(issue.leakURL))
      lines.push(`Rule: ${rule}`, `Path: ${file}`)
      if (line !== undefined) lines.push(`Line: ${line}`)
      if (str(issue.operation)) lines.push(`Operation: ${str(issue.operation)}`)
      const text = typeof issue.line === 'string' ? issue.line : undefined
      if (text) lines.push('', 'String found:', redact(text.length > 500 ? `${text.slice(0, 500)}…` : text, offender || undefined))
      const tags = (str(issue.tags) ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')
      byKey.set(key, {
        assetKey,
        title: `Hard Coded ${rule}`,
        description: lines.join('\n'),
        remedy: SECRET_REMEDY,
        severity: rule.includes('Github') || rule.includes('AWS') || rule.includes('Heroku') ? 'critical' : 'high',
        cwe: [SECRET_CWE],
        location: { path: file, ...(line !== undefined ? { line } : {}) },
        ruleId: rule,
        ...(str(issue.leakURL) ? { references: [str(issue.leakURL)!] } : {}),
        ...(tags.length ? { tags } : {}),
        occurrences: 1,
        ...(str(issue.commit) ? { extra: { commit: str(issue.commit) } } : {}),
      })
    } else if (isCurrent(issue)) {
      const reason = issue.Description as string
      const file = str(issue.File) ?? ''
      const startLine = num(issue.StartLine)
      const line = startLine ? Math.trunc(startLine) : 0
      const secret = typeof issue.Secret === 'string' ? issue.Secret : ''
      const title = `Hard coded ${reason} found in ${file}`
      const key = `C\u0000${title}\u0000${secret}\u0000${line}`
      const commit = str(issue.Commit)
      const prev = byKey.get(key)
      const lines = commitLines(commit, str(issue.Date), str(issue.Message))
      if (prev) {
        prev.occurrences = (prev.occurrences ?? 1) + 1
        if (lines.length && prev.occurrences <= 10) prev.description = `${prev.description ?? ''}\n\n***\n\n${lines.join('\n')}`
        continue
      }
      const match = str(issue.Match)
      const head: string[] = []
      if (secret) head.push(`Secret: ${maskSecret(secret)}`)
      if (match) head.push(`Match: ${redact(match.length > 500 ? `${match.slice(0, 500)}…` : match, secret || undefined)}`)
      const ruleId = str(issue.RuleID) ?? 'SECRET_SCANNING'
      head.push(`Rule Id: ${ruleId}`)
      const endLine = num(issue.EndLine)
      const tags = asArray(issue.Tags).map((t) => str(t)).filter((t): t is string => t !== undefined)
      const link = str(issue.Link)
      byKey.set(key, {
        assetKey: fallback(),
        title,
        description: [...head, ...lines].join('\n'),
        remedy: SECRET_REMEDY,
        severity: 'high',
        cwe: [SECRET_CWE],
        location: { path: file, line, ...(endLine !== undefined && endLine !== line ? { endLine } : {}) },
        ruleId,
        ...(str(issue.Fingerprint) ? { uniqueId: str(issue.Fingerprint)! } : {}),
        ...(link ? { references: [link] } : {}),
        ...(tags.length ? { tags } : {}),
        occurrences: 1,
        extra: {
          ...(commit ? { commit } : {}),
          ...(num(issue.Entropy) ? { entropy: num(issue.Entropy) } : {}),
        },
      })
    } else {
      throw new ScanFormatError(`${WHERE}: leak ${i + 1} is in neither Gitleaks layout (no "rule"/"offender" nor "Description"/"RuleID"/"File")`)
    }
  }
  if (byKey.size === 0 && root.length === 0) return { assets: [], findings: [] }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'gitleaks',
  label: 'Gitleaks',
  aliases: ['Gitleaks Scan'],
  formats: ['json'],
  defaultAssetType: 'REPOSITORY',
  detect,
  parse,
}
