import { createHmac, createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { ConfigError, decodeKey } from '../../config.js'
import { AppError } from '../errors.js'
import { localSecret } from '../local-secrets.js'

/**
 * Secrets at rest (connector credentials, webhook secrets, provider keys): AES-256-GCM under VV_ENCRYPTION_KEY.
 *
 * Sealed form: `v1.<key id>.<iv>.<tag>.<ciphertext>`, each part base64url. The key id (first 6 bytes of a
 * SHA-256 over the key, domain-separated) lets `open` pick the right key after a rotation; it reveals nothing
 * usable about a 256-bit random key. The version and key id are authenticated along with the caller's AAD,
 * so a sealed value cannot be relabelled; use the AAD to bind a secret to its row (e.g. `connection:<id>`)
 * so it cannot be copied to another one.
 */

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const B64URL = /^[A-Za-z0-9_-]*$/

/** A sealed value could not be opened: malformed, tampered with, sealed under an unknown key or another AAD. */
export class SecretBoxError extends AppError {
  constructor(message: string, code = 'secret_unreadable') {
    super(500, code, message)
  }
}

export interface SecretBox {
  /** Current key's id (also embedded in every value it seals). */
  readonly keyId: string
  seal(plaintext: string, aad?: string): string
  open(sealed: string, aad?: string): string
  sealJson(value: unknown, aad?: string): string
  openJson<T = unknown>(sealed: string, aad?: string): T
  /** True when the value was sealed under a previous key (re-seal it with `reseal`). */
  needsReseal(sealed: string): boolean
  /** Opens with whichever key sealed it and seals again under the current key. */
  reseal(sealed: string, aad?: string): string
  /**
   * A 32-byte key for another purpose (keyed pseudonyms, signing), derived from the current key with HMAC-SHA256
   * so that it is stable for as long as the encryption key is, and reveals nothing about it.
   */
  deriveKey(purpose: string): Buffer
}

export interface SecretBoxOptions {
  /** Keys of earlier generations, used only to open values sealed before a rotation. */
  previousKeys?: readonly Buffer[]
}

/** Key id as embedded in sealed values: 8 base64url characters. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('verivault/secret-box/key-id\0').update(key).digest().subarray(0, 6).toString('base64url')
}

function checkKey(key: Buffer, what: string): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new Error(`${what} must be ${KEY_BYTES} bytes, got ${Buffer.isBuffer(key) ? key.length : typeof key}`)
  return Buffer.from(key) // own copy: a caller zeroing or reusing its buffer must not change ours
}

function additionalData(keyId: string, aad: string | undefined): Buffer {
  // Header and caller AAD are length-separated by the NUL; key ids are base64url so cannot contain one.
  return Buffer.from(`${VERSION}.${keyId}\0${aad ?? ''}`, 'utf8')
}

export function createSecretBox(key: Buffer, opts: SecretBoxOptions = {}): SecretBox {
  const current = checkKey(key, 'Encryption key')
  const currentId = keyIdOf(current)
  const keys = new Map<string, Buffer>()
  for (const [i, k] of (opts.previousKeys ?? []).entries()) {
    const copy = checkKey(k, `Previous encryption key #${i + 1}`)
    keys.set(keyIdOf(copy), copy)
  }
  keys.set(currentId, current)

  function seal(plaintext: string, aad?: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(additionalData(currentId, aad))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return [VERSION, currentId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
  }

  function parse(sealed: string): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
    const parts = typeof sealed === 'string' ? sealed.split('.') : []
    const [version, keyId, iv, tag, ciphertext] = parts
    if (parts.length !== 5 || version === undefined || keyId === undefined || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new SecretBoxError('Sealed secret is malformed', 'secret_malformed')
    }
    if (version !== VERSION) throw new SecretBoxError(`Sealed secret has unsupported version "${version.slice(0, 8)}"`, 'secret_malformed')
    if (![keyId, iv, tag, ciphertext].every((p) => B64URL.test(p))) throw new SecretBoxError('Sealed secret is malformed', 'secret_malformed')
    const out = { keyId, iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url') }
    if (out.iv.length !== IV_BYTES || out.tag.length !== TAG_BYTES) throw new SecretBoxError('Sealed secret is malformed', 'secret_malformed')
    return out
  }

  function open(sealed: string, aad?: string): string {
    const p = parse(sealed)
    const k = keys.get(p.keyId)
    if (!k) throw new SecretBoxError('Sealed secret was encrypted under a key that is not configured (wrong or rotated-out VV_ENCRYPTION_KEY)', 'secret_unknown_key')
    try {
      const decipher = createDecipheriv('aes-256-gcm', k, p.iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(additionalData(p.keyId, aad))
      decipher.setAuthTag(p.tag)
      return Buffer.concat([decipher.update(p.ciphertext), decipher.final()]).toString('utf8')
    } catch {
      throw new SecretBoxError('Sealed secret failed authentication (tampered with, or opened with the wrong AAD)')
    }
  }

  return {
    keyId: currentId,
    deriveKey: (purpose: string) => createHmac('sha256', current).update(`verivault derived key\n${purpose}`).digest(),
    seal,
    open,
    sealJson: (value, aad) => seal(JSON.stringify(value), aad),
    openJson<T>(sealed: string, aad?: string): T {
      const text = open(sealed, aad)
      try { return JSON.parse(text) as T } catch { throw new SecretBoxError('Sealed secret is not JSON', 'secret_malformed') }
    },
    needsReseal: (sealed) => parse(sealed).keyId !== currentId,
    reseal: (sealed, aad) => seal(open(sealed, aad), aad),
  }
}

/** File in the data dir holding the generated key of an embedded install. */
export const ENCRYPTION_KEY_FILE = 'encryption-key'

/**
 * The 32-byte key for secrets at rest: VV_ENCRYPTION_KEY when set; otherwise, for an embedded install, a key
 * generated once into `<data dir>/encryption-key` (mode 0600). A server install (VV_DATABASE_URL) must
 * configure it, since every process has to share it.
 */
export function resolveEncryptionKey(config: { ENCRYPTION_KEY?: string | undefined; DATA_DIR: string; embedded: boolean }): Buffer {
  if (config.ENCRYPTION_KEY !== undefined) {
    const key = decodeKey(config.ENCRYPTION_KEY)
    if (!key) throw new ConfigError('VV_ENCRYPTION_KEY', 'must be 32 bytes as base64 or 64 hex characters')
    return key
  }
  if (!config.embedded) throw new ConfigError('VV_ENCRYPTION_KEY', 'is required when VV_DATABASE_URL is set (every process must share it)')
  const key = decodeKey(localSecret(config.DATA_DIR, ENCRYPTION_KEY_FILE))
  if (!key) {
    throw new ConfigError('VV_ENCRYPTION_KEY', `is unset and ${join(resolve(config.DATA_DIR), ENCRYPTION_KEY_FILE)} does not hold a 32-byte key (base64 or hex)`)
  }
  return key
}

/**
 * A secret for display: the first 4 characters of a long value, then an ellipsis and the length, e.g.
 * `ghp_…(40 chars)`. Values shorter than 12 characters show no characters at all.
 */
export function maskSecret(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  const length = [...value].length
  const shown = length >= 12 ? [...value].slice(0, 4).join('') : ''
  return `${shown}…(${length} chars)`
}
