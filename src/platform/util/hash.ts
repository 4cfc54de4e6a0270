import * as crypto from 'node:crypto'

type OneShot = (algorithm: string, data: string | Buffer, encoding: 'hex') => string
const oneShot = (crypto as unknown as { hash?: OneShot }).hash

/**
 * Hex SHA-256 of a string or buffer. Uses the one-shot `crypto.hash` where the runtime has it (Node ≥ 20.12),
 * which skips the Hash object: ~0.45 µs instead of ~1.4 µs for a 200-byte string on Node 20; falls back to createHash.
 */
export const sha256Hex: (data: string | Buffer) => string = oneShot
  ? (data) => oneShot('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex')
