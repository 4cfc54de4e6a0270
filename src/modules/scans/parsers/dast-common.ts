/**
 * Shared pieces of the DAST parsers (ZAP, Burp XML / REST API / GraphQL / Dastardly, Acunetix): WEB assets from a
 * target URL, finding locations from a request URL, reference URLs out of HTML, and the capped endpoint lists kept
 * when several report entries are merged into one finding.
 */
import type { AssetAttributes, ParsedFinding } from './types.js'
import { AssetCollector, isIp, str } from './util.js'

/** How many distinct endpoints a merged finding keeps in `extra.endpoints`. */
export const MAX_ENDPOINTS = 20

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

interface UrlBits { origin?: string; host?: string; port?: number; protocol?: string; path?: string }

/** The parts of a URL we use; tolerant of a missing scheme ("example.com/x" is taken as http). */
export function urlBits(raw: string | undefined): UrlBits {
  const s = str(raw)
  if (!s) return {}
  let u: URL
  try {
    u = new URL(SCHEME.test(s) ? s : `http://${s.replace(/^\/\//, '')}`)
  } catch {
    return {}
  }
  const protocol = u.protocol.replace(/:$/, '')
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const port = u.port !== '' ? Number(u.port) : protocol === 'https' ? 443 : protocol === 'http' ? 80 : undefined
  const out: UrlBits = { protocol, path: u.pathname || '/' }
  if (host) out.host = host
  if (port !== undefined) out.port = port
  if (u.origin !== 'null') out.origin = u.origin
  return out
}

/** WEB asset attributes of a target URL (origin as url; the host as fqdn or ip), plus an IP the report gives. */
export function webAttributes(url: string | undefined, ip?: string): AssetAttributes {
  const b = urlBits(url)
  const attrs: AssetAttributes = {}
  if (b.origin) attrs.url = b.origin
  if (b.host) {
    if (isIp(b.host)) attrs.ip = b.host
    else attrs.fqdn = b.host
  }
  const extraIp = str(ip)
  if (extraIp && isIp(extraIp) && !attrs.ip) attrs.ip = extraIp
  return attrs
}

/**
 * Adds the WEB asset of `url` (cached per distinct url+ip), or the fallback name (the report's file name) when the
 * report gives no usable target.
 */
export class WebAssets {
  readonly collector = new AssetCollector()
  private readonly cache = new Map<string, string>()

  constructor(private readonly fallback: string) {}

  add(url: string | undefined, ip?: string): string {
    const cacheKey = `${url ?? ''}\u0000${ip ?? ''}`
    const hit = this.cache.get(cacheKey)
    if (hit) return hit
    const attrs = webAttributes(url, ip)
    const key = attrs.url || attrs.fqdn || attrs.ip
      ? this.collector.add('WEB', attrs)
      : this.collector.add('WEB', { fqdn: this.fallback })
    this.cache.set(cacheKey, key)
    return key
  }

  /** A WEB asset known only by its host name or IP (no scheme, so no base URL). */
  addHost(host: string): string {
    return this.collector.add('WEB', isIp(host) ? { ip: host } : { fqdn: host })
  }

  list() {
    return this.collector.list()
  }
}

/** A finding location from a request URL (path, port and protocol split out). */
export function urlLocation(url: string | undefined, method?: string, param?: string): NonNullable<ParsedFinding['location']> {
  const loc: NonNullable<ParsedFinding['location']> = {}
  const u = str(url)
  if (u) {
    loc.url = u
    const b = urlBits(u)
    if (b.path) loc.path = b.path
    if (b.port !== undefined) loc.port = b.port
    if (b.protocol) loc.protocol = b.protocol
  }
  const m = str(method)
  if (m) loc.method = m.toUpperCase()
  const p = str(param)
  if (p) loc.param = p
  return loc
}

const HREF = /href\s*=\s*["']([^"']+)["']/gi
const BARE_URL = /\bhttps?:\/\/[^\s"'<>()]+[^\s"'<>().,;:]/gi

/** The URLs a references text holds (href targets first, then bare URLs), deduplicated, order kept. */
export function referenceUrls(...texts: (string | undefined)[]): string[] {
  const out: string[] = []
  const push = (u: string) => {
    const t = u.trim().replace(/&amp;/g, '&')
    if (t && !out.includes(t)) out.push(t)
  }
  for (const text of texts) {
    if (!text) continue
    for (const m of text.matchAll(HREF)) if (m[1] && /^https?:/i.test(m[1])) push(m[1])
    for (const m of text.matchAll(BARE_URL)) push(m[0])
  }
  return out
}

/** Appends `url` to a merged finding's `extra.endpoints` (distinct, capped). */
export function addEndpoint(f: ParsedFinding, url: string | undefined): void {
  const u = str(url)
  if (!u) return
  f.extra ??= {}
  const list = (f.extra.endpoints as string[] | undefined) ?? []
  if (list.length < MAX_ENDPOINTS && !list.includes(u)) list.push(u)
  f.extra.endpoints = list
}

/** Joins text blocks with blank lines, each optionally under a heading; empty blocks are left out. */
export function joinBlocks(...blocks: ([string, string | undefined] | string | undefined)[]): string | undefined {
  const parts: string[] = []
  for (const b of blocks) {
    if (b === undefined) continue
    if (typeof b === 'string') {
      if (b.trim()) parts.push(b.trim())
      continue
    }
    const [heading, text] = b
    if (text?.trim()) parts.push(`${heading}:\n${text.trim()}`)
  }
  return parts.length ? parts.join('\n\n') : undefined
}

/** The HTTP method at the start of a raw request ("GET /x HTTP/1.1" → GET). */
export function requestMethod(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  const m = /^\s*([A-Z]{3,10}) \S/.exec(raw.slice(0, 64))
  return m?.[1]
}

/** The start of a base64 payload decoded (enough for a request line); undefined when it is not base64. */
export function base64Head(data: string | undefined, chars = 64): string | undefined {
  const s = str(data)
  if (!s) return undefined
  const head = s.slice(0, chars - (chars % 4))
  if (!/^[A-Za-z0-9+/=\s]+$/.test(head)) return undefined
  return Buffer.from(head, 'base64').toString('latin1')
}
