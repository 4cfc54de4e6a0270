import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request as the fake server saw it (body fully read). */
export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>

export interface FakeServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string
  readonly port: number
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[]
  /** Swaps the handler (for scenario steps within one test). */
  setHandler(handler: FakeHandler): void
  close(): Promise<void>
}

/**
 * Starts a plain HTTP server on 127.0.0.1 with a random port. The handler runs once the request body has been
 * read; a handler that throws gets a 500. close() also drops open and hanging connections.
 */
export async function startFakeServer(handler: FakeHandler = (_req, res) => { res.end() }): Promise<FakeServer> {
  let current = handler
  const requests: RecordedRequest[] = []
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = []
    raw.on('data', (c: Buffer) => chunks.push(c))
    raw.on('end', () => {
      const rec: RecordedRequest = { method: raw.method ?? '', url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks) }
      requests.push(rec)
      Promise.resolve()
        .then(() => current(rec, res, raw))
        .catch(() => { if (!res.headersSent) { res.statusCode = 500; res.end() } else res.destroy() })
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setHandler(h) { current = h },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** Responds with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
