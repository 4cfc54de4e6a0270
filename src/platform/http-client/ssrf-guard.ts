import { promises as dns, type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import { BadRequestError } from '../errors.js'
import { SsrfBlockedError } from './errors.js'

/** Resolves a host name to every address it has (the system resolver, or a fake in tests). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true })

export interface AddressVerdict {
  allowed: boolean
  /** ipaddr.js range name (`unicast`, `loopback`, `private`, `linkLocal`, …) or `invalid`. */
  range: string
}

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3')

function parseAddress(address: string): IpAddress | undefined {
  try {
    const ip = ipaddr.parse(address)
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 host: judge that host.
    return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip
  } catch {
    return undefined
  }
}

/**
 * Allow-list: an IPv4 address must be plain unicast (not loopback, RFC 1918, link-local, CGNAT, multicast,
 * broadcast, 0/8, documentation, benchmarking or 240/4); an IPv6 address must be unicast inside 2000::/3, which
 * also excludes ::1, ::, IPv4-compatible ::a.b.c.d, fc00::/7, fe80::/10, fec0::/10 and NAT64 64:ff9b::/96.
 * 6to4 and Teredo (which embed an IPv4 address) are refused by their ipaddr.js range.
 */
export function classifyAddress(address: string): AddressVerdict {
  const ip = parseAddress(address)
  if (!ip) return { allowed: false, range: 'invalid' }
  const range = ip.range()
  if (range !== 'unicast') return { allowed: false, range }
  if (ip.kind() === 'ipv6' && !ip.match(GLOBAL_UNICAST_V6)) return { allowed: false, range: 'reserved' }
  return { allowed: true, range }
}

export interface SsrfGuardOptions {
  /** VV_ALLOW_PRIVATE_TARGETS: no address checks at all (schemes are still checked). */
  allowPrivateTargets: boolean
  /** Non-public ranges allowed anyway, e.g. `10.20.0.0/16` for an on-premises server. */
  allowCidrs?: readonly string[]
  lookup?: Resolver
  /** How long a vetted resolution is reused (the connection uses exactly the addresses that were vetted). */
  cacheTtlMs?: number
  now?: () => number
}

export interface SsrfGuard {
  /** Refuses non-http(s) schemes, credentials in the URL and non-public targets; returns the vetted addresses. */
  checkUrl(url: URL): Promise<readonly LookupAddress[]>
  /** Resolves a host name and vets every address (any non-public address refuses the host). */
  resolveHost(hostname: string): Promise<readonly LookupAddress[]>
  /** `net.connect` lookup hook: hands the socket only vetted addresses, so DNS rebinding cannot slip through. */
  readonly connectLookup: LookupFunction
}

export const ALLOWED_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'https:'])

/** URL hostname without IPv6 brackets and without a trailing root dot. */
export function bareHostname(url: URL): string {
  const h = url.hostname
  const unbracketed = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed
}

export function createSsrfGuard(opts: SsrfGuardOptions): SsrfGuard {
  const resolver = opts.lookup ?? systemResolver
  const now = opts.now ?? Date.now
  const ttl = opts.cacheTtlMs ?? 10_000
  const exemptions = (opts.allowCidrs ?? []).map((cidr) => {
    try { return ipaddr.parseCIDR(cidr) } catch { throw new Error(`allowCidrs: "${cidr}" is not a CIDR range`) }
  })
  const cache = new Map<string, { addresses: readonly LookupAddress[]; expires: number }>()

  function exempt(address: string): boolean {
    const ip = parseAddress(address)
    return ip !== undefined && exemptions.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))
  }

  function vet(host: string, address: string): void {
    if (opts.allowPrivateTargets) return
    const verdict = classifyAddress(address)
    if (!verdict.allowed && !exempt(address)) throw new SsrfBlockedError(host, verdict.range, address)
  }

  async function resolveHost(hostname: string): Promise<readonly LookupAddress[]> {
    const family = isIP(hostname)
    if (family !== 0) {
      vet(hostname, hostname)
      return [{ address: hostname, family }]
    }
    const name = hostname.toLowerCase().replace(/\.$/, '')
    if (!opts.allowPrivateTargets && (name === 'localhost' || name.endsWith('.localhost'))) {
      // RFC 6761: always loopback, whatever a resolver says.
      throw new SsrfBlockedError(hostname, 'loopback')
    }
    const hit = cache.get(name)
    if (hit && hit.expires > now()) return hit.addresses
    const addresses = await resolver(name)
    if (addresses.length === 0) throw Object.assign(new Error(`${name} has no addresses`), { code: 'ENOTFOUND' })
    for (const a of addresses) vet(hostname, a.address)
    if (!opts.allowPrivateTargets && ttl > 0) {
      if (cache.size >= 1000) for (const [k, v] of cache) if (v.expires <= now()) cache.delete(k)
      cache.set(name, { addresses, expires: now() + ttl })
    }
    return addresses
  }

  async function checkUrl(url: URL): Promise<readonly LookupAddress[]> {
    if (!ALLOWED_PROTOCOLS.has(url.protocol)) throw new SsrfBlockedError(url.protocol, 'scheme')
    if (url.username !== '' || url.password !== '') {
      throw new BadRequestError(`Outbound URL for ${url.host} must not carry credentials; send them in a header`, 'invalid_target_url')
    }
    return resolveHost(bareHostname(url))
  }

  const connectLookup: LookupFunction = (hostname, options, callback) => {
    resolveHost(hostname).then((all) => {
      const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all
      const first = wanted[0]
      if (!first) {
        callback(Object.assign(new Error(`${hostname} has no IPv${String(options.family)} address`), { code: 'ENOTFOUND' }), '')
        return
      }
      if (options.all) callback(null, [...wanted])
      else callback(null, first.address, first.family)
    }, (err: NodeJS.ErrnoException) => callback(err, ''))
  }

  return { checkUrl, resolveHost, connectLookup }
}
