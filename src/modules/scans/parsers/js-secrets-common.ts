/**
 * Shared pieces of the JavaScript package-audit parsers (npm audit, yarn audit, pnpm audit) and the secret / DAST
 * parsers of the same group (gitleaks, trufflehog, trufflehog3, nuclei).
 */
import type { ParseContext, ParsedFinding, ScanDocument, Severity } from './types.js'
import { asArray, isObject, num, parseCwe, ScanFormatError, str, vulnIds } from './util.js'

/** npm advisory severity words (pnpm and yarn reuse them): moderate → medium; anything unknown → info (DefectDojo). */
export function npmSeverity(value: unknown): Severity {
  switch (str(value)?.toLowerCase()) {
    case 'low': return 'low'
    case 'moderate': case 'medium': return 'medium'
    case 'high': return 'high'
    case 'critical': return 'critical'
    default: return 'info'
  }
}

/** CWE-1035 "Using Components with Known Vulnerabilities": DefectDojo's fallback for advisories without a CWE. */
export const NPM_DEFAULT_CWE = 1035

/**
 * The CWEs of an npm advisory `cwe` field, as DefectDojo's get_npm_cwe reads it: null, "CWE-79", ["CWE-79", …] or
 * the JSON text '["CWE-79", …]'. All of them, the first being DefectDojo's; [1035] when there is none.
 */
export function npmCwes(value: unknown): number[] {
  let v = value
  if (typeof v === 'string' && v.trimStart().startsWith('[')) {
    try {
      v = JSON.parse(v) as unknown
    } catch {
      // not JSON after all: read it as text
    }
  }
  const cwes = parseCwe(v)
  return cwes.length > 0 ? cwes : [NPM_DEFAULT_CWE]
}

/** The records of a JSON-array, JSON-lines or single-object document (one-line JSONL files load as an object). */
export function jsonRecords(doc: ScanDocument): unknown[] {
  if (Array.isArray(doc.json)) return doc.json
  if (isObject(doc.json)) return [doc.json]
  return []
}

const GIT_HASH = /[a-f0-9]{64}/g

/**
 * npm audit replaces the name of a dependency installed from git with a random 64-hex hash that changes on every run
 * (npm/npm#20739); DefectDojo replaces it so the path stays stable. Done only with fixData, and reported.
 */
export function censorPathHashes(path: string | undefined, ctx: ParseContext): string | undefined {
  if (!path || !ctx.fixData) return path
  GIT_HASH.lastIndex = 0
  if (!GIT_HASH.test(path)) return path
  GIT_HASH.lastIndex = 0
  const fixed = path.replace(GIT_HASH, 'censored_by_npm_audit')
  ctx.repair(`Replaced npm audit's random git-dependency hash in path "${path}" with "censored_by_npm_audit"`)
  return fixed
}

/** "a>b>c" npm/yarn dependency paths, the first 25 per version, as readable lines (DefectDojo's layout). */
export function npmPathsText(findings: unknown): string {
  let out = ''
  for (const f of asArray(findings)) {
    if (!isObject(f)) continue
    const paths = asArray(f.paths).map((p) => String(p))
    out += `\n  - ${str(f.version) ?? '?'}: ${paths.slice(0, 25).join(', ')}`
    if (paths.length > 25) out += '\n  - … (list of paths truncated after 25 paths)'
  }
  return out
}

/** A package's ecosystem-qualified purl (npm names may be scoped: @scope/name → %40scope/name). */
export function npmPurl(name: string | undefined, version: string | undefined): string | undefined {
  if (!name) return undefined
  const n = name.startsWith('@') ? `%40${name.slice(1)}` : name
  return version ? `pkg:npm/${n}@${version}` : `pkg:npm/${n}`
}

/**
 * The fields an npm-v6-style advisory (npm audit ≤ 6, yarn audit v1, audit-ci) gives, mapped onto a finding.
 * `title` is left to the caller (the formats differ). Throws ScanFormatError when the advisory is not an object.
 */
