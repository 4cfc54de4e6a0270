import { UnauthorizedError } from '../errors.js'
import { TtlCache } from '../util/ttl-cache.js'
import { hashApiKey, type IdentityRepository, type Tenant } from './identity.repository.js'
import { isRole, isTier, type Role, type Tier } from './permissions.js'
import type { TokenService } from './tokens.js'

export interface Principal {
  kind: 'user' | 'api_key'
  tenantId: string
  tenantSlug: string
  role: Role
  /** Token `sub`, or the API key prefix. */
  subject: string
  apiKeyId?: string
  tier?: Tier
  /** Set when the token came from an external identity provider. */
  external?: boolean
}

export interface Credentials { bearer?: string | undefined; apiKey?: string | undefined }

export interface AuthenticatorOptions {
  /** How long a verified API key is trusted before it is looked up again (revocation in other processes takes this long). */
  apiKeyCacheMs?: number
  /** How often last_used_at is written for keys used since the last write. */
  touchIntervalMs?: number
}

/**
 * Turns credentials into a Principal. Hot-path lookups are cached briefly: tenants for a minute, verified
 * keys for `apiKeyCacheMs` (revoking in this process drops the entry at once). last_used_at is written in
 * batches, not per request.
 */
export function createAuthenticator(identity: IdentityRepository, tokens: TokenService, opts: AuthenticatorOptions = {}) {
  const tenants = new TtlCache<Tenant | null>(60_000)
  const keys = new TtlCache<Principal>(opts.apiKeyCacheMs ?? 10_000)
  const usedKeys = new Set<string>()
  const timer = setInterval(() => void flushTouches(), opts.touchIntervalMs ?? 30_000)
  timer.unref()

  async function flushTouches() {
    if (usedKeys.size === 0) return
    const ids = [...usedKeys]
    usedKeys.clear()
    await identity.touchApiKeys(ids, new Date()).catch(() => ids.forEach((id) => usedKeys.add(id)))
  }

  async function tenantFor(ref: string): Promise<Tenant | undefined> {
    const cached = tenants.get(ref)
    if (cached !== undefined) return cached ?? undefined
    const t = await identity.findTenant(ref)
    tenants.set(ref, t ?? null, t ? 60_000 : 5_000)
    return t
  }

  async function fromApiKey(key: string): Promise<Principal> {
    const h = hashApiKey(key)
    let p = keys.get(h)
    if (!p) {
      const row = await identity.verifyApiKey(key)
      if (!row) throw new UnauthorizedError('Invalid API key', 'invalid_api_key')
      if (row.revoked_at) throw new UnauthorizedError('API key has been revoked', 'invalid_api_key')
      if (!isRole(row.role)) throw new UnauthorizedError('API key has an unknown role', 'invalid_api_key')
      const tenant = await tenantFor(row.tenant_id)
      if (!tenant) throw new UnauthorizedError('API key tenant no longer exists', 'invalid_api_key')
      p = { kind: 'api_key', tenantId: tenant.id, tenantSlug: tenant.slug, role: row.role, subject: row.prefix, apiKeyId: row.id }
      if (isTier(row.tier)) p.tier = row.tier
      keys.set(h, p)
    }
    usedKeys.add(p.apiKeyId!)
    return p
  }

  async function fromToken(token: string): Promise<Principal> {
    const claims = await tokens.verify(token)
    if (!isRole(claims.role)) throw new UnauthorizedError(`Token role "${claims.role}" is not a known role`, 'invalid_token')
    const tenant = await tenantFor(claims.tenant)
    if (!tenant) throw new UnauthorizedError('Token tenant does not exist', 'invalid_token')
    const p: Principal = { kind: 'user', tenantId: tenant.id, tenantSlug: tenant.slug, role: claims.role, subject: claims.sub }
    if (isTier(claims.tier)) p.tier = claims.tier
    if (claims.external) p.external = true
    return p
  }

  return {
    async authenticate(c: Credentials): Promise<Principal> {
      if (c.apiKey) return fromApiKey(c.apiKey)
      if (c.bearer) return c.bearer.startsWith('vv_') ? fromApiKey(c.bearer) : fromToken(c.bearer)
      throw new UnauthorizedError('Authentication required: send Authorization: Bearer <token> or X-API-Key', 'unauthorized')
    },
    /** Forget cached keys at once in this process (after a revocation). */
    forgetApiKeys() { keys.clear() },
    flushTouches,
    close() { clearInterval(timer); return flushTouches() },
  }
}
export type Authenticator = ReturnType<typeof createAuthenticator>
