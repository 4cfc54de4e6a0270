import type { LookupAddress } from 'node:dns'
import { afterEach, describe, expect, it } from 'vitest'
import {
  SsrfBlockedError, UpstreamResponseTooLargeError, UpstreamStatusError, UpstreamTimeoutError, UpstreamTooManyRedirectsError,
  UpstreamUnreachableError,
} from '../../src/platform/http-client/errors.js'
import { createHttpClient, redactHeaders, type HttpClient, type HttpClientOptions } from '../../src/platform/http-client/http-client.js'
import { sendJson, startFakeServer, type FakeServer } from '../fakes/http-server.js'

// Every request in this file goes to 127.0.0.1 (fake servers) or is refused before any connection is made.

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { for (const fn of cleanup.splice(0).reverse()) await fn() })

async function server(...args: Parameters<typeof startFakeServer>): Promise<FakeServer> {
  const s = await startFakeServer(...args)
  cleanup.push(() => s.close())
  return s
}

/** Client with test-friendly defaults: private targets allowed, no real sleeping (delays are recorded). */
function client(overrides: Partial<HttpClientOptions> = {}): HttpClient & { delays: number[] } {
  const delays: number[] = []
  const c = createHttpClient({
    allowPrivateTargets: true, timeoutMs: 2000, maxRetries: 3,
    sleep: async (ms) => { delays.push(ms) }, random: () => 0.5,
    ...overrides,
  })
  cleanup.push(() => c.close())
  return Object.assign(c, { delays })
}

