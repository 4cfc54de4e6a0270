/**
 * A local stand-in for the Phoenix Security API, for the demo and the tests: the two calls VeriVault makes, with
 * Phoenix's shapes — GET /v1/auth/access_token (HTTP Basic client id/secret → {token}) and POST /v1/import/assets
 * (Bearer token, JSON {importType, assessment: {assetType, name}, assets: [...]}) → {id}. It checks what a real
 * server would reject (credentials, token, payload shape) and keeps every accepted import for inspection.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface PhoenixImport {
  id: string
  importType: string
  assessment: { assetType: string; name: string }
  assets: { attributes: Record<string, unknown>; tags?: unknown[]; findings: Record<string, unknown>[] }[]
  bytes: number
}

export interface FakePhoenix {
  readonly url: string
  readonly imports: PhoenixImport[]
  /** Token requests seen (successful or not). */
  tokenRequests: number
  /** The next `n` import calls answer `status` (e.g. 503 to test retries). */
  failNext(n: number, status: number): void
  close(): Promise<void>
}

const IMPORT_TYPES = new Set(['new', 'merge', 'delta'])
const ASSET_TYPES = new Set(['INFRA', 'WEB', 'CLOUD', 'CONTAINER', 'REPOSITORY', 'CODE', 'BUILD'])

function send(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(body))
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Problems a real Phoenix would answer 400 to; empty when the payload is well-formed. */
function payloadProblems(p: unknown): string[] {
  const problems: string[] = []
  const o = p as Record<string, any>
  if (typeof o !== 'object' || o === null) return ['body must be a JSON object']
  if (!IMPORT_TYPES.has(o.importType)) problems.push('importType must be new, merge or delta')
  if (!o.assessment || !ASSET_TYPES.has(o.assessment.assetType) || typeof o.assessment.name !== 'string' || !o.assessment.name) {
    problems.push('assessment needs assetType (INFRA, WEB, CLOUD, CONTAINER, REPOSITORY, CODE, BUILD) and name')
  }
  if (!Array.isArray(o.assets)) problems.push('assets must be an array')
  for (const [i, a] of (Array.isArray(o.assets) ? o.assets : []).entries()) {
    if (!a || typeof a.attributes !== 'object' || Object.keys(a.attributes).length === 0) problems.push(`assets[${i}].attributes is required`)
    if (!Array.isArray(a?.findings)) problems.push(`assets[${i}].findings must be an array`)
    for (const [j, f] of (Array.isArray(a?.findings) ? a.findings : []).entries()) {
      if (typeof f.name !== 'string' || !f.name) problems.push(`assets[${i}].findings[${j}].name is required`)
      if (typeof f.severity !== 'number' || f.severity < 0 || f.severity > 10) problems.push(`assets[${i}].findings[${j}].severity must be a number 0-10`)
    }
    if (problems.length > 10) break
  }
  return problems
}

export async function startFakePhoenix(opts: { clientId: string; clientSecret: string; port?: number; host?: string }): Promise<FakePhoenix> {
  const tokens = new Set<string>()
  const imports: PhoenixImport[] = []
  let failures: { n: number; status: number } = { n: 0, status: 503 }
  const state = { tokenRequests: 0 }

  async function body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    return Buffer.concat(chunks)
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://phoenix.local')
      if (req.method === 'GET' && url.pathname === '/v1/auth/access_token') {
        state.tokenRequests++
        const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '')
        const [id, secret] = m ? Buffer.from(m[1]!, 'base64').toString().split(/:(.*)/s) : []
        if (!id || secret === undefined || !same(id, opts.clientId) || !same(secret, opts.clientSecret)) {
          return send(res, 401, { error: 'Unauthorized', message: 'Invalid client credentials' })
        }
        const token = randomBytes(24).toString('base64url')
        tokens.add(token)
        return send(res, 200, { token })
      }
      if (req.method === 'POST' && url.pathname === '/v1/import/assets') {
        const raw = await body(req)
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
        if (!token || !tokens.has(token)) return send(res, 401, { error: 'Unauthorized', message: 'Missing or invalid bearer token' })
        if (failures.n > 0) {
          failures = { ...failures, n: failures.n - 1 }
          return send(res, failures.status, { error: 'Unavailable', message: 'Injected failure' })
        }
        let payload: unknown
        try {
          payload = JSON.parse(raw.toString('utf8'))
        } catch {
          return send(res, 400, { error: 'Bad Request', message: 'Body is not JSON' })
        }
        const problems = payloadProblems(payload)
        if (problems.length) return send(res, 400, { error: 'Bad Request', message: problems.join('; ') })
        const id = `imp-${randomBytes(6).toString('hex')}`
        imports.push({ ...(payload as Omit<PhoenixImport, 'id' | 'bytes'>), id, bytes: raw.length })
        return send(res, 200, { id, status: 'IMPORTED' })
      }
      send(res, 404, { error: 'Not Found', message: `${req.method} ${url.pathname}` })
    })().catch(() => send(res, 500, { error: 'Internal Server Error' }))
  })
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    imports,
    get tokenRequests() { return state.tokenRequests },
    set tokenRequests(v: number) { state.tokenRequests = v },
    failNext(n: number, status: number) { failures = { n, status } },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}
