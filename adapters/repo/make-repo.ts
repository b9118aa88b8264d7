/**
 * The repository over any `effect/sql` client: the same queries run on SQLite and PostgreSQL.
 * Every write is scoped by what it concerns (a run id, or a scope and host); multi-row changes run
 * in one transaction. `makeRepo` brings the schema up to date before it returns.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { fromMigrationError, fromSqlError, type RepoError } from "./errors.ts"
import { makeHostState } from "./host-state.ts"
import { makeLeases } from "./leases.ts"
import { migrate } from "./migrations.ts"
import { edge } from "./rows.ts"
import { makeRuns } from "./runs.ts"
import type { RepoShape } from "./shape.ts"

export interface RepoOptions {
  /** Restarts older than this (relative to the newest recorded) are pruned. Default 24 h. */
  readonly restartRetentionMs?: number | undefined
}

export const makeRepo = (options: RepoOptions = {}): Effect.Effect<RepoShape, RepoError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* migrate.pipe(
      Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError("migrate", e))),
      Effect.catchTag("MigrationError", (e) => Effect.fail(fromMigrationError("migrate", e)))
    )
    const backend = sql.onDialectOrElse({ pg: () => "postgres" as const, orElse: () => "sqlite" as const })
    const forUpdate = sql.literal(backend === "postgres" ? " FOR UPDATE" : "")
    const shape: RepoShape = {
      backend,
      ping: sql`SELECT 1 AS ok`.pipe(Effect.asVoid, edge("ping"), Effect.withSpan("Repo.ping")),
      ...makeRuns(sql),
      ...makeHostState(sql, forUpdate, options.restartRetentionMs ?? 24 * 60 * 60 * 1000),
      ...makeLeases(sql, forUpdate)
    }
    return shape
  })
