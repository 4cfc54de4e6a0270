import { randomBytes, timingSafeEqual } from 'node:crypto'
import { sql } from 'kysely'
import type { Database } from '../db/database.js'
import { ConflictError, NotFoundError, ValidationError } from '../errors.js'
import { hashPassword } from './passwords.js'
import { isRole, isTier, type Role, type Tier } from './permissions.js'
import { sha256Hex } from '../util/hash.js'

export interface Tenant { id: string; slug: string; name: string; created_at: Date }
export interface ApiKeyRecord {
  id: string; tenant_id: string; name: string; prefix: string; role: string; tier: string | null
  created_at: Date; last_used_at: Date | null; revoked_at: Date | null
}
export interface UserRecord { id: string; tenant_id: string; email: string; role: string; created_at: Date; last_login_at: Date | null; disabled_at: Date | null }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (s: string) => UUID.test(s)
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/

/** API keys look like `vv_<8 hex prefix>_<43 base64url chars>`; the prefix is shown, the key only once. */
const KEY_PATTERN = /^vv_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/
export const hashApiKey: (key: string) => string = sha256Hex

export function parseApiKey(key: string): { prefix: string } | undefined {
  const m = KEY_PATTERN.exec(key)
  return m ? { prefix: `vv_${m[1]}` } : undefined
}

export function identityRepository(db: Database) {
  return {
    async findTenant(idOrSlug: string): Promise<Tenant | undefined> {
      const q = db.selectFrom('tenants').selectAll().where('slug', '!=', '_system')
      return (isUuid(idOrSlug) ? q.where('id', '=', idOrSlug) : q.where('slug', '=', idOrSlug)).executeTakeFirst()
    },
    async requireTenant(idOrSlug: string): Promise<Tenant> {
      const t = await this.findTenant(idOrSlug)
      if (!t) throw new NotFoundError(`Tenant "${idOrSlug}" not found`, 'tenant_not_found')
      return t
    },
    async listTenants(): Promise<Tenant[]> {
      return db.selectFrom('tenants').selectAll().where('slug', '!=', '_system').orderBy('created_at').execute()
    },
    async countTenants(): Promise<number> {
      const r = await db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).where('slug', '!=', '_system').executeTakeFirstOrThrow()
      return Number(r.n)
    },
    async createTenant(slug: string, name?: string): Promise<Tenant> {
      if (!SLUG.test(slug)) throw new ValidationError('Invalid tenant slug', [{ field: 'slug', message: 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit' }])
      const row = await db.insertInto('tenants').values({ slug, name: name ?? slug }).onConflict((oc) => oc.column('slug').doNothing()).returningAll().executeTakeFirst()
      if (!row) throw new ConflictError(`Tenant "${slug}" already exists`, 'tenant_exists')
      return row
    },
    async createUser(tenantId: string, email: string, role: string, password: string): Promise<UserRecord> {
      if (!isRole(role)) throw new ValidationError(`Unknown role "${role}"`, [{ field: 'role', message: 'unknown role' }])
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new ValidationError('Invalid e-mail', [{ field: 'email', message: 'must be an e-mail address' }])
      const password_hash = await hashPassword(password)
      const row = await db.insertInto('users').values({ tenant_id: tenantId, email, role, password_hash })
        .onConflict((oc) => oc.expression(sql`tenant_id, lower(email)`).doNothing())
        .returning(['id', 'tenant_id', 'email', 'role', 'created_at', 'last_login_at', 'disabled_at']).executeTakeFirst()
      if (!row) throw new ConflictError(`User ${email} already exists in this tenant`, 'user_exists')
      return row
    },
    async findUserForLogin(tenantId: string, email: string) {
      return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId)
        .where(sql<boolean>`lower(email) = lower(${email})`).where('disabled_at', 'is', null).executeTakeFirst()
    },
    async touchUserLogin(userId: string) {
      await db.updateTable('users').set({ last_login_at: new Date() }).where('id', '=', userId).execute()
    },
    async createApiKey(tenantId: string, opts: { role: Role; tier?: Tier | undefined; name?: string | undefined }): Promise<{ key: string; record: ApiKeyRecord }> {
      if (opts.tier !== undefined && !isTier(opts.tier)) throw new ValidationError(`Unknown tier "${opts.tier}"`, [{ field: 'tier', message: 'must be community, professional or enterprise' }])
      const prefixHex = randomBytes(4).toString('hex')
      const key = `vv_${prefixHex}_${randomBytes(32).toString('base64url')}`
      const record = await db.insertInto('api_keys').values({
        tenant_id: tenantId, name: opts.name ?? `key-${prefixHex}`, prefix: `vv_${prefixHex}`, key_hash: hashApiKey(key),
        role: opts.role, tier: opts.tier ?? null,
      }).returning(['id', 'tenant_id', 'name', 'prefix', 'role', 'tier', 'created_at', 'last_used_at', 'revoked_at']).executeTakeFirstOrThrow()
      return { key, record }
    },
    /** Looks a presented key up by its prefix and compares hashes in constant time. */
    async verifyApiKey(key: string) {
      const parsed = parseApiKey(key)
      if (!parsed) return undefined
      const row = await db.selectFrom('api_keys').selectAll().where('prefix', '=', parsed.prefix).executeTakeFirst()
      if (!row) return undefined
      const ok = timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hashApiKey(key), 'hex'))
      return ok ? row : undefined
    },
    async listApiKeys(tenantId: string): Promise<ApiKeyRecord[]> {
      return db.selectFrom('api_keys').select(['id', 'tenant_id', 'name', 'prefix', 'role', 'tier', 'created_at', 'last_used_at', 'revoked_at'])
        .where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').execute()
    },
    /** Revokes by prefix, optionally only within one tenant. Returns the revoked key or undefined. */
    async revokeApiKey(prefix: string, tenantId?: string): Promise<ApiKeyRecord | undefined> {
      let q = db.updateTable('api_keys').set({ revoked_at: new Date() }).where('prefix', '=', prefix).where('revoked_at', 'is', null)
      if (tenantId) q = q.where('tenant_id', '=', tenantId)
      return q.returning(['id', 'tenant_id', 'name', 'prefix', 'role', 'tier', 'created_at', 'last_used_at', 'revoked_at']).executeTakeFirst()
    },
    async touchApiKeys(ids: string[], at: Date) {
      if (ids.length === 0) return
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', 'in', ids).execute()
    },
  }
}
export type IdentityRepository = ReturnType<typeof identityRepository>
