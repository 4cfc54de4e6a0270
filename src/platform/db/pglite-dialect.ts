import type { PGlite } from '@electric-sql/pglite'
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely'

/**
 * Kysely dialect for embedded PGlite. PGlite is one connection, so the driver hands it out to one holder at a
 * time: a transaction owns it from BEGIN to COMMIT and other queries queue behind it instead of interleaving.
 * (kysely-pglite exists but drags a code generator CLI and ~100 packages into production installs.)
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}
  createAdapter() { return new PostgresAdapter() }
  createDriver(): Driver { return new PGliteDriver(this.pglite) }
  createIntrospector(db: Kysely<any>) { return new PostgresIntrospector(db) }
  createQueryCompiler() { return new PostgresQueryCompiler() }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}
  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    // Without parameters use the simple protocol, as node-postgres does, so multi-statement scripts work alike.
    const res = compiled.parameters.length === 0
      ? (await this.pglite.exec(compiled.sql)).at(-1) ?? { rows: [] as R[], affectedRows: 0, fields: [] }
      : await this.pglite.query<R>(compiled.sql, compiled.parameters as unknown[])
    const result: QueryResult<R> = { rows: res.rows as R[] }
    if (res.affectedRows !== undefined) return { ...result, numAffectedRows: BigInt(res.affectedRows) }
    return result
  }
  // PGlite materialises results; stream them in chunks from the materialised rows.
  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    const res = await this.executeQuery<R>(compiled)
    for (let i = 0; i < res.rows.length; i += chunkSize) yield { rows: res.rows.slice(i, i + chunkSize) }
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection
  private queue: Promise<void> = Promise.resolve()
  private release: (() => void) | undefined

  constructor(private readonly pglite: PGlite) {
    this.connection = new PGliteConnection(pglite)
  }
  async init() { await this.pglite.waitReady }
  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue
    let release!: () => void
    this.queue = new Promise<void>((resolve) => { release = resolve })
    await previous
    this.release = release
    return this.connection
  }
  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings) {
    let sql = 'begin'
    if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`
    if (settings.accessMode) sql += ` ${settings.accessMode}`
    await conn.executeQuery(CompiledQuery.raw(sql))
  }
  async commitTransaction(conn: DatabaseConnection) { await conn.executeQuery(CompiledQuery.raw('commit')) }
  async rollbackTransaction(conn: DatabaseConnection) { await conn.executeQuery(CompiledQuery.raw('rollback')) }
  async releaseConnection() {
    const release = this.release
    this.release = undefined
    release?.()
  }
  async destroy() { if (!this.pglite.closed) await this.pglite.close() }
}
