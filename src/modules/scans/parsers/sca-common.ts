/**
 * Shared pieces of the SCA parsers (snyk, snyk_code, snyk_issue_api, osv_scanner, cyclonedx, dependency_check):
 * package URLs, a CVSS v3 base-score calculator (for reports that give a vector but no score or severity), and
 * namespace-aware XML child lookup (fast-xml-parser keeps `prefix:name` keys).
 */
import type { XmlNode } from './types.js'
import { asArray, isObject, str } from './util.js'

// ---------------------------------------------------------------------------------------------------------------
// Package URLs

export interface Purl {
  type: string
  namespace?: string
  name: string
  version?: string
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** "pkg:type/ns/name@version?q#sub" → its parts (percent-decoded), or undefined when it is not a package URL. */
export function parsePurl(value: unknown): Purl | undefined {
  const s = str(value)
  if (!s || !s.toLowerCase().startsWith('pkg:')) return undefined
  let rest = s.slice(4).replace(/^\/+/, '')
  const hash = rest.indexOf('#')
  if (hash >= 0) rest = rest.slice(0, hash)
  const q = rest.indexOf('?')
  if (q >= 0) rest = rest.slice(0, q)
  let version: string | undefined
  const at = rest.lastIndexOf('@')
  if (at > rest.lastIndexOf('/') && at >= 0) {
    version = decodePart(rest.slice(at + 1)) || undefined
    rest = rest.slice(0, at)
  }
  const parts = rest.split('/').filter((p) => p !== '')
  if (parts.length < 2) return undefined
  const type = parts[0]!.toLowerCase()
  const name = decodePart(parts[parts.length - 1]!)
  const ns = parts.slice(1, -1).map(decodePart).join('/')
  return { type, name, ...(ns ? { namespace: ns } : {}), ...(version ? { version } : {}) }
}

const ECOSYSTEM_BY_PURL_TYPE: Record<string, string> = {
  npm: 'npm', pypi: 'pypi', maven: 'maven', golang: 'go', cargo: 'cargo', gem: 'rubygems', nuget: 'nuget',
  composer: 'composer', deb: 'deb', rpm: 'rpm', apk: 'apk', hex: 'hex', pub: 'pub', cocoapods: 'cocoapods',
  swift: 'swift', conan: 'conan', github: 'github', docker: 'docker', oci: 'oci', generic: 'generic',
}

/** The ecosystem name for a purl type (pkg:gem → rubygems, pkg:golang → go); the type itself when unknown. */
export function ecosystemOfPurl(purl: Purl | undefined): string | undefined {
  if (!purl) return undefined
  return ECOSYSTEM_BY_PURL_TYPE[purl.type] ?? purl.type
}

// ---------------------------------------------------------------------------------------------------------------
// CVSS v3

const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 }
const AC: Record<string, number> = { L: 0.77, H: 0.44 }
const UI: Record<string, number> = { N: 0.85, R: 0.62 }
const CIA: Record<string, number> = { H: 0.56, L: 0.22, N: 0 }
const V3_PREFIX = /^CVSS:3\.[01]\//

function roundUp(x: number): number {
  const i = Math.round(x * 100000)
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10
}

/**
 * A CVSS v3 vector as DefectDojo's `cvss` library accepts it: "CVSS:3.x/…" as is, a bare "AV:N/…" gets the
 * "CVSS:3.1/" prefix. Undefined when the base metrics are not all there (DefectDojo then drops the vector).
 */
export function cvss3Vector(raw: unknown): string | undefined {
  const s = str(raw)
  if (!s) return undefined
  const vector = s.startsWith('CVSS:3') ? s : `CVSS:3.1/${s}`
  return cvss3BaseScore(vector) === undefined ? undefined : vector
}

