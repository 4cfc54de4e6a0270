/**
 * `anonymize`: stable keyed pseudonyms. The same value gets the same pseudonym in every import of a tenant (so
 * de-duplication and delta imports still work), different tenants get different ones, and without the key a
 * pseudonym cannot be turned back into the value.
 */
import { createHmac } from 'node:crypto'
import type { ParsedAsset, ParsedFinding, ParseResult } from './parsers/types.js'

const IPV4 = /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g
const USER_PATH = /(\/home\/|\/Users\/|[A-Za-z]:\\Users\\)([^/\\\s"']+)/g

export class Anonymizer {
  private readonly cache = new Map<string, string>()
  private readonly hosts = new Map<string, string>()

  constructor(private readonly key: Buffer) {}

  private digest(kind: string, value: string): Buffer {
    return createHmac('sha256', this.key).update(`${kind}\n${value}`).digest()
  }

  private memo(kind: string, value: string, make: (d: Buffer) => string): string {
    const k = `${kind}\n${value}`
    let out = this.cache.get(k)
    if (out === undefined) {
      out = make(this.digest(kind, value))
      this.cache.set(k, out)
    }
    return out
  }

  /** An address in 10.0.0.0/8, so that it still reads (and validates) as an IP. */
  ip(value: string): string {
    return this.memo('ip', value, (d) => `10.${d[0]}.${d[1]}.${d[2]}`)
  }

  host(value: string): string {
    return this.memo('host', value.toLowerCase(), (d) => `host-${d.toString('hex').slice(0, 10)}.anon`)
  }

  email(value: string): string {
    return this.memo('email', value.toLowerCase(), (d) => `user-${d.toString('hex').slice(0, 10)}@anon.invalid`)
  }

  user(value: string): string {
    return this.memo('user', value, (d) => `user-${d.toString('hex').slice(0, 8)}`)
  }

  /** Free text: known host names, IPs, e-mail addresses and home-directory user names replaced. */
  text(value: string | undefined): string | undefined {
    if (value === undefined) return undefined
    let out = value
    for (const [real, pseudo] of this.hosts) if (out.includes(real)) out = out.split(real).join(pseudo)
    return out
      .replace(EMAIL, (m) => this.email(m))
      .replace(IPV4, (m) => this.ip(m))
      .replace(USER_PATH, (_m, prefix: string, user: string) => `${prefix}${this.user(user)}`)
  }

  url(value: string | undefined): string | undefined {
    if (value === undefined) return undefined
    try {
      const u = new URL(value)
      const h = u.hostname
      u.hostname = /^[\d.]+$/.test(h) ? this.ip(h) : this.host(h)
      u.username = u.username ? this.user(u.username) : ''
      u.password = ''
      return u.toString()
    } catch {
      return this.text(value)
    }
  }

  private asset(a: ParsedAsset): ParsedAsset {
    const at = { ...a.attributes }
    for (const k of ['hostname', 'fqdn', 'netbios'] as const) {
      const v = at[k]
      if (v !== undefined) {
        at[k] = this.host(v)
        if (v.length >= 4) this.hosts.set(v, at[k])
      }
    }
    if (at.ip !== undefined) at.ip = this.ip(at.ip)
    if (at.mac !== undefined) at.mac = this.memo('mac', at.mac, (d) => [...d.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':'))
    if (at.url !== undefined) at.url = this.url(at.url)
    for (const k of ['scannerSource', 'buildFile', 'dockerfile', 'repository'] as const) if (at[k] !== undefined) at[k] = this.text(at[k])
    return { ...a, attributes: at }
  }

  private finding(f: ParsedFinding): ParsedFinding {
    const loc = f.location ? { ...f.location, path: this.text(f.location.path), url: this.url(f.location.url) } : undefined
    return {
      ...f,
      title: this.text(f.title) ?? f.title,
      description: this.text(f.description),
      remedy: this.text(f.remedy),
      ...(loc ? { location: loc } : {}),
      // Tool-specific extras may hold anything; they are dropped rather than half-anonymised.
      extra: undefined,
    }
  }

  apply(result: ParseResult): ParseResult {
    const assets = result.assets.map((a) => this.asset(a))
    // Longest host names first, so that "db.example.com" is replaced before "example.com".
    const sorted = [...this.hosts].sort((a, b) => b[0].length - a[0].length)
    this.hosts.clear()
    for (const [k, v] of sorted) this.hosts.set(k, v)
    return { assets, findings: result.findings.map((f) => this.finding(f)) }
  }
}
