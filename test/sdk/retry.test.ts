/**
 * Retry mechanics of the SDK's transport: which failures are retried, backoff, honouring retry_after / Retry-After,
 * timeouts and aborts. A small node:http server stands in for the network here (it answers 503 then 200, 429 with a
 * retry_after, or hangs); the SDK's real API compatibility is tested against the real app in api.test.ts.
 */
import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  APIError, AuthenticationError, PayloadTooLargeError, RateLimitError, SecureVectorClient, TimeoutError, backoffDelay, retryAfterSeconds,
  type SecureVectorClientOptions,
} from '../../src/sdk/index.js'
import { startFakeServer, type FakeHandler, type FakeServer } from '../fakes/http-server.js'

const OK = { is_threat: false, risk_score: 3, confidence: 0.97, detections: [], metadata: { analyzed_by: 'api', analysis_version: '1.0', timestamp: '2025-11-05T21:00:00Z' } }

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** Answers the listed responses in turn, then 200 OK forever. */
function sequence(...steps: ((res: ServerResponse) => void)[]): FakeHandler {
  let i = 0
  return (_req, res) => {
    const step = steps[i++]
    if (step) step(res)
    else send(res, 200, OK)
  }
}

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function setup(handler: FakeHandler, opts: SecureVectorClientOptions = {}) {
  server = await startFakeServer(handler)
  const client = new SecureVectorClient({ mode: 'api', apiKey: 'sk_test', apiUrl: server.url, retryBaseDelayMs: 20, cacheEnabled: false, env: {}, ...opts })
  return { server, client }
}

