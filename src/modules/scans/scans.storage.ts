/** Where uploaded scanner files wait for their import job, and how they get there (API upload and CLI alike). */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Config } from '../../config.js'

/** VV_UPLOAD_DIR, or <VV_DATA_DIR>/uploads. */
export function uploadRoot(config: Pick<Config, 'UPLOAD_DIR' | 'DATA_DIR'>): string {
  return resolve(config.UPLOAD_DIR ?? join(config.DATA_DIR, 'uploads'))
}

export function uploadPath(root: string, tenantId: string, importId: string): string {
  return join(root, tenantId, importId)
}

/** Streams `source` to `path` (mode 0600), hashing on the way; the caller enforces size limits on the source. */
export async function storeUpload(source: Readable, path: string): Promise<{ size: number; sha256: string }> {
  await mkdir(dirname(path), { recursive: true })
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    },
  })
  await pipeline(source, tap, createWriteStream(path, { mode: 0o600 }))
  return { size, sha256: hash.digest('hex') }
}
