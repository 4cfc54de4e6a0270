/**
 * PostgreSQL's text, json and jsonb cannot hold U+0000: a raw NUL in a text parameter fails with "invalid byte
 * sequence", and an escaped one (`\u0000`) in JSON fails with "unsupported Unicode escape sequence". Both are valid
 * in JSON input, though — a process's command line as read from /proc is NUL-separated, and scanner reports carry
 * binary snippets. Rather than fail a whole batch (or a whole import) over one character, every NUL is stored as
 * U+FFFD, the replacement character, which marks where it was.
 *
 * Two layers: `nulSafeDialect` rewrites raw NULs in every query parameter (strings, arrays, plain objects), and
 * `pgJson` is what code that hands PostgreSQL a JSON document it built itself uses instead of JSON.stringify.
 */
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely'

const REPLACEMENT = '\uFFFD'
/** `\u0000` preceded by an even number of backslashes (an odd number escapes the backslash, not the NUL). */
const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g

/** The string with each NUL replaced by U+FFFD (the same string when it has none). */
export function nulSafeText(s: string): string {
  return s.includes('\0') ? s.replaceAll('\0', REPLACEMENT) : s
}

/**
 * JSON text with each escaped NUL replaced by U+FFFD, written as JSON.stringify writes it (the character itself), so
 * that the result is exactly JSON.stringify of the value with its NULs replaced. The same string when it has none.
 */
export function nulSafeJson(json: string): string {
  return json.includes('\\u0000') ? json.replace(ESCAPED_NUL, `$1${REPLACEMENT}`) : json
}

/** JSON.stringify for a JSON document bound as a json/jsonb parameter: storable whatever strings it holds. */
export function pgJson(value: unknown): string {
  return nulSafeJson(JSON.stringify(value))
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** A parameter with its NULs replaced; the same value (no copy) when it holds none. */
export function nulSafeValue(v: unknown): unknown {
  if (typeof v === 'string') return nulSafeText(v)
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    let out: unknown[] | undefined
    for (let i = 0; i < v.length; i++) {
      const safe = nulSafeValue(v[i])
      if (safe !== v[i]) (out ??= v.slice())[i] = safe
    }
    return out ?? v
  }
  if (!isPlainObject(v)) return v
  let out: Record<string, unknown> | undefined
  for (const key of Object.keys(v)) {
    const safeKey = nulSafeText(key)
    const safe = nulSafeValue(v[key])
    if (safeKey !== key || safe !== v[key]) {
      out ??= { ...v }
      if (safeKey !== key) delete out[key]
      out[safeKey] = safe
    }
  }
  return out ?? v
}

function nulSafeQuery(q: CompiledQuery): CompiledQuery {
  let params: unknown[] | undefined
  for (let i = 0; i < q.parameters.length; i++) {
    const safe = nulSafeValue(q.parameters[i])
    if (safe !== q.parameters[i]) (params ??= [...q.parameters])[i] = safe
  }
  return params ? { ...q, parameters: params } : q
}

/** A dialect whose queries have their parameters' NULs replaced before they reach the database. */
export function nulSafeDialect(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => nulSafeDriver(dialect.createDriver()),
  }
}

function nulSafeDriver(inner: Driver): Driver {
  // The inner driver gets its own connection objects back (they may carry private state).
  const original = new WeakMap<DatabaseConnection, DatabaseConnection>()
  const unwrap = (c: DatabaseConnection) => original.get(c) ?? c
  const driver: Driver = {
    init: () => inner.init(),
    destroy: () => inner.destroy(),
    async acquireConnection() {
      const conn = await inner.acquireConnection()
      const wrapped: DatabaseConnection = {
        executeQuery: <R>(q: CompiledQuery): Promise<QueryResult<R>> => conn.executeQuery<R>(nulSafeQuery(q)),
        streamQuery: <R>(q: CompiledQuery, chunkSize?: number) => conn.streamQuery<R>(nulSafeQuery(q), chunkSize),
      }
      original.set(wrapped, conn)
      return wrapped
    },
    releaseConnection: (c) => inner.releaseConnection(unwrap(c)),
    beginTransaction: (c, settings: TransactionSettings) => inner.beginTransaction(unwrap(c), settings),
    commitTransaction: (c) => inner.commitTransaction(unwrap(c)),
    rollbackTransaction: (c) => inner.rollbackTransaction(unwrap(c)),
  }
  if (inner.savepoint) driver.savepoint = (c, name, compile) => inner.savepoint!(unwrap(c), name, compile)
  if (inner.rollbackToSavepoint) driver.rollbackToSavepoint = (c, name, compile) => inner.rollbackToSavepoint!(unwrap(c), name, compile)
  if (inner.releaseSavepoint) driver.releaseSavepoint = (c, name, compile) => inner.releaseSavepoint!(unwrap(c), name, compile)
  return driver
}