/** The CVSS v3.x base score of a vector, or undefined when it is not a complete v3 vector. */
export function cvss3BaseScore(vector: string | undefined): number | undefined {
  if (!vector || !V3_PREFIX.test(vector)) return undefined
  const m: Record<string, string> = {}
  for (const part of vector.split('/').slice(1)) {
    const i = part.indexOf(':')
    if (i > 0) m[part.slice(0, i)] = part.slice(i + 1)
  }
  const av = AV[m.AV ?? '']
  const ac = AC[m.AC ?? '']
  const ui = UI[m.UI ?? '']
  const c = CIA[m.C ?? '']
  const ig = CIA[m.I ?? '']
  const a = CIA[m.A ?? '']
  const scope = m.S
  if (av === undefined || ac === undefined || ui === undefined || c === undefined || ig === undefined || a === undefined) return undefined
  if (scope !== 'U' && scope !== 'C') return undefined
  const changed = scope === 'C'
  const pr = m.PR === 'N' ? 0.85 : m.PR === 'L' ? (changed ? 0.68 : 0.62) : m.PR === 'H' ? (changed ? 0.5 : 0.27) : undefined
  if (pr === undefined) return undefined
  const iss = 1 - (1 - c) * (1 - ig) * (1 - a)
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss
  const exploitability = 8.22 * av * ac * pr * ui
  if (impact <= 0) return 0
  return changed ? roundUp(Math.min(1.08 * (impact + exploitability), 10)) : roundUp(Math.min(impact + exploitability, 10))
}

// ---------------------------------------------------------------------------------------------------------------
// Namespace-aware XML lookup

/**
 * Resolves `prefix:name` element keys against the namespace declarations of the root element, so a parser can
 * ask for "the `vulnerabilities` children in namespace X" whatever prefix the document chose.
 */
export class XmlNamespaces {
  private readonly byPrefix = new Map<string, string>()

  constructor(root: unknown) {
    if (isObject(root)) {
      for (const [k, v] of Object.entries(root)) {
        if (k === '@_xmlns') this.byPrefix.set('', String(v))
        else if (k.startsWith('@_xmlns:')) this.byPrefix.set(k.slice(8), String(v))
      }
    }
  }

  /** The namespace URI of an element key ("" when undeclared). */
  uriOf(key: string): string {
    const i = key.indexOf(':')
    return this.byPrefix.get(i < 0 ? '' : key.slice(0, i)) ?? ''
  }

  /** Children of `node` named `local` whose namespace satisfies `inNs`. */
  kids(node: unknown, local: string, inNs: (uri: string) => boolean): XmlNode[] {
    if (!isObject(node)) return []
    const out: XmlNode[] = []
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('@_') || k === '#text') continue
      const i = k.indexOf(':')
      if ((i < 0 ? k : k.slice(i + 1)) !== local || !inNs(this.uriOf(k))) continue
      for (const c of asArray(v as unknown)) out.push(isObject(c) ? c : { '#text': c })
    }
    return out
  }

  kid(node: unknown, local: string, inNs: (uri: string) => boolean): XmlNode | undefined {
    return this.kids(node, local, inNs)[0]
  }

  text(node: unknown, local: string, inNs: (uri: string) => boolean): string | undefined {
    return str(this.kid(node, local, inNs))
  }
}

/** Children of an XML element by local name, whatever their prefix. */
export function localKids(node: unknown, local: string): XmlNode[] {
  if (!isObject(node)) return []
  const out: XmlNode[] = []
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_') || k === '#text') continue
    const i = k.indexOf(':')
    if ((i < 0 ? k : k.slice(i + 1)) !== local) continue
    for (const c of asArray(v as unknown)) out.push(isObject(c) ? c : { '#text': c })
  }
  return out
}

export function localKid(node: unknown, local: string): XmlNode | undefined {
  return localKids(node, local)[0]
}

export function localText(node: unknown, local: string): string | undefined {
  return str(localKid(node, local))
}

/** The local name of an XML root element ("bom:bom" → "bom"). */
export function localName(name: string | undefined): string {
  if (!name) return ''
  const i = name.indexOf(':')
  return i < 0 ? name : name.slice(i + 1)
}

/** Up to `max` characters of a string, for fields that should stay small. */
export function clip(s: string | undefined, max: number): string | undefined {
  if (s === undefined) return undefined
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
