import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * Reads a secret kept in the data dir, generating it (mode 0600) on first use. Embedded installs use this for
 * the JWT secret and the encryption key when they are not configured.
 */
export function localSecret(dataDir: string, name: string, generate: () => string = () => randomBytes(32).toString('base64')): string {
  const dir = resolve(dataDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, name)
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const value = generate()
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  return value
}