export function npmAdvisoryFields(adv: unknown, where: string, ctx: ParseContext): Omit<ParsedFinding, 'assetKey' | 'title'> & { module: string } {
  if (!isObject(adv)) throw new ScanFormatError(`${where}: an advisory must be an object`)
  const module = str(adv.module_name)
  if (!module) throw new ScanFormatError(`${where}: advisory ${str(adv.id) ?? '?'} has no "module_name"`)
  if (adv.findings !== undefined && adv.findings !== null && !Array.isArray(adv.findings)) {
    throw new ScanFormatError(`${where}: advisory ${str(adv.id) ?? '?'} "findings" must be an array`)
  }
  const findings = asArray(adv.findings).filter(isObject)
  const version = findings.map((f) => str(f.version)).find((v) => v !== undefined)
  const firstPath = str(asArray(findings[0]?.paths)[0])
  const url = str(adv.url)
  const cvss = isObject(adv.cvss) ? adv.cvss : undefined
  const vector = str(cvss?.vectorString)
  const score = num(cvss?.score)
  const ghsa = str(adv.github_advisory_id)
  const ids = vulnIds(adv.cves, ghsa)
  const refs = new Set<string>()
  if (url) refs.add(url)
  const refText = str(adv.references)
  if (refText) {
    for (const m of refText.matchAll(/https?:\/\/[^\s)\]]+/g)) refs.add(m[0])
  }
  const patched = str(adv.patched_versions)
  const lines = [
    str(adv.overview),
    `Vulnerable module: ${module}`,
    `Vulnerable versions: ${str(adv.vulnerable_versions) ?? 'unknown'}`,
    `Patched versions: ${patched ?? 'none'}`,
  ]
  const pathText = npmPathsText(adv.findings)
  if (pathText) lines.push(`Vulnerable paths:${pathText}`)
  const access = str(adv.access)
  if (access) lines.push(`Access: ${access}`)
  const fix = patched && /^>=\s*\d/.test(patched) ? patched.replace(/^>=\s*/, '') : undefined
  return {
    module,
    description: lines.filter((l): l is string => l !== undefined).join('\n'),
    ...(str(adv.recommendation) ? { remedy: str(adv.recommendation)! } : patched ? { remedy: `Upgrade ${module} to ${patched}` } : {}),
    ...(fix && !/[\s|<]/.test(fix) ? { fixVersion: fix } : {}),
    severity: npmSeverity(adv.severity),
    ...(str(adv.severity) ? { scannerSeverity: str(adv.severity)! } : {}),
    ...(ids.length ? { vulnerabilityIds: ids } : {}),
    cwe: npmCwes(adv.cwe),
    ...(vector || score !== undefined
      ? { cvss: { ...(vector ? { vector } : {}), ...(score !== undefined ? { score } : {}), ...(vector && /^CVSS:(\d\.\d)\//.test(vector) ? { version: vector.slice(5, 8) } : {}) } }
      : {}),
    component: { name: module, ...(version ? { version } : {}), ...(npmPurl(module, version) ? { purl: npmPurl(module, version)! } : {}), ecosystem: 'npm' },
    ...(firstPath ? { location: { path: censorPathHashes(firstPath, ctx)! } } : {}),
    ruleId: ghsa ?? str(adv.id),
    ...(refs.size ? { references: [...refs] } : {}),
  }
}

/**
 * Host of a URL or of a bare "host[:port][/path]" (nuclei's `matched-at` for network checks), lower-cased, without
 * brackets for IPv6 — the host DefectDojo's Endpoint.from_uri would give. No URL object per call (hot path).
 */
export function looseHost(target: string | undefined): string {
  if (!target) return ''
  let s = target.trim()
  const scheme = s.indexOf('://')
  if (scheme >= 0) s = s.slice(scheme + 3)
  else if (s.startsWith('//')) s = s.slice(2)
  let end = s.length
  for (const c of ['/', '?', '#']) {
    const i = s.indexOf(c)
    if (i >= 0 && i < end) end = i
  }
  s = s.slice(0, end)
  const at = s.lastIndexOf('@')
  if (at >= 0) s = s.slice(at + 1)
  if (s.startsWith('[')) {
    const close = s.indexOf(']')
    return (close > 0 ? s.slice(1, close) : s.slice(1)).toLowerCase()
  }
  const colon = s.indexOf(':')
  if (colon >= 0 && s.indexOf(':', colon + 1) < 0) s = s.slice(0, colon)
  return s.toLowerCase()
}

/** The port of a "host:port" or URL, when written. */
export function loosePort(target: string | undefined): number | undefined {
  if (!target) return undefined
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d{1,5})(?:[/?#]|$)/i.exec(target.trim())
  return m ? Number(m[1]) : undefined
}

export const SECRET_REMEDY = 'Secrets and passwords should be stored in a secure vault and/or secure storage; revoke and rotate the exposed secret.'
export const SECRET_CWE = 798

/** Mask a secret for display: keep a few characters at both ends. */
export function maskSecret(secret: string | undefined): string | undefined {
  if (!secret) return undefined
  if (secret.length <= 8) return '*'.repeat(secret.length)
  return `${secret.slice(0, 4)}${'*'.repeat(Math.min(secret.length - 8, 16))}${secret.slice(-4)}`
}