describe('retries', () => {
  it('retries a 503 and returns the 200 that follows', async () => {
    const { server, client } = await setup(sequence((res) => send(res, 503, { error: 'Service unavailable', status: 503 })))
    const r = await client.analyze('hello')
    expect(r).toMatchObject({ is_threat: false, risk_score: 3, metadata: { analyzed_by: 'api' } })
    expect(server.requests).toHaveLength(2)
    expect(client.getStats()).toMatchObject({ api_calls: 2, retries: 1, errors: 1, fallbacks: 0 })
  })

  it('gives up after maxRetries 5xx with an APIError carrying status and body', async () => {
    const { server, client } = await setup((_req, res) => send(res, 500, { error: 'Internal server error', status: 500 }), { maxRetries: 2 })
    const err = await client.analyze('hello').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(APIError)
    expect(err).toMatchObject({ status: 500, body: { error: 'Internal server error', status: 500 } })
    expect((err as Error).message).toMatch(/Internal server error \(HTTP 500\)/)
    expect(server.requests).toHaveLength(3)
  })

  it('with fallbackToLocal, exhausted 5xx retries are answered locally', async () => {
    const { client } = await setup((_req, res) => send(res, 502, 'bad gateway'), { maxRetries: 1, fallbackToLocal: true })
    const r = await client.analyze('hello')
    expect(r.metadata).toMatchObject({ analyzed_by: 'local', fallback: true, fallback_reason: 'server_error' })
    expect(client.getStats()).toMatchObject({ api_calls: 2, fallbacks: 1, local_analyses: 1 })
  })

  it('backs off exponentially between attempts', async () => {
    const times: number[] = []
    const { client } = await setup((_req, res) => { times.push(performance.now()); send(res, 503, { error: 'down', status: 503 }) }, { maxRetries: 3, retryBaseDelayMs: 100 })
    await client.analyze('hello').catch(() => undefined)
    expect(times).toHaveLength(4)
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    // Equal jitter: attempt n waits between half and all of base·2^n.
    expect(gaps[0]).toBeGreaterThanOrEqual(45)
    expect(gaps[1]).toBeGreaterThanOrEqual(95)
    expect(gaps[2]).toBeGreaterThanOrEqual(195)
  })

  it('honours the body\'s retry_after on 429 before retrying', async () => {
    const { server, client } = await setup(sequence((res) => send(res, 429, { error: 'Rate limit exceeded', status: 429, retry_after: 1 })))
    const t0 = performance.now()
    await client.analyze('hello')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990)
    expect(server.requests).toHaveLength(2)
  })

  it('honours a Retry-After header when the body has no retry_after', async () => {
    const { client } = await setup(sequence((res) => send(res, 429, { error: 'Too many', status: 429 }, { 'retry-after': '1' })))
    const t0 = performance.now()
    await client.analyze('hello')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990)
  })

  it('a retry_after longer than maxRetryDelayMs is thrown at once as RateLimitError with the X-RateLimit-* values', async () => {
    const reset = Math.floor(Date.now() / 1000) + 60
    const { server, client } = await setup((_req, res) => send(res, 429, { error: 'Rate limit exceeded', status: 429, retry_after: 60 }, {
      'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), 'retry-after': '60',
    }), { maxRetries: 5, maxRetryDelayMs: 5000 })
    const t0 = performance.now()
    const err = await client.analyze('hello').catch((e: unknown) => e)
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(err).toBeInstanceOf(RateLimitError)
    expect(err).toMatchObject({ status: 429, retryAfter: 60, limit: 100, remaining: 0, reset })
    expect(server.requests).toHaveLength(1)
  })

  it('a 429 without retry information is retried with backoff, then thrown', async () => {
    const { server, client } = await setup((_req, res) => send(res, 429, { error: 'Rate limit exceeded', status: 429 }), { maxRetries: 2 })
    const err = await client.analyze('hello').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RateLimitError)
    expect((err as RateLimitError).retryAfter).toBeUndefined()
    expect(server.requests).toHaveLength(3)
  })

  it('never retries 4xx other than 429', async () => {
    for (const [status, cls] of [[400, APIError], [401, AuthenticationError], [403, APIError], [404, APIError], [413, PayloadTooLargeError]] as const) {
      const { server, client } = await setup((_req, res) => send(res, status, { error: `e${status}`, status, ...(status === 413 ? { max_size: 1048576 } : {}) }), { maxRetries: 3, fallbackToLocal: true })
      const err = await client.analyze('hello').catch((e: unknown) => e)
      expect(err, String(status)).toBeInstanceOf(cls)
      expect((err as APIError).status).toBe(status)
      expect(server.requests, String(status)).toHaveLength(1)
      if (status === 413) expect((err as PayloadTooLargeError).maxSize).toBe(1048576)
      await server.close()
    }
  })

  it('a slow server times out (TimeoutError), is retried, and can fall back', async () => {
    const hang: FakeHandler = (_req, res) => { setTimeout(() => send(res, 200, OK), 1000).unref() }
    const { server, client } = await setup(hang, { timeoutMs: 100, maxRetries: 1 })
    const t0 = performance.now()
    const err = await client.analyze('hello').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeoutError)
    expect(err).toMatchObject({ timeoutMs: 100 })
    expect(performance.now() - t0).toBeLessThan(900)
    expect(server.requests).toHaveLength(2)

    const fb = new SecureVectorClient({ mode: 'api', apiKey: 'k', apiUrl: server.url, timeoutMs: 100, maxRetries: 0, fallbackToLocal: true, env: {} })
    expect((await fb.analyze('hello')).metadata).toMatchObject({ analyzed_by: 'local', fallback_reason: 'timeout' })
  })

  it('an abort during a retry wait stops at once with the abort reason, without fallback', async () => {
    const { client } = await setup((_req, res) => send(res, 503, { error: 'down', status: 503 }), { retryBaseDelayMs: 5000, fallbackToLocal: true })
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('caller gave up')), 100)
    const t0 = performance.now()
    await expect(client.analyze('hello', { signal: ac.signal })).rejects.toThrow('caller gave up')
    expect(performance.now() - t0).toBeLessThan(2000)
  })

  it('a batch response with the wrong number of results is an APIError', async () => {
    const { client } = await setup((_req, res) => send(res, 200, { results: [OK] }))
    await expect(client.analyzeBatch(['a', 'b'])).rejects.toBeInstanceOf(APIError)
  })
})

describe('retry helpers', () => {
  it('backoffDelay doubles per attempt, is capped, and jitters between half and all of the step', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50)
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100)
    expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(800)
    expect(backoffDelay(20, 100, 1000, () => 1)).toBe(1000)
  })

  it('retryAfterSeconds prefers the body, then Retry-After seconds or HTTP-date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(retryAfterSeconds(new Headers({ 'retry-after': '5' }), { retry_after: 60 }, now)).toBe(60)
    expect(retryAfterSeconds(new Headers({ 'retry-after': '5' }), {}, now)).toBe(5)
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), {}, now)).toBe(30)
    expect(retryAfterSeconds(new Headers({ 'retry-after': '-1' }), {}, now)).toBeUndefined()
    expect(retryAfterSeconds(new Headers(), 'text', now)).toBeUndefined()
  })
})