/** Fake DNS mapping test names to loopback; proves connections use the client's own (pinned) lookup. */
function fakeDns(table: Record<string, string>) {
  return async (hostname: string): Promise<LookupAddress[]> => {
    const address = table[hostname]
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return [{ address, family: 4 }]
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('http client: SSRF guard', () => {
  it('refuses loopback, private, link-local and obfuscated targets before connecting', async () => {
    const s = await server((_req, res) => { res.end('should never be reached') })
    const c = client({ allowPrivateTargets: false })
    const port = s.port
    const targets = [
      `http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::1]:${port}/`, `http://2130706433:${port}/`,
      `http://0x7f.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, 'http://10.0.0.1/', 'http://192.168.1.1/',
      'http://172.16.0.1/', 'http://169.254.169.254/latest/meta-data/iam/', 'http://[fe80::1]/', 'http://100.64.0.1/', 'http://0.0.0.0/',
    ]
    for (const url of targets) {
      await expect(c.request(url), url).rejects.toBeInstanceOf(SsrfBlockedError)
    }
    expect(s.requests).toHaveLength(0)
    expect(c.delays).toEqual([]) // refusals are not retried
  })

  it('refuses file: and ftp: (and other non-http) schemes even when private targets are allowed', async () => {
    const c = client()
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/x', 'gopher://127.0.0.1/']) {
      await expect(c.request(url)).rejects.toMatchObject({ code: 'ssrf_blocked', reason: 'scheme' })
    }
  })

  it('connects to the address the guard vetted (fake DNS name → loopback, allowed by allowCidrs)', async () => {
    const s = await server((req, res) => sendJson(res, 200, { host: req.headers.host }))
    const c = client({ allowPrivateTargets: false, allowCidrs: ['127.0.0.1/32'], lookup: fakeDns({ 'api.vendor.test': '127.0.0.1' }) })
    const res = await c.request(`http://api.vendor.test:${s.port}/v1`)
    expect(res.status).toBe(200)
    // Host stays the name from the URL, not the pinned IP
    expect(res.json()).toEqual({ host: `api.vendor.test:${s.port}` })
  })

  it('re-checks every redirect hop and refuses a redirect to a private or metadata address', async () => {
    const target = { location: '' }
    const s = await server((_req, res) => { res.writeHead(302, { location: target.location }); res.end() })
    const c = client({ allowPrivateTargets: false, allowCidrs: ['127.0.0.1/32'], lookup: fakeDns({ 'public.vendor.test': '127.0.0.1' }) })
    const start = `http://public.vendor.test:${s.port}/start`
    for (const location of ['http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/', `http://[::1]:${s.port}/`, 'http://167772161/', 'http://0xa9fea9fe/', 'file:///etc/passwd']) {
      target.location = location
      await expect(c.request(start), location).rejects.toBeInstanceOf(SsrfBlockedError)
    }
    expect(s.requests.every((r) => r.url === '/start')).toBe(true)
  })
})

describe('http client: requests and responses', () => {
  it('sends method, query, JSON body and headers; parses the response', async () => {
    const s = await server((req, res) => sendJson(res, 201, { got: JSON.parse(req.body.toString()) as unknown }, { 'x-trace': 'abc' }))
    const c = client({ userAgent: 'VeriVault-test' })
    const res = await c.request(`${s.url}/items?a=1`, { method: 'post', body: { name: 'x' }, query: { b: 2, c: ['x', 'y'], skip: undefined }, headers: { 'X-Custom': 'yes', Host: 'evil.test' } })
    expect(res.status).toBe(201)
    expect(res.header('X-Trace')).toBe('abc')
    expect(res.json()).toEqual({ got: { name: 'x' } })
    const seen = s.requests[0]!
    expect(seen.method).toBe('POST')
    expect(seen.url).toBe('/items?a=1&b=2&c=x&c=y')
    expect(seen.headers['content-type']).toBe('application/json')
    expect(seen.headers['user-agent']).toBe('VeriVault-test')
    expect(seen.headers['x-custom']).toBe('yes')
    expect(seen.headers.host).toBe(`127.0.0.1:${s.port}`) // a caller cannot override Host
  })

  it('getJson / postJson return the body and throw UpstreamStatusError on non-2xx', async () => {
    const s = await server((req, res) => {
      if (req.url === '/ok') sendJson(res, 200, { ok: true })
      else if (req.url === '/empty') { res.statusCode = 204; res.end() }
      else sendJson(res, 404, { error: 'nope' })
    })
    const c = client()
    expect(await c.getJson(`${s.url}/ok`)).toEqual({ ok: true })
    expect(await c.postJson(`${s.url}/empty`, { a: 1 })).toBeUndefined()
    const err = await c.getJson(`${s.url}/missing`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamStatusError)
    expect(err).toMatchObject({ status: 404, code: 'upstream_error' })
    expect(JSON.stringify(err)).not.toContain('nope') // the upstream body is not serialised with the error
    expect(s.requests[1]!.headers['content-type']).toBe('application/json')
  })
})

describe('http client: redirects', () => {
  it('keeps Authorization on same-origin redirects and drops it (and API keys) cross-origin', async () => {
    const b = await server((_req, res) => sendJson(res, 200, {}))
    const a = await server((req, res) => {
      if (req.url === '/start') { res.writeHead(302, { location: '/same' }); res.end() }
      else { res.writeHead(307, { location: `${b.url}/other` }); res.end() }
    })
    const c = client()
    const res = await c.request(`${a.url}/start`, { headers: { authorization: 'Bearer s3cret', 'x-api-key': 'k3y', 'x-vendor-token': 't0k', 'x-keep': '1' }, sensitiveHeaders: ['X-Vendor-Token'] })
    expect(res.status).toBe(200)
    expect(res.url).toBe(`${b.url}/other`)
    expect(a.requests.map((r) => r.headers.authorization)).toEqual(['Bearer s3cret', 'Bearer s3cret'])
    const hop = b.requests[0]!.headers
    expect(hop.authorization).toBeUndefined()
    expect(hop['x-api-key']).toBeUndefined()
    expect(hop['x-vendor-token']).toBeUndefined()
    expect(hop['x-keep']).toBe('1')
  })

  it('turns POST into GET on 303 and keeps method and body on 307', async () => {
    const s = await server((req, res) => {
      if (req.url === '/see-other') { res.writeHead(303, { location: '/result' }); res.end() }
      else if (req.url === '/temp') { res.writeHead(307, { location: '/result' }); res.end() }
      else sendJson(res, 200, { method: req.method, body: req.body.toString() })
    })
    const c = client()
    expect((await c.request(`${s.url}/see-other`, { method: 'POST', body: { a: 1 } })).json()).toEqual({ method: 'GET', body: '' })
    expect((await c.request(`${s.url}/temp`, { method: 'POST', body: { a: 1 } })).json()).toEqual({ method: 'POST', body: '{"a":1}' })
  })

  it('stops after 5 redirects, and returns 3xx as is with maxRedirects: 0', async () => {
    const s = await server((req, res) => { res.writeHead(302, { location: `/loop${req.url.length}` }); res.end() })
    const c = client()
    await expect(c.request(`${s.url}/`)).rejects.toBeInstanceOf(UpstreamTooManyRedirectsError)
    expect(s.requests).toHaveLength(6)
    const res = await c.request(`${s.url}/`, { maxRedirects: 0 })
    expect(res.status).toBe(302)
  })
})

describe('http client: retries', () => {
  it('retries 503 with exponential backoff, then succeeds', async () => {
    let n = 0
    const s = await server((_req, res) => { if (++n < 3) { res.statusCode = 503; res.end() } else sendJson(res, 200, { n }) })
    const c = client({ retryBaseDelayMs: 100 })
    const res = await c.request(`${s.url}/flaky`)
    expect(res.status).toBe(200)
    expect(s.requests).toHaveLength(3)
    // random() = 0.5 → 75% of 100 ms, then of 200 ms
    expect(c.delays).toEqual([75, 150])
  })

  it('returns the last response once retries are exhausted', async () => {
    const s = await server((_req, res) => { res.statusCode = 502; res.end() })
    const c = client()
    const res = await c.request(s.url, { retries: 2 })
    expect(res.status).toBe(502)
    expect(s.requests).toHaveLength(3)
  })

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    let n = 0
    const now = Date.parse('2030-01-01T00:00:00Z')
    const s = await server((req, res) => {
      n++
      if (req.url === '/seconds' && n === 1) { res.writeHead(429, { 'retry-after': '1' }); res.end(); return }
      if (req.url === '/date' && n === 3) { res.writeHead(503, { 'retry-after': new Date(now + 7000).toUTCString() }); res.end(); return }
      sendJson(res, 200, {})
    })
    const c = client({ now: () => now })
    expect((await c.request(`${s.url}/seconds`)).status).toBe(200)
    expect((await c.request(`${s.url}/date`)).status).toBe(200)
    expect(c.delays).toEqual([1000, 7000])
  })

  it('really waits for Retry-After (real clock)', async () => {
    let n = 0
    const s = await server((_req, res) => { if (++n === 1) { res.writeHead(429, { 'retry-after': '1' }); res.end() } else sendJson(res, 200, {}) })
    const c = createHttpClient({ allowPrivateTargets: true, timeoutMs: 2000, maxRetries: 1 })
    cleanup.push(() => c.close())
    const started = Date.now()
    expect((await c.request(s.url)).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('gives up and returns the 429 when Retry-After exceeds the cap', async () => {
    const s = await server((_req, res) => { res.writeHead(429, { 'retry-after': '3600' }); res.end() })
    const c = client({ maxRetryAfterMs: 60_000 })
    const res = await c.request(s.url)
    expect(res.status).toBe(429)
    expect(res.header('retry-after')).toBe('3600')
    expect(s.requests).toHaveLength(1)
    expect(c.delays).toEqual([])
  })

  it('does not retry a POST after a network error once the request may have been sent', async () => {
    const s = await server((_req, _res, raw) => { raw.socket.destroy() })
    const c = client()
    await expect(c.request(s.url, { method: 'POST', body: { charge: 100 } })).rejects.toBeInstanceOf(UpstreamUnreachableError)
    expect(s.requests).toHaveLength(1)
    expect(c.delays).toEqual([])
  })

  it('retries the same POST when marked idempotent (or carrying an Idempotency-Key), and retries GET', async () => {
    const s = await server((_req, _res, raw) => { raw.socket.destroy() })
    const c = client({ maxRetries: 2 })
    await expect(c.request(s.url, { method: 'POST', body: 'x', idempotent: true })).rejects.toBeInstanceOf(UpstreamUnreachableError)
    expect(s.requests).toHaveLength(3)
    await expect(c.request(s.url, { method: 'POST', body: 'x', headers: { 'idempotency-key': 'abc' } })).rejects.toBeInstanceOf(UpstreamUnreachableError)
    expect(s.requests).toHaveLength(6)
    await expect(c.request(s.url)).rejects.toBeInstanceOf(UpstreamUnreachableError)
    expect(s.requests).toHaveLength(9)
  })

  it('retries a POST whose connection was refused (nothing was sent)', async () => {
    const s = await startFakeServer()
    const url = s.url
    await s.close()
    const c = client({ maxRetries: 2 })
    const err = await c.request(url, { method: 'POST', body: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamUnreachableError)
    expect(err).toMatchObject({ networkCode: 'ECONNREFUSED' })
    expect(c.delays).toHaveLength(2)
  })

  it('retries a POST on 503 and 429 but not on 500 by default', async () => {
    const status = { code: 500 }
    const s = await server((_req, res) => { res.statusCode = status.code; res.end() })
    const c = client({ maxRetries: 1 })
    expect((await c.request(s.url, { method: 'POST', body: 'x' })).status).toBe(500)
    expect(s.requests).toHaveLength(1)
    status.code = 503
    expect((await c.request(s.url, { method: 'POST', body: 'x' })).status).toBe(503)
    expect(s.requests).toHaveLength(3)
    status.code = 500
    expect((await c.request(s.url, { method: 'POST', body: 'x', retryOn: [500] })).status).toBe(500)
    expect(s.requests).toHaveLength(5)
  })

  it('logs retries without secrets from headers or the URL', async () => {
    const lines: unknown[] = []
    const logger = { debug: (obj: object, msg?: string) => lines.push([obj, msg]), warn: (obj: object, msg?: string) => lines.push([obj, msg]) }
    let n = 0
    const s = await server((_req, res) => { if (++n === 1) { res.statusCode = 503; res.end() } else sendJson(res, 200, {}) })
    const c = client({ logger })
    await c.request(`${s.url}/hooks/T000/SECRETPATH?apikey=SECRETQUERY`, { headers: { authorization: 'Bearer SECRETTOKEN' } })
    expect(lines.length).toBeGreaterThan(0)
    const text = JSON.stringify(lines)
    for (const secret of ['SECRETPATH', 'SECRETQUERY', 'SECRETTOKEN']) expect(text).not.toContain(secret)
    expect(redactHeaders({ Authorization: 'Bearer x', 'X-Api-Key': 'k', 'PRIVATE-TOKEN': 't', accept: 'a' }))
      .toEqual({ Authorization: '[redacted]', 'X-Api-Key': '[redacted]', 'PRIVATE-TOKEN': '[redacted]', accept: 'a' })
  })
})

describe('http client: timeouts and cancellation', () => {
  it('times out an attempt that gets no response headers', async () => {
    const s = await server(() => { /* never answers */ })
    const c = client({ timeoutMs: 200, maxRetries: 0 })
    const started = Date.now()
    await expect(c.request(s.url)).rejects.toBeInstanceOf(UpstreamTimeoutError)
    expect(Date.now() - started).toBeLessThan(1500)
  })

  it('times out a body that stalls (the deadline covers the whole attempt)', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      const iv = setInterval(() => res.write('x'), 50) // trickles: an idle timeout alone would never fire
      res.on('close', () => clearInterval(iv))
    })
    const c = client({ timeoutMs: 300, maxRetries: 0 })
    await expect(c.request(s.url)).rejects.toMatchObject({ code: 'upstream_timeout', timeoutMs: 300 })
  })

  it('retries a timed-out GET but not a timed-out POST', async () => {
    const s = await server(() => { /* never answers */ })
    const c = client({ timeoutMs: 100, maxRetries: 2 })
    await expect(c.request(s.url)).rejects.toBeInstanceOf(UpstreamTimeoutError)
    expect(s.requests).toHaveLength(3)
    await expect(c.request(s.url, { method: 'POST', body: 'x' })).rejects.toBeInstanceOf(UpstreamTimeoutError)
    expect(s.requests).toHaveLength(4)
  })

  it("stops at once when the caller's signal aborts, without retrying", async () => {
    const s = await server(() => { /* never answers */ })
    const c = client()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    await expect(c.request(s.url, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(s.requests).toHaveLength(1)
    expect(c.delays).toEqual([])
  })
})

/** A handler that answers after 40 ms and records the most requests it had in flight at once. */
function concurrencyTracker() {
  let inFlight = 0
  const t = {
    peak: 0,
    handler: async (_req: unknown, res: Parameters<typeof sendJson>[0]) => {
      inFlight++
      t.peak = Math.max(t.peak, inFlight)
      await delay(40)
      inFlight--
      sendJson(res, 200, {})
    },
  }
  return t
}

describe('http client: limits', () => {
  it('keeps at most perHostConcurrency requests in flight per host and queues the rest', async () => {
    const tracker = concurrencyTracker()
    const s = await server(tracker.handler)
    const c = client({ perHostConcurrency: 2 })
    const results = await Promise.all(Array.from({ length: 7 }, () => c.request(s.url)))
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(tracker.peak).toBe(2)
  })

  it('limits each host separately', async () => {
    const tracker = concurrencyTracker()
    const s = await server(tracker.handler)
    const c = client({ perHostConcurrency: 1, lookup: fakeDns({ 'a.vendor.test': '127.0.0.1', 'b.vendor.test': '127.0.0.1' }) })
    await Promise.all(['a', 'b', 'a', 'b', 'a', 'b'].map((h) => c.request(`http://${h}.vendor.test:${s.port}/`)))
    expect(tracker.peak).toBe(2)
  })

  it('refuses a response body over the size limit (declared or streamed)', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'a')
    const s = await server((req, res) => {
      if (req.url === '/declared') { res.writeHead(200, { 'content-length': big.length }); res.end(big) }
      else { res.writeHead(200); for (let i = 0; i < 32; i++) res.write(big.subarray(0, 64 * 1024)); res.end() }
    })
    const c = client({ maxResponseBytes: 1024 * 1024 })
    await expect(c.request(`${s.url}/declared`)).rejects.toBeInstanceOf(UpstreamResponseTooLargeError)
    await expect(c.request(`${s.url}/chunked`)).rejects.toBeInstanceOf(UpstreamResponseTooLargeError)
    const ok = await c.request(`${s.url}/chunked`, { maxResponseBytes: 4 * 1024 * 1024 })
    expect(ok.body.length).toBe(2 * 1024 * 1024)
    expect(c.delays).toEqual([])
  })
})
