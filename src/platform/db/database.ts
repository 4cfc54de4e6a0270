import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { storableTextDialect } from './storable-text.js'
import { PGliteDialect } from './pglite-dialect.js'
import type { DB } from './schema.js'

export type { DB } from './schema.js'
export type Database = Kysely<DB>

/** A connected database: the Kysely handle plus what Kysely does not cover (scripts, liveness). */
export interface DatabaseHandle {
  readonly db: Database
  readonly kind: 'pglite' | 'postgres'
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite database is used. */
  url?: string | undefined
  /** Directory of the embedded database; `memory` (or undefined) keeps it in memory. */
  dataDir?: string | undefined
  poolSize?: number
  /** Schema to put first on the search_path (tests isolate by schema on a shared server). */
  schema?: string | undefined
}

// int8 as number (counts, sequence numbers stay far below 2^53), as PGlite already does.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  }) as typeof pg.types.getTypeParser,
}

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) return openPostgres(opts.url, opts.poolSize ?? 10, opts.schema)
  return openPGlite(opts.dataDir)
}

async function openPostgres(url: string, poolSize: number, schema: string | undefined): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: pgTypes,
    ...(schema ? { options: `-c search_path=${schema},public` } : {}),
  })
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  if (schema) await pool.query(`create schema if not exists "${schema.replace(/"/g, '')}"`)
  const db = new Kysely<DB>({ dialect: storableTextDialect(new PostgresDialect({ pool })) })
  return {
    db,
    kind: 'postgres',
    async ping() { await sql`select 1`.execute(db) },
    async close() { await db.destroy() },
  }
}

async function openPGlite(dataDir: string | undefined): Promise<DatabaseHandle> {
  let pglite: PGlite
  if (!dataDir || dataDir === 'memory') {
    pglite = new PGlite()
  } else {
    const dir = resolve(dataDir)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    pglite = new PGlite(join(dir, 'pglite'))
  }
  await pglite.waitReady
  const db = new Kysely<DB>({ dialect: storableTextDialect(new PGliteDialect(pglite)) })
  return {
    db,
    kind: 'pglite',
    async ping() { await sql`select 1`.execute(db) },
    async close() { await db.destroy() },
  }
}
