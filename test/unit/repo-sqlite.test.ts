/** The embedded SQLite backend: the file, WAL, migrations run twice, and moor's own node:sqlite driver. */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll } from "vitest"
import { Repo } from "../../adapters/repo/Repo.ts"
import * as SqliteClient from "../../adapters/repo/sqlite/SqliteClient.ts"

const dir = mkdtempSync(join(tmpdir(), "moor-repo-sqlite-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const freshFile = () => join(dir, `case-${n++}`, "nested", "state.db")

const raw = (file: string) => new DatabaseSync(file, { timeout: 0 })

describe("SQLite repository file", () => {
  it.effect("is created with its directory on first use, in WAL mode", () =>
    Effect.gen(function* () {
      const file = freshFile()
      assert.isFalse(existsSync(file))
      yield* Repo.use((repo) => repo.ping).pipe(Effect.provide(Repo.layerSqlite(file)))
      assert.isTrue(existsSync(file))
      const db = raw(file)
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" })
      db.close()
    })
  )

  it.effect("opening the same file twice applies the migrations once and keeps the data", () =>
    Effect.gen(function* () {
      const file = freshFile()
      const layer = Repo.layerSqlite(file)
      yield* Repo.use((repo) =>
        repo.createRun({ id: "r1", trigger: "watch", scope: "s", host: "h", startedAt: 7 })
      ).pipe(Effect.provide(layer))
      const again = yield* Repo.use((repo) => repo.getRun("r1")).pipe(Effect.provide(Repo.layerSqlite(file)))
      expect(again?.run).toMatchObject({ id: "r1", trigger: "watch", startedAt: 7 })
      const db = raw(file)
      expect(db.prepare("SELECT migration_id, name FROM moor_migrations ORDER BY migration_id").all()).toEqual([
        { migration_id: 1, name: "initial" },
        { migration_id: 2, name: "failed_rollouts" },
        { migration_id: 3, name: "pulls" }
      ])
      db.close()
    })
  )

  it.effect("two repositories open on one file at once see each other's writes", () =>
    Effect.gen(function* () {
      const file = freshFile()
      const open = Effect.map(Layer.build(Repo.layerSqlite(file)), Context.get(Repo))
      const [a, b] = yield* Effect.all([open, open], { concurrency: 2 })
      yield* a.createRun({ id: "from-a", trigger: "cli", scope: "s", host: "h", startedAt: 1 })
      expect((yield* b.getRun("from-a"))?.run.id).toBe("from-a")
    }).pipe(Effect.scoped)
  )
})

const withSql = <A, E>(file: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  SqlClient.SqlClient.use(f).pipe(Effect.provide(SqliteClient.layer({ filename: file })))

describe("node:sqlite driver", () => {
  it.effect("a failed transaction rolls back; a failed savepoint keeps the outer work", () =>
    withSql(":memory:", (sql) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`
        yield* sql`INSERT INTO t ${sql.insert({ id: 1, v: "a" })}`
        const failed = yield* Effect.flip(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`UPDATE t SET v = ${"changed"} WHERE id = ${1}`
              yield* sql`INSERT INTO t ${sql.insert({ id: 1, v: "duplicate" })}`
            })
          )
        )
        expect(failed.reason._tag).toBe("ConstraintError")
        expect(yield* sql`SELECT v FROM t`).toEqual([{ v: "a" }])

        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO t ${sql.insert({ id: 2, v: "outer" })}`
            yield* Effect.ignore(
              sql.withTransaction(
                Effect.andThen(sql`INSERT INTO t ${sql.insert({ id: 3, v: "inner" })}`, Effect.fail("no"))
              )
            )
          })
        )
        expect((yield* sql<{ id: number }>`SELECT id FROM t ORDER BY id`).map((r) => r.id)).toEqual([1, 2])
      })
    )
  )

  it.effect("parameters: null, booleans, numbers, text; values() returns arrays", () =>
    withSql(":memory:", (sql) =>
      Effect.gen(function* () {
        const rows = yield* sql`SELECT ${null} AS n, ${true} AS b, ${1.5} AS f, ${"x"} AS s`
        expect(rows).toEqual([{ n: null, b: 1, f: 1.5, s: "x" }])
        expect(yield* sql`SELECT 1 AS a, 2 AS b`.values).toEqual([[1, 2]])
        // a cached statement used for values() still returns objects afterwards
        expect(yield* sql`SELECT 1 AS a, 2 AS b`).toEqual([{ a: 1, b: 2 }])
      })
    )
  )

  it.effect("a transaction takes the write lock at BEGIN (IMMEDIATE), so other processes wait", () => {
    const file = freshFile()
    return withSql(file, (sql) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`
        const other = raw(file)
        const blocked = yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`SELECT count(*) AS n FROM t` // reads only
            return Effect.runSync(
              Effect.try({ try: () => other.exec("BEGIN IMMEDIATE"), catch: (e) => (e as Error).message }).pipe(
                Effect.flip
              )
            )
          })
        )
        expect(blocked).toMatch(/locked|busy/i)
        other.exec("BEGIN IMMEDIATE") // free again after COMMIT
        other.exec("ROLLBACK")
        other.close()
      })
    )
  })

  it.effect("a file that cannot be created is a clear RepoError, not a crash", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Repo.use((repo) => repo.ping).pipe(Effect.provide(Repo.layerSqlite("/etc/passwd/not-a-dir/state.db")))
      )
      expect(error._tag).toBe("RepoError")
      expect(error.kind).toBe("unavailable")
      expect(error.message).toContain("cannot open the SQLite database /etc/passwd/not-a-dir/state.db")
      expect(error.message).not.toContain("\n")
    })
  )
})
