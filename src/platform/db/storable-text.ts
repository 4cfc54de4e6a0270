/**
 * Text PostgreSQL cannot store, made storable. Its text, json and jsonb types refuse U+0000 (a raw NUL fails with
 * "invalid byte sequence", an escaped `\u0000` with "unsupported Unicode escape sequence") and json(b) refuses an
 * escaped lone surrogate (`\ud800`). Both are valid in JSON input, though: a process's command line as read from
 * /proc is NUL-separated, scanner reports carry binary snippets, and a string cut in the middle of an emoji ends in
 * half a surrogate pair. Rather than fail a whole batch (or a whole import) over one character, each is stored as
 * U+FFFD, the replacement character, which marks where it was.
 *
 * Two layers: `storableTextDialect` rewrites every query parameter (strings, arrays, plain objects), and `pgJson` is
 * what code that hands PostgreSQL a JSON document it built itself uses instead of JSON.stringify.
 */
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely'

declare global {
  // ES2024, in Node since 20.0 (the project's lib is ES2023).
  interface String { isWellFormed(): boolean; toWellFormed(): string }
}

const REPLACEMENT = '\uFFFD'
/**
 * An escaped NUL or surrogate preceded by an even number of backslashes (an odd number escapes the backslash, not the
 * character). JSON.stringify escapes a surrogate only when it is unpaired, in lowercase.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g

/** The string with each NUL and unpaired surrogate replaced by U+FFFD (the same string when it has none). */
export function storableText(s: string): string {
  const t = s.isWellFormed() ? s : s.toWellFormed()
  return t.includes('\0') ? t.replaceAll('\0', REPLACEMENT) : t
}

/**
 * JSON text as JSON.stringify writes it, with each escaped NUL and unpaired surrogate replaced by U+FFFD written as
 * JSON.stringify writes it (the character itself): the result is exactly JSON.stringify of the value with its
 * unstorable characters replaced. The same string when it has none.
 */
export function storableJson(json: string): string {
  return json.includes('\\u0000') || json.includes('\\ud') ? json.replace(UNSTORABLE_ESCAPE, `$1${REPLACEMENT}`) : json
}

/** JSON.stringify for a JSON document bound as a json/jsonb parameter: storable whatever strings it holds. */
export function pgJson(value: unknown): string {
  return storableJson(JSON.stringify(value))
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** A parameter with its unstorable characters replaced; the same value (no copy) when it holds none. */
export function storableValue(v: unknown): unknown {
  if (typeof v === 'string') return storableText(v)
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    let out: unknown[] | undefined
    for (let i = 0; i < v.length; i++) {
      const safe = storableValue(v[i])
      if (safe !== v[i]) (out ??= v.slice())[i] = safe
    }
    return out ?? v
  }
  if (!isPlainObject(v)) return v
  let out: Record<string, unknown> | undefined
  for (const key of Object.keys(v)) {
    const safeKey = storableText(key)
    const safe = storableValue(v[key])
    if (safeKey !== key || safe !== v[key]) {
      out ??= { ...v }
      if (safeKey !== key) delete out[key]
      out[safeKey] = safe
    }
  }
  return out ?? v
}

function storableQuery(q: CompiledQuery): CompiledQuery {
  let params: unknown[] | undefined
  for (let i = 0; i < q.parameters.length; i++) {
    const safe = storableValue(q.parameters[i])
    if (safe !== q.parameters[i]) (params ??= [...q.parameters])[i] = safe
  }
  return params ? { ...q, parameters: params } : q
}

/** A dialect whose queries have their parameters' unstorable characters replaced before they reach the database. */
export function storableTextDialect(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => storableDriver(dialect.createDriver()),
  }
}

function storableDriver(inner: Driver): Driver {
  // The inner driver gets its own connection objects back (they may carry private state).
  const original = new WeakMap<DatabaseConnection, DatabaseConnection>()
  const unwrap = (c: DatabaseConnection) => original.get(c) ?? c
  const driver: Driver = {
    init: () => inner.init(),
    destroy: () => inner.destroy(),
    async acquireConnection() {
      const conn = await inner.acquireConnection()
      const wrapped: DatabaseConnection = {
        executeQuery: <R>(q: CompiledQuery): Promise<QueryResult<R>> => conn.executeQuery<R>(storableQuery(q)),
        streamQuery: <R>(q: CompiledQuery, chunkSize?: number) => conn.streamQuery<R>(storableQuery(q), chunkSize),
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
