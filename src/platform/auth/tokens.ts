import { createSecretKey } from 'node:crypto'
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { UnauthorizedError } from '../errors.js'
import { TtlCache } from '../util/ttl-cache.js'

export const OWN_ISSUER = 'verivault'
export const OWN_AUDIENCE = 'verivault'
const EXTERNAL_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']

export interface TokenClaims {
  sub: string
  /** tenant id or slug, from `tenant_id`, `org_id` or `org`. */
  tenant: string
  role: string
  tier?: string | undefined
  exp: number
  external: boolean
}

export interface TokenServiceOptions {
  secret: string
  accessTtlSeconds: number
  jwksUrl?: string | undefined
  issuer?: string | undefined
  audience?: string | undefined
}

export interface IssueOptions { sub: string; tenantId: string; role: string; tier?: string | undefined; ttlSeconds?: number | undefined }

export function createTokenService(opts: TokenServiceOptions) {
  // A KeyObject made once: handing jose raw bytes makes it import a key on every verify.
  const key = createSecretKey(Buffer.from(opts.secret, 'utf8'))
  // Verified tokens are remembered until they expire (at most a minute), so a client reusing its token costs a map lookup.
  const verified = new TtlCache<TokenClaims>(60_000)
  const jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined

  function claimsOf(payload: JWTPayload, external: boolean): TokenClaims {
    const tenant = [payload.tenant_id, payload.org_id, payload.org].find((v) => typeof v === 'string' && v.length > 0) as string | undefined
    if (!tenant) throw new UnauthorizedError('Token has no tenant_id claim', 'invalid_token')
    if (typeof payload.role !== 'string' || payload.role === '') throw new UnauthorizedError('Token has no role claim', 'invalid_token')
    if (typeof payload.exp !== 'number') throw new UnauthorizedError('Token has no exp claim', 'invalid_token')
    return {
      sub: typeof payload.sub === 'string' ? payload.sub : 'unknown', tenant, role: payload.role,
      tier: typeof payload.tier === 'string' ? payload.tier : undefined, exp: payload.exp, external,
    }
  }

  return {
    accessTtlSeconds: opts.accessTtlSeconds,
    async issue(o: IssueOptions): Promise<{ token: string; expiresAt: Date }> {
      const ttl = o.ttlSeconds ?? opts.accessTtlSeconds
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({ tenant_id: o.tenantId, role: o.role, ...(o.tier ? { tier: o.tier } : {}) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(o.sub).setIssuer(OWN_ISSUER).setAudience(OWN_AUDIENCE).setIssuedAt(now).setExpirationTime(now + ttl)
        .sign(key)
      return { token, expiresAt: new Date((now + ttl) * 1000) }
    },
    /** Verifies signature, algorithm, issuer, audience and expiry. Throws UnauthorizedError with the reason. */
    async verify(token: string): Promise<TokenClaims> {
      const cached = verified.get(token)
      if (cached) return cached
      const claims = await verifyUncached(token)
      verified.set(token, claims, Math.min(claims.exp * 1000 - Date.now(), 60_000))
      return claims
    },
  }

  async function verifyUncached(token: string): Promise<TokenClaims> {
    let alg: string | undefined
    {
      try {
        alg = decodeProtectedHeader(token).alg
      } catch {
        throw new UnauthorizedError('Malformed token', 'invalid_token')
      }
      try {
        if (alg === 'HS256') {
          const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: OWN_ISSUER, audience: OWN_AUDIENCE })
          return claimsOf(payload, false)
        }
        if (jwks && alg && EXTERNAL_ALGS.includes(alg)) {
          const { payload } = await jwtVerify(token, jwks, { algorithms: EXTERNAL_ALGS, issuer: opts.issuer!, audience: opts.audience! })
          return claimsOf(payload, true)
        }
      } catch (err) {
        if (err instanceof UnauthorizedError) throw err
        if (err instanceof joseErrors.JWTExpired) throw new UnauthorizedError('Token expired', 'token_expired')
        if (err instanceof joseErrors.JWTClaimValidationFailed) throw new UnauthorizedError(`Token claim "${err.claim}" is invalid`, 'invalid_token')
        if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new UnauthorizedError('Token signature is invalid', 'invalid_token')
        if (err instanceof joseErrors.JWKSNoMatchingKey) throw new UnauthorizedError('Token signing key is unknown', 'invalid_token')
        throw new UnauthorizedError('Invalid token', 'invalid_token')
      }
      throw new UnauthorizedError(`Token algorithm "${alg ?? 'none'}" is not accepted`, 'invalid_token')
    }
  }
}
export type TokenService = ReturnType<typeof createTokenService>
