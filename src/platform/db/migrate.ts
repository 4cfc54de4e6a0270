import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import type { DatabaseHandle } from './database.js'

/** migrations/ at the package root; the same depth from src/ and dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url))

export interface Migration { version: string; name: string; sql: string; checksum: string }

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(`${dir}/${file}`, 'utf8')
      return {
        version: file.slice(0, 4),
        name: file.slice(5, -4),
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      }
    })
}

export interface MigrateResult { applied: string[]; current: string | undefined }

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so that several
 * processes starting at once migrate exactly once. An applied migration whose file changed is an error.
 */
export async function migrate(handle: DatabaseHandle, migrations = loadMigrations()): Promise<MigrateResult> {
  const LOCK = 7_246_174_421
  return handle.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${LOCK})`.execute(conn)
    try {
      await sql`create table if not exists schema_migrations (
        version text primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`.execute(conn)
      const done = new Map((await conn.selectFrom('schema_migrations').selectAll().execute()).map((r) => [r.version, r]))
      const applied: string[] = []
      for (const m of migrations) {
        const prior = done.get(m.version)
        if (prior) {
          if (prior.checksum !== m.checksum) {
            throw new Error(`migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`)
          }
          continue
        }
        await conn.transaction().execute(async (trx) => {
          // A parameterless query goes through the simple protocol on both drivers, so a script may hold many statements.
          await sql.raw(m.sql).execute(trx)
          await trx.insertInto('schema_migrations').values({ version: m.version, name: m.name, checksum: m.checksum }).execute()
        })
        applied.push(`${m.version}_${m.name}`)
      }
      return { applied, current: migrations.at(-1)?.version }
    } finally {
      await sql`select pg_advisory_unlock(${LOCK})`.execute(conn)
    }
  })
}
