import type { Redis } from 'ioredis'
import { sql } from 'kysely'
import type { Database } from './db/database.js'

/**
 * Remembers single-use values (request signatures) for a while, across processes: Redis when configured,
 * otherwise a Postgres table. `claim` is true only for the first caller within the TTL.
 */
export interface NonceStore {
  claim(scope: string, nonce: string, ttlSeconds: number): Promise<boolean>
  /** Deletes expired entries (Postgres store; Redis expires keys itself). */
  purgeExpired(): Promise<number>
}

export function createNonceStore(db: Database, redis?: Redis): NonceStore {
  if (redis) {
    return {
      async claim(scope, nonce, ttl) {
        return (await redis.set(`vv-nonce:${scope}:${nonce}`, '1', 'EX', ttl, 'NX')) === 'OK'
      },
      async purgeExpired() { return 0 },
    }
  }
  return {
    async claim(scope, nonce, ttl) {
      const r = await sql`insert into replay_nonces (scope, nonce, expires_at) values (${scope}, ${nonce}, now() + make_interval(secs => ${ttl}))
        on conflict (scope, nonce) do update set expires_at = excluded.expires_at where replay_nonces.expires_at < now()
        returning 1`.execute(db)
      return r.rows.length === 1
    },
    async purgeExpired() {
      const r = await db.deleteFrom('replay_nonces').where('expires_at', '<', new Date()).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
