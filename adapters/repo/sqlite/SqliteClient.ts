/**
 * moor's own SQLite driver for `effect/sql`: a `SqlClient` over Node 24's built-in `node:sqlite`
 * (`DatabaseSync`). There is no working Effect 4 SQLite client on npm, and this one needs nothing
 * installed. One connection per client, shared through a semaphore (SQLite serialises writers
 * anyway); prepared statements are cached; every top-level transaction is `BEGIN IMMEDIATE`, so a
 * transaction that reads then writes holds the write lock from its first statement and two
 * processes never deadlock upgrading a read lock. A file database runs in WAL mode with a busy
 * timeout, so a second process waits for the lock instead of failing.
 */
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite"
import { Effect, Layer, type Scope, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, SqlError, Statement } from "effect/sql"

export interface SqliteClientConfig {
  /** A file path, or `:memory:`. The file's directory is created when missing. */
  readonly filename: string
  /** How long a statement waits for another process's lock before failing. Default 5000 ms. */
  readonly busyTimeoutMs?: number | undefined
  /** Prepared statements kept per connection. Default 200. */
  readonly statementCacheSize?: number | undefined
}

/** node:sqlite throws errors whose `errcode` is SQLite's extended result code; effect/sql reads `errno`. */
const toSqlError = (cause: unknown, operation: string): SqlError.SqlError => {
  const raw = cause as { readonly message?: unknown; readonly errcode?: unknown }
  const message = typeof raw.message === "string" ? raw.message : String(cause)
  const plain = { message, errno: typeof raw.errcode === "number" ? raw.errcode : undefined }
  return new SqlError.SqlError({ reason: SqlError.classifySqliteError(plain, { message, operation }) })
}

const toParam = (value: unknown): SQLInputValue => {
  if (value === undefined || value === null) return null
  if (typeof value === "boolean") return value ? 1 : 0
  if (value instanceof Date) return value.toISOString()
  if (typeof value === "object" && !ArrayBuffer.isView(value)) return JSON.stringify(value)
  return value as SQLInputValue
}

const openDatabase = (config: SqliteClientConfig): DatabaseSync => {
  const memory = config.filename === ":memory:"
  if (!memory) mkdirSync(dirname(config.filename), { recursive: true })
  const db = new DatabaseSync(config.filename, { timeout: config.busyTimeoutMs ?? 5000 })
  if (!memory) db.exec("PRAGMA journal_mode = WAL")
  db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
  return db
}

const makeConnection = (db: DatabaseSync, cacheSize: number): SqlConnection.Connection => {
  const cache = new Map<string, StatementSync>()
  const prepared = (sql: string): StatementSync => {
    const hit = cache.get(sql)
    if (hit !== undefined) {
      cache.delete(sql) // re-insert: the Map's order is the LRU order
      cache.set(sql, hit)
      return hit
    }
    const statement = db.prepare(sql)
    cache.set(sql, statement)
    if (cache.size > cacheSize) {
      const oldest = cache.keys().next().value
      if (oldest !== undefined) cache.delete(oldest)
    }
    return statement
  }
  const rows = (statement: StatementSync, params: ReadonlyArray<unknown>, arrays: boolean) => {
    statement.setReturnArrays(arrays)
    return statement.all(...params.map(toParam))
  }
  const run = <A>(operation: string, f: () => A) =>
    Effect.try({ try: f, catch: (cause) => toSqlError(cause, operation) })
  const transformed = <A extends object>(
    result: ReadonlyArray<A>,
    transformRows: (<B extends object>(row: ReadonlyArray<B>) => ReadonlyArray<B>) | undefined
  ) => (transformRows === undefined ? result : transformRows(result))
  type Row = Record<string, SQLInputValue>

  return {
    execute: (sql, params, transformRows) =>
      run("execute", () => transformed(rows(prepared(sql), params, false) as Array<Row>, transformRows)),
    executeRaw: (sql, params) => run("executeRaw", () => rows(prepared(sql), params, false)),
    executeStream: (sql, params, transformRows) =>
      Stream.fromIterableEffect(
        run("executeStream", () => transformed(rows(prepared(sql), params, false) as Array<Row>, transformRows))
      ),
    executeValues: (sql, params) =>
      run("executeValues", () => rows(prepared(sql), params, true) as unknown as Array<Array<unknown>>),
    executeValuesUnprepared: (sql, params) =>
      run("executeValuesUnprepared", () => rows(db.prepare(sql), params, true) as unknown as Array<Array<unknown>>),
    executeUnprepared: (sql, params, transformRows) =>
      run("executeUnprepared", () => transformed(rows(db.prepare(sql), params, false) as Array<Row>, transformRows))
  }
}

/** A `SqlClient` on one SQLite database, closed when the scope ends. */
export const make = (
  config: SqliteClientConfig
): Effect.Effect<SqlClient.SqlClient, SqlError.SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => openDatabase(config),
        catch: (cause) =>
          new SqlError.SqlError({
            reason: new SqlError.ConnectionError({
              cause,
              message: `cannot open the SQLite database ${config.filename}: ${cause instanceof Error ? cause.message : String(cause)}`,
              operation: "open"
            })
          })
      }),
      (opened) => Effect.sync(() => opened.isOpen && opened.close())
    )
    const connection = makeConnection(db, config.statementCacheSize ?? 200)
    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: () => db.isTransaction
    })
    return yield* SqlClient.make({
      ...acquirers,
      compiler: Statement.makeCompilerSqlite(),
      driver: "moor-node-sqlite",
      spanAttributes: [["db.system.name", "sqlite"]],
      beginTransaction: "BEGIN IMMEDIATE",
      prepareTransactionControls: true
    })
  })

/** Provides the generic `SqlClient.SqlClient` on one SQLite database. */
export const layer = (config: SqliteClientConfig): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> =>
  Layer.effect(SqlClient.SqlClient, make(config)).pipe(Layer.provide(Reactivity.layer))
