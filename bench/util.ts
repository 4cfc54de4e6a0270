import { createServer, type AddressInfo } from 'node:net'

/** A TCP port that was free a moment ago, for a child server process. */
export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as AddressInfo
  await new Promise((r) => srv.close(r))
  return port
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
