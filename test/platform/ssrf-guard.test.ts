import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { SsrfBlockedError } from '../../src/platform/http-client/errors.js'
import { classifyAddress, createSsrfGuard, type Resolver } from '../../src/platform/http-client/ssrf-guard.js'

/** Fake DNS: a fixed table; unknown names fail like the system resolver does. Nothing leaves the machine. */
function fakeDns(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = []
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname)
    const list = table[hostname]
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(resolve, { calls })
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['169.254.169.254', 'linkLocal'], ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['224.0.0.1', 'multicast'], ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'], ['192.0.2.1', 'reserved'], ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'linkLocal'], ['fc00::1', 'uniqueLocal'], ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'], ['::7f00:1', 'reserved'], ['64:ff9b::7f00:1', 'rfc6052'], ['2002:7f00:1::1', '6to4'],
    ['2001:0:4136:e378::1', 'teredo'], ['2001:db8::1', 'reserved'], ['fec0::1', 'deprecatedSiteLocal'], ['not-an-ip', 'invalid'],
  ])('refuses %s (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ allowed: false, range })
  })

  it.each(['8.8.8.8', '93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (address) => {
    expect(classifyAddress(address).allowed).toBe(true)
  })
})

describe('SSRF guard', () => {
  const guard = createSsrfGuard({ allowPrivateTargets: false, lookup: fakeDns({}) })

  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.0.0.1:8080/x', 'loopback'],
    ['http://10.0.0.5/', 'private'],
    ['https://192.168.0.10/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:169.254.169.254]/', 'linkLocal'],
    ['http://[fe80::1]/', 'linkLocal'],
    ['http://[fd00::1]/', 'uniqueLocal'],
    ['http://[::]/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://100.64.1.1/', 'carrierGradeNat'],
    // the WHATWG parser normalises decimal, octal, hex and short IPv4 forms to dotted quads before the check
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://017700000001/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://0xa9fea9fe/', 'linkLocal'],
  ])('refuses %s without resolving anything', async (url, reason) => {
    const err = await guard.checkUrl(new URL(url)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SsrfBlockedError)
    expect(err).toMatchObject({ reason, code: 'ssrf_blocked', statusCode: 400 })
  })

  it('refuses localhost and *.localhost by name, with the real resolver too', async () => {
    const real = createSsrfGuard({ allowPrivateTargets: false })
    for (const url of ['http://localhost/', 'http://LOCALHOST./', 'http://api.localhost:3000/']) {
      await expect(real.checkUrl(new URL(url))).rejects.toMatchObject({ reason: 'loopback' })
    }
    // and a name that resolves to loopback through DNS (localhost via /etc/hosts is the offline-safe example)
    await expect(real.resolveHost('localhost')).rejects.toBeInstanceOf(SsrfBlockedError)
  })

  it.each(['file:///etc/passwd', 'ftp://example.com/', 'gopher://example.com/', 'data:text/plain,hi', 'javascript:alert(1)', 'ws://example.com/'])(
    'refuses the scheme of %s', async (url) => {
      await expect(guard.checkUrl(new URL(url))).rejects.toMatchObject({ reason: 'scheme', code: 'ssrf_blocked' })
    })

  it('names the host and the reason in the message, not the resolved address', async () => {
    const g = createSsrfGuard({ allowPrivateTargets: false, lookup: fakeDns({ 'intranet.example.com': ['10.9.8.7'] }) })
    const err = await g.checkUrl(new URL('https://intranet.example.com/admin')).catch((e: unknown) => e) as SsrfBlockedError
    expect(err.message).toContain('"intranet.example.com"')
    expect(err.message).toContain('private')
    expect(err.message).not.toContain('10.9.8.7')
    expect(err.address).toBe('10.9.8.7')
  })

  it('allows a public host (fake resolver) and returns the vetted addresses', async () => {
    const dns = fakeDns({ 'api.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] })
    const g = createSsrfGuard({ allowPrivateTargets: false, lookup: dns })
    const addrs = await g.checkUrl(new URL('https://api.example.com/v1'))
    expect(addrs.map((a) => a.address)).toEqual(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'])
  })

  it('refuses a host when ANY of its addresses is non-public', async () => {
    const g = createSsrfGuard({ allowPrivateTargets: false, lookup: fakeDns({ 'mixed.example.com': ['93.184.215.14', '127.0.0.1'] }) })
    await expect(g.checkUrl(new URL('https://mixed.example.com/'))).rejects.toMatchObject({ reason: 'loopback' })
    const g6 = createSsrfGuard({ allowPrivateTargets: false, lookup: fakeDns({ 'mixed6.example.com': ['93.184.215.14', '::ffff:10.0.0.1'] }) })
    await expect(g6.checkUrl(new URL('https://mixed6.example.com/'))).rejects.toMatchObject({ reason: 'private' })
  })

  it('refuses credentials in the URL', async () => {
    await expect(guard.checkUrl(new URL('http://user:pass@93.184.215.14/'))).rejects.toMatchObject({ code: 'invalid_target_url' })
  })

  it('with allowPrivateTargets, allows private targets but still checks the scheme', async () => {
    const open = createSsrfGuard({ allowPrivateTargets: true, lookup: fakeDns({ 'db.internal': ['10.0.0.2'] }) })
    await expect(open.checkUrl(new URL('http://127.0.0.1:1/'))).resolves.toHaveLength(1)
    await expect(open.checkUrl(new URL('http://db.internal/'))).resolves.toHaveLength(1)
    await expect(open.checkUrl(new URL('file:///etc/passwd'))).rejects.toMatchObject({ reason: 'scheme' })
  })

  it('allowCidrs exempts exactly the listed ranges', async () => {
    const g = createSsrfGuard({ allowPrivateTargets: false, allowCidrs: ['10.20.0.0/16'], lookup: fakeDns({}) })
    await expect(g.checkUrl(new URL('http://10.20.3.4/'))).resolves.toHaveLength(1)
    await expect(g.checkUrl(new URL('http://10.21.0.1/'))).rejects.toBeInstanceOf(SsrfBlockedError)
    await expect(g.checkUrl(new URL('http://169.254.169.254/'))).rejects.toBeInstanceOf(SsrfBlockedError)
    expect(() => createSsrfGuard({ allowPrivateTargets: false, allowCidrs: ['nope'] })).toThrow(/not a CIDR/)
  })

  describe('connect-time lookup (DNS rebinding)', () => {
    /** First answer public, every later answer loopback: the classic rebinding attack. */
    function rebindingDns(): Resolver & { calls: number } {
      const resolve = Object.assign(async (): Promise<LookupAddress[]> => {
        resolve.calls++
        return [{ address: resolve.calls === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }]
      }, { calls: 0 })
      return resolve
    }
    const lookupOnce = (g: ReturnType<typeof createSsrfGuard>, host: string, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) => {
        g.connectLookup(host, { all }, (err, address) => resolve({ err, address }))
      })

    it('hands the socket the addresses that were vetted, not a later DNS answer', async () => {
      const dns = rebindingDns()
      const g = createSsrfGuard({ allowPrivateTargets: false, lookup: dns })
      await g.checkUrl(new URL('http://rebind.example.com/'))
      const viaAll = await lookupOnce(g, 'rebind.example.com', true)
      expect(viaAll.err).toBeNull()
      expect(viaAll.address).toEqual([{ address: '93.184.215.14', family: 4 }])
      const viaOne = await lookupOnce(g, 'rebind.example.com', false)
      expect(viaOne.address).toBe('93.184.215.14')
      expect(dns.calls).toBe(1)
    })

    it('re-vets when the vetted answer has expired, so a rebound answer is refused at connect time', async () => {
      const dns = rebindingDns()
      const g = createSsrfGuard({ allowPrivateTargets: false, lookup: dns, cacheTtlMs: 0 })
      await g.checkUrl(new URL('http://rebind.example.com/'))
      const { err } = await lookupOnce(g, 'rebind.example.com', true)
      expect(err).toBeInstanceOf(SsrfBlockedError)
      expect(dns.calls).toBe(2)
    })
  })
})
