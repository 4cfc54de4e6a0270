import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import {
  ENCRYPTION_KEY_FILE, SecretBoxError, createSecretBox, keyIdOf, maskSecret, resolveEncryptionKey,
} from '../../src/platform/crypto/secret-box.js'

const key = () => randomBytes(32)

/** Flips one bit of the base64url part `index` of a sealed value. */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.')
  const bytes = Buffer.from(parts[index]!, 'base64url')
  bytes[0] = bytes[0]! ^ 0x01
  parts[index] = bytes.toString('base64url')
  return parts.join('.')
}

describe('secret box', () => {
  it('round-trips text, unicode and empty strings, with a fresh IV every time', () => {
    const box = createSecretBox(key())
    for (const text of ['xoxb-123-456', 'päss wörd 🔑', '']) {
      expect(box.open(box.seal(text))).toBe(text)
    }
    const a = box.seal('same')
    const b = box.seal('same')
    expect(a).not.toBe(b)
    expect(a.split('.')[2]).not.toBe(b.split('.')[2])
  })

  it('produces a versioned, self-describing string that does not contain the plaintext', () => {
    const k = key()
    const sealed = createSecretBox(k).seal('super-secret-token')
    const parts = sealed.split('.')
    expect(parts).toHaveLength(5)
    expect(parts[0]).toBe('v1')
    expect(parts[1]).toBe(keyIdOf(k))
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(12)
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(16)
    expect(sealed).not.toContain('super-secret')
  })

  it('round-trips JSON', () => {
    const box = createSecretBox(key())
    const creds = { client_id: 'abc', client_secret: 's3cr3t', scopes: ['read', 'write'] }
    expect(box.openJson(box.sealJson(creds, 'connection:1'), 'connection:1')).toEqual(creds)
  })

  it('detects tampering with any part', () => {
    const box = createSecretBox(key())
    const sealed = box.seal('hello world', 'row:1')
    for (const part of [2, 3, 4]) {
      expect(() => box.open(flip(sealed, part), 'row:1')).toThrow(SecretBoxError)
    }
    // relabelled with another version or key id
    expect(() => box.open(sealed.replace(/^v1\./, 'v2.'), 'row:1')).toThrow(SecretBoxError)
    expect(() => box.open(flip(sealed, 1), 'row:1')).toThrow(SecretBoxError)
    // truncated ciphertext
    expect(() => box.open(sealed.slice(0, -2), 'row:1')).toThrow(SecretBoxError)
    for (const junk of ['', 'v1', 'v1.a.b.c', 'v1.a.b.c.d.e', 'v1.!!.aaaa.bbbb.cccc', 'plain text']) {
      expect(() => box.open(junk)).toThrow(SecretBoxError)
    }
  })

  it('refuses the wrong AAD (and a missing one)', () => {
    const box = createSecretBox(key())
    const sealed = box.seal('webhook-secret', 'connection:42')
    expect(box.open(sealed, 'connection:42')).toBe('webhook-secret')
    expect(() => box.open(sealed, 'connection:43')).toThrow(SecretBoxError)
    expect(() => box.open(sealed)).toThrow(SecretBoxError)
    expect(() => box.open(box.seal('x'), 'connection:42')).toThrow(SecretBoxError)
  })

  it('refuses values sealed under another key', () => {
    const sealed = createSecretBox(key()).seal('x')
    const other = createSecretBox(key())
    expect(() => other.open(sealed)).toThrow(expect.objectContaining({ code: 'secret_unknown_key' }) as Error)
  })

  it('opens values sealed under previous keys after a rotation, and reseals them under the new key', () => {
    const oldKey = key()
    const older = createSecretBox(oldKey).seal('from the old key', 'aad')
    const newKey = key()
    const box = createSecretBox(newKey, { previousKeys: [oldKey] })
    expect(box.open(older, 'aad')).toBe('from the old key')
    expect(box.needsReseal(older)).toBe(true)
    const resealed = box.reseal(older, 'aad')
    expect(box.needsReseal(resealed)).toBe(false)
    expect(resealed.split('.')[1]).toBe(box.keyId)
    // the resealed value no longer needs the old key
    expect(createSecretBox(newKey).open(resealed, 'aad')).toBe('from the old key')
    // a previous key is never used to seal
    expect(box.seal('new').split('.')[1]).not.toBe(keyIdOf(oldKey))
  })

  it('rejects keys that are not 32 bytes', () => {
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow(/32 bytes/)
    expect(() => createSecretBox(Buffer.alloc(33))).toThrow(/32 bytes/)
    expect(() => createSecretBox(key(), { previousKeys: [Buffer.alloc(31)] })).toThrow(/Previous encryption key #1/)
  })

  it('keeps its own copy of the key', () => {
    const k = key()
    const box = createSecretBox(k)
    const sealed = box.seal('x')
    k.fill(0)
    expect(box.open(sealed)).toBe('x')
  })
})

describe('resolveEncryptionKey', () => {
  const dirs: string[] = []
  const tempDir = () => { const d = mkdtempSync(join(tmpdir(), 'vv-key-')); dirs.push(d); return d }
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

  it('decodes VV_ENCRYPTION_KEY given as base64 or hex', () => {
    const k = key()
    expect(resolveEncryptionKey({ ENCRYPTION_KEY: k.toString('base64'), DATA_DIR: '/nonexistent', embedded: false }).equals(k)).toBe(true)
    expect(resolveEncryptionKey({ ENCRYPTION_KEY: k.toString('hex'), DATA_DIR: '/nonexistent', embedded: true }).equals(k)).toBe(true)
  })

  it('rejects a bad VV_ENCRYPTION_KEY naming the setting', () => {
    for (const bad of ['short', Buffer.alloc(16).toString('base64'), 'z'.repeat(64)]) {
      expect(() => resolveEncryptionKey({ ENCRYPTION_KEY: bad, DATA_DIR: tempDir(), embedded: true })).toThrow(ConfigError)
    }
    expect(() => resolveEncryptionKey({ ENCRYPTION_KEY: 'short', DATA_DIR: tempDir(), embedded: true })).toThrow(/VV_ENCRYPTION_KEY/)
  })

  it('requires the key outside embedded mode', () => {
    expect(() => resolveEncryptionKey({ DATA_DIR: tempDir(), embedded: false })).toThrow(/VV_ENCRYPTION_KEY is required/)
  })

  it('generates the key into the data dir with mode 0600 in embedded mode, and reuses it', () => {
    const dir = join(tempDir(), 'nested', 'data')
    const first = resolveEncryptionKey({ DATA_DIR: dir, embedded: true })
    expect(first).toHaveLength(32)
    const file = join(dir, ENCRYPTION_KEY_FILE)
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first)).toBe(true)
    const again = resolveEncryptionKey({ DATA_DIR: dir, embedded: true })
    expect(again.equals(first)).toBe(true)
    // and a box built from it opens what an earlier one sealed
    expect(createSecretBox(again).open(createSecretBox(first).seal('persisted'))).toBe('persisted')
  })

  it('refuses a corrupted key file instead of silently generating a new key', () => {
    const dir = tempDir()
    writeFileSync(join(dir, ENCRYPTION_KEY_FILE), 'not-a-key\n', { mode: 0o600 })
    expect(() => resolveEncryptionKey({ DATA_DIR: dir, embedded: true })).toThrow(/does not hold a 32-byte key/)
  })
})

describe('maskSecret', () => {
  it('shows the first 4 characters of long secrets and a length hint', () => {
    expect(maskSecret('ghp_abcdefghijklmnopqrstuvwxyz0123456789')).toBe('ghp_…(40 chars)')
  })
  it('shows no characters of short secrets', () => {
    expect(maskSecret('hunter2')).toBe('…(7 chars)')
    expect(maskSecret('')).toBe('')
    expect(maskSecret(undefined)).toBe('')
  })
  it('never splits a surrogate pair', () => {
    expect(maskSecret('🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑')).toBe('🔑🔑🔑🔑…(12 chars)')
  })
})
